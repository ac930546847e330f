"""Hybrid retrieval: dense (chunk and sentence vectors) + BM25, fused at score level.

Plain reciprocal-rank fusion throws the scores away: a BM25 match on one rare term and a
weak match on common ones look the same. Here both scores are put on a common 0..1 scale
(cosine as is; BM25 divided by the query's best BM25 score) and mixed with a weight
calibrated on the dev set (`Settings.dense_weight`, see docs/quality.md). Every candidate
from either side gets both scores, so fusion never guesses a missing one.

`Retriever.retrieve` runs named steps: embed the question, expand it, search the dense and
the keyword side, fill in the side a candidate is missing, fuse, rerank, make passages. How
the two sides are fused is looked up in `FUSIONS` (fusion name -> function), as haystack's
DocumentJoiner maps its join modes to functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dadong_qa.config import Settings
from dadong_qa.embed import Embedder
from dadong_qa.index import Index
from dadong_qa.retrieval.expand import Query, analyze, spelled_out
from dadong_qa.retrieval.rerank import Reranker
from dadong_qa.schema import Passage
from dadong_qa.text import normalize, tokenize

MODES = ("hybrid", "dense", "bm25")  # the one list of retrieval modes (CLI choices, API `mode`)
EXPANSION_MIN_CREDIT = 0.3  # weaker expansions help answer scoring but are too loose for BM25

Scores = dict[int, float]  # chunk id -> score of one side
Ranked = list[tuple[float, int]]  # (fused score, chunk id), not yet sorted


def fuse_dense(dense: Scores, bm25: Scores, settings: Settings) -> Ranked:
    """Dense-only retrieval: the cosine is the score."""
    return [(dense.get(c, 0.0), c) for c in set(dense) | set(bm25)]


def fuse_bm25(dense: Scores, bm25: Scores, settings: Settings) -> Ranked:
    """Keyword-only retrieval: the normalised BM25 score is the score."""
    return [(bm25.get(c, 0.0), c) for c in set(dense) | set(bm25)]


def fuse_weighted(dense: Scores, bm25: Scores, settings: Settings) -> Ranked:
    """Score-level fusion: `dense_weight` x cosine (negatives as 0) + the rest x BM25."""
    w = settings.dense_weight
    return [(w * max(dense.get(c, 0.0), 0.0) + (1.0 - w) * bm25.get(c, 0.0), c) for c in set(dense) | set(bm25)]


def fuse_rrf(dense: Scores, bm25: Scores, settings: Settings) -> Ranked:
    """Reciprocal-rank fusion: 1 / (rrf_k + rank) summed over both sides; the scores only order."""
    fused: Scores = {}
    for scores in (dense, bm25):
        for rank, cid in enumerate(sorted(scores, key=lambda c: -scores[c])):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (settings.rrf_k + rank + 1)
    return [(s, c) for c, s in fused.items()]


# Hybrid mode uses `Settings.fusion`; the single-side modes score by their own side.
FUSIONS: dict[str, Callable[[Scores, Scores, Settings], Ranked]] = {
    "weighted": fuse_weighted,
    "rrf": fuse_rrf,
    "dense": fuse_dense,
    "bm25": fuse_bm25,
}
HYBRID_FUSIONS = ("weighted", "rrf")


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
        if settings.fusion not in HYBRID_FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(HYBRID_FUSIONS)}, not {settings.fusion!r}")
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker

    def retrieve(self, question: str, k: int | None = None, mode: str = "hybrid") -> Retrieval:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        n = self.settings.candidates
        if self.settings.expand_queries:  # every step searches for "社会消费品零售总额", not "社零"
            question = spelled_out(question, self.index.has_term)
        qvec = self._embed(question)
        query = self._analyze(question)
        qtokens = self._keyword_query(question, query)
        dense, sentence_cos = self._dense(qvec, n) if mode != "bm25" else ({}, {})
        bm25 = self._sparse(qtokens, n) if mode != "dense" else {}
        if mode == "hybrid":
            self._fill_missing(qvec, dense, bm25)
        fusion = FUSIONS[self.settings.fusion if mode == "hybrid" else mode]
        scored = sorted(fusion(dense, bm25, self.settings), key=lambda t: (-t[0], t[1]))
        scored, rerank = self._rerank(question, scored)
        passages = self._passages(scored[: k or self.settings.top_k], dense, bm25, rerank)
        return Retrieval(passages, qvec, qtokens, query, sentence_cos)

    def _embed(self, question: str) -> np.ndarray:
        return self.embedder.encode([normalize(question)])[0]

    def _analyze(self, question: str) -> Query:
        if self.settings.expand_queries:
            return analyze(question, self.index.has_term, self._neighbours)
        return analyze(question)

    def _keyword_query(self, question: str, query: Query) -> list[str]:
        """BM25 tokens of the question plus those of its strong expansions."""
        qtokens = tokenize(question)
        for expansions in query.expansions.values():
            # Expansion words join the keyword query once each, so they add to, never swamp it.
            for word, credit in expansions:
                if credit >= EXPANSION_MIN_CREDIT:
                    qtokens.extend(t for t in tokenize(word) if t not in qtokens)
        return qtokens

    def _dense(self, qvec: np.ndarray, n: int) -> tuple[Scores, Scores]:
        """Chunk cosines (a chunk also gets its best sentence's cosine) and sentence cosines."""
        dense: Scores = dict(self.index.dense_search(qvec, n))
        sentence_cos: Scores = {}
        for sid, cos in self.index.dense_search(qvec, n, sentences=True):
            sentence_cos[sid] = cos
            # Looked up per hit: a sentence -> chunks table over the whole index would cost
            # ~1 s to rebuild after every add or remove at 100k chunks.
            for cid in self.index.chunks_of_sentence(sid):
                dense[cid] = max(dense.get(cid, -1.0), cos)
        return dense, sentence_cos

    def _sparse(self, qtokens: list[str], n: int) -> Scores:
        """The top `n` BM25 scores, divided by the best one (so 0..1)."""
        ids, scores = self.index.bm25_scores(qtokens)
        if not len(scores) or scores.max() <= 0:
            return {}
        top = np.argsort(-scores)[:n]
        best = float(scores[top[0]])
        return {int(ids[i]): float(scores[i]) / best for i in top if scores[i] > 0}

    def _fill_missing(self, qvec: np.ndarray, dense: Scores, bm25: Scores) -> None:
        """Give keyword-only candidates their exact cosine, so none is scored on one signal only."""
        missing = [c for c in set(dense) | set(bm25) if c not in dense]
        if missing:
            vecs = self.index.chunk_vectors(missing)
            for c, cos in zip(missing, vecs @ qvec, strict=True):
                dense[c] = float(cos)

    def _rerank(self, question: str, scored: Ranked) -> tuple[Ranked, Scores]:
        """Let the cross-encoder, if any, order the top fused candidates; fusion only chose them."""
        if self.reranker is None or not scored:
            return scored, {}
        top = [c for _, c in scored[: self.settings.rerank_top]]
        ce = self.reranker.score(question, [self.index.chunks[c].search_text for c in top])
        rerank = {c: float(s) for c, s in zip(top, ce, strict=True)}
        reordered = sorted(((rerank[c], c) for c in top), key=lambda t: (-t[0], t[1]))
        return reordered + scored[len(top) :], rerank

    def _passages(self, scored: Ranked, dense: Scores, bm25: Scores, rerank: Scores) -> list[Passage]:
        passages = []
        for score, cid in scored:
            chunk = self.index.chunks[cid]
            doc = self.index.doc_meta(chunk.doc_id)
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
        return passages

    def _neighbours(self, terms: list[str]) -> list[list[tuple[str, float]]]:
        return self.index.neighbours(self.embedder.encode([normalize(t) for t in terms]))
