"""Hybrid retrieval: dense (chunk and sentence vectors) + BM25, fused at score level.

Plain reciprocal-rank fusion throws the scores away: a BM25 match on one rare term and a
weak match on common ones look the same. Here both scores are put on a common 0..1 scale
(cosine as is; BM25 divided by the query's best BM25 score) and mixed with a weight
calibrated on the dev set (`Settings.dense_weight`, see docs/quality.md). Every candidate
from either side gets both scores, so fusion never guesses a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import Settings
from .embed import Embedder
from .expand import Query, analyze
from .index import Index
from .rerank import Reranker
from .schema import Passage
from .text import normalize, tokenize

MODES = ("hybrid", "dense", "bm25")
EXPANSION_MIN_CREDIT = 0.3  # weaker expansions help answer scoring but are too loose for BM25


@dataclass
class Retrieval:
    """What the answer stage needs from retrieval, besides the passages."""

    passages: list[Passage]
    query_vector: np.ndarray
    query_tokens: list[str]
    query: Query
    sentence_cos: dict[int, float] = field(default_factory=dict)  # sentence id -> cosine


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings, reranker: Reranker | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker

    def retrieve(self, question: str, k: int | None = None, mode: str = "hybrid") -> Retrieval:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        k = k or self.settings.top_k
        n = self.settings.candidates
        index = self.index
        qvec = self.embedder.encode([normalize(question)])[0]
        if self.settings.expand_queries:
            query = analyze(question, index.has_term, self._neighbours)
        else:
            query = analyze(question)
        qtokens = tokenize(question)
        for expansions in query.expansions.values():
            # Expansion words join the keyword query once each, so they add to, never swamp it.
            for word, credit in expansions:
                if credit >= EXPANSION_MIN_CREDIT:
                    qtokens.extend(t for t in tokenize(word) if t not in qtokens)

        dense: dict[int, float] = {}
        sentence_cos: dict[int, float] = {}
        if mode != "bm25":
            dense.update(index.dense_search(qvec, n))
            for sid, cos in index.dense_search(qvec, n, sentences=True):
                sentence_cos[sid] = cos
                # Looked up per hit: a sentence -> chunks table over the whole index would cost
                # ~1 s to rebuild after every add or remove at 100k chunks.
                for cid in index.chunks_of_sentence(sid):
                    dense[cid] = max(dense.get(cid, -1.0), cos)

        bm25: dict[int, float] = {}
        if mode != "dense":
            ids, scores = index.bm25_scores(qtokens)
            if len(scores) and scores.max() > 0:
                top = np.argsort(-scores)[:n]
                best = float(scores[top[0]])
                bm25 = {int(ids[i]): float(scores[i]) / best for i in top if scores[i] > 0}

        candidates = set(dense) | set(bm25)
        if mode == "hybrid":
            # Fill in the missing side exactly, so no candidate is scored on one signal only.
            missing = [c for c in candidates if c not in dense]
            if missing:
                vecs = index.chunk_vectors(missing)
                for c, cos in zip(missing, vecs @ qvec, strict=True):
                    dense[c] = float(cos)
        scored = [(self._fuse(c, dense, bm25, mode), c) for c in candidates]
        if mode == "hybrid" and self.settings.fusion == "rrf":
            scored = self._rrf(dense, bm25)
        scored.sort(key=lambda t: (-t[0], t[1]))
        rerank: dict[int, float] = {}
        if self.reranker is not None and scored:
            # The cross-encoder reads question and passage together; it decides the order of the
            # top candidates, fusion only chose them.
            top = [c for _, c in scored[: self.settings.rerank_top]]
            ce = self.reranker.score(question, [index.chunks[c].search_text for c in top])
            rerank = {c: float(s) for c, s in zip(top, ce, strict=True)}
            scored = sorted(((rerank[c], c) for c in top), key=lambda t: (-t[0], t[1])) + scored[len(top) :]

        passages = []
        for score, cid in scored[:k]:
            chunk = index.chunks[cid]
            doc = index.doc_meta(chunk.doc_id)
            passages.append(
                Passage(
                    text=chunk.text,
                    doc_id=chunk.doc_id,
                    score=round(score, 6),
                    chunk_id=cid,
                    title=doc.title,
                    date=doc.date,
                    dense=round(dense.get(cid, 0.0), 6),
                    bm25=round(bm25.get(cid, 0.0), 6),
                    sentence_ids=list(chunk.sentence_ids),
                    rerank=round(rerank[cid], 6) if cid in rerank else None,
                )
            )
        return Retrieval(passages, qvec, qtokens, query, sentence_cos)

    def _neighbours(self, terms: list[str]) -> list[list[tuple[str, float]]]:
        return self.index.neighbours(self.embedder.encode([normalize(t) for t in terms]))

    def _fuse(self, cid: int, dense: dict[int, float], bm25: dict[int, float], mode: str) -> float:
        if mode == "dense":
            return dense.get(cid, 0.0)
        if mode == "bm25":
            return bm25.get(cid, 0.0)
        w = self.settings.dense_weight
        return w * max(dense.get(cid, 0.0), 0.0) + (1.0 - w) * bm25.get(cid, 0.0)

    def _rrf(self, dense: dict[int, float], bm25: dict[int, float]) -> list[tuple[float, int]]:
        k = self.settings.rrf_k
        fused: dict[int, float] = {}
        for scores in (dense, bm25):
            for rank, cid in enumerate(sorted(scores, key=lambda c: -scores[c])):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank + 1)
        return list((s, c) for c, s in fused.items())
