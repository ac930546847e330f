"""One version of the index in memory: its articles, sentences, chunks, segments and backend.

Queries (dense and BM25 search, vectors, metadata) read it; changes (`with_documents`,
`without`) return a new `Index` and leave this one untouched, so readers keep a consistent view.
Building a segment is `build.py`'s job; writing and reading versions on disk is `storage.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dadong_qa.embed import Embedder
from dadong_qa.ingestion.chunk import ChunkParams
from dadong_qa.ingestion.near_dup import signature
from dadong_qa.schema import Chunk, Document, Sentence

from .backends import VectorBackend, new_backend
from .build import NewDocument, SegmentBatch, build_segment
from .errors import embedder_mismatch
from .keyword import KeywordSegment, KeywordStats, length_norms, score
from .records import DocRecord, ParagraphKeys, Progress, Segment, now, paragraph_hashes, segment_name

MAX_SEGMENTS = 8  # more than this: merge all but the largest
MAX_DEAD_SHARE = 0.25  # removed rows above this share of all rows: merge everything
DENSE_SLACK = 8  # extra neighbours fetched, as a backend may hold rows newer than this version


@dataclass
class Index:
    """One immutable version of the index, in memory. Changes return a new `Index`."""

    embedder_name: str
    dim: int
    params: ChunkParams
    docs: dict[str, DocRecord] = field(default_factory=dict)
    sentences: dict[int, Sentence] = field(default_factory=dict)
    chunks: dict[int, Chunk] = field(default_factory=dict)
    backend: VectorBackend | None = None
    segments: list[Segment] = field(default_factory=list)
    stats: KeywordStats = field(default_factory=KeywordStats)
    dead_chunks: frozenset[int] = frozenset()
    dead_sentences: frozenset[int] = frozenset()
    next_sid: int = 0
    next_cid: int = 0
    built_at: str = ""
    updated_at: str = ""
    version: str = ""
    # Words of the articles with their vectors, to find corpus words close in meaning to a
    # question word the articles never use ("绿化" -> "绿地"). Stored per segment.
    vocab: list[str] = field(default_factory=list)
    vocab_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float16))
    _vocab32: np.ndarray | None = field(default=None, repr=False)
    _rows: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _norms: list[np.ndarray] | None = field(default=None, repr=False)

    # ------------------------------------------------------------ queries

    @property
    def backend_kind(self) -> str:
        return self.backend.kind if self.backend is not None else "faiss"

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = False) -> list[tuple[int, float]]:
        """(id, cosine) of the `k` nearest chunks (or sentences)."""
        live = self.sentences if sentences else self.chunks
        if self.backend is None or not live or k <= 0:
            return []
        hits = self.backend.search(np.asarray(vector, dtype=np.float32), k + DENSE_SLACK, sentences)
        return [(i, s) for i, s in hits if i in live][:k]

    def bm25_scores(self, query_tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 scores); a chunk left out, or with score 0, matches no query token.

        FAISS backend: every live chunk, scored here. Milvus: Milvus's own BM25 (jieba analyzer)
        top hits only.
        """
        if self.backend is not None and self.chunks:
            found = self.backend.keyword_search(" ".join(query_tokens), limit=max(200, 4 * len(query_tokens)))
            if found is not None:
                ids, scores = found
                keep = np.array([int(i) in self.chunks for i in ids], dtype=bool)
                return ids[keep] if len(ids) else ids, scores[keep] if len(ids) else scores
        ids, alive = self._row_ids()
        if not len(ids):
            return ids, np.zeros(0, dtype=np.float32)
        segments = [s.keywords for s in self.segments]
        if self._norms is None:
            self._norms = length_norms(segments, self.stats)
        parts = score(query_tokens, segments, self.stats, self._norms)
        return ids[alive], np.concatenate(parts)[alive]

    def _row_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk id of every keyword row across segments, and which rows are live."""
        if self._rows is None:
            ids = np.concatenate([s.chunk_ids for s in self.segments]) if self.segments else np.zeros(0, dtype=np.int64)
            dead = np.fromiter(self.dead_chunks, dtype=np.int64, count=len(self.dead_chunks))
            self._rows = (ids, ~np.isin(ids, dead))
        return self._rows

    def has_term(self, term: str) -> bool:
        """Whether a BM25 token (word or character bigram) occurs in any chunk."""
        return term in self.stats.df

    def neighbours(self, vectors: np.ndarray, k: int = 5, min_cos: float = 0.6) -> list[list[tuple[str, float]]]:
        """For each query vector, up to `k` article words with cosine >= `min_cos`, best first."""
        if not len(self.vocab) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        if self._vocab32 is None:
            self._vocab32 = self.vocab_vectors.astype(np.float32)
        sims = np.asarray(vectors, dtype=np.float32) @ self._vocab32.T
        out = []
        for row in sims:
            top = np.argpartition(-row, min(k, len(row) - 1))[:k]
            out.append(sorted(((self.vocab[i], float(row[i])) for i in top if row[i] >= min_cos), key=lambda t: -t[1]))
        return out

    def idf(self, term: str) -> float:
        """Inverse chunk frequency of a BM25 token; unseen terms get the maximum."""
        return self.stats.idf(term)

    def sentence_vectors(self, sids: list[int]) -> np.ndarray:
        """Stored vectors of these sentences, one row each."""
        if not sids or self.backend is None:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.backend.vectors([int(s) for s in sids], sentences=True)

    def chunk_vectors(self, cids: list[int]) -> np.ndarray:
        """Stored vectors of these chunks, one row each."""
        if not cids or self.backend is None:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.backend.vectors([int(c) for c in cids], sentences=False)

    def doc_meta(self, doc_id: str) -> Document:
        return self.docs[doc_id].doc

    def doc_sentence_ids(self, doc_id: str) -> list[int]:
        return self.docs[doc_id].sentence_ids

    def chunk_heading(self, cid: int) -> str | None:
        chunk = self.chunks.get(cid)
        return chunk.heading if chunk is not None else None

    def signature_of(self, doc_id: str) -> np.ndarray:
        """The article's MinHash signature (computed once for indexes written before they were stored)."""
        rec = self.docs[doc_id]
        if rec.signature is None:
            rec.signature = signature(rec.doc.text)
        return rec.signature

    def paragraph_keys(self, exclude: Iterable[str] = ()) -> ParagraphKeys:
        """The shared-paragraph keys of all articles but `exclude`, for cross-article de-duplication."""
        skip = set(exclude)
        out = ParagraphKeys()
        for doc_id, rec in self.docs.items():
            if doc_id not in skip:
                if rec.para_keys is None:  # written by an older version of this program
                    rec.para_keys = paragraph_hashes(rec.doc)
                out._hashes.update(rec.para_keys)
        return out

    def chunks_of_sentence(self, sid: int) -> list[int]:
        """Ids of the chunks that contain sentence `sid` (without scanning every chunk)."""
        sentence = self.sentences.get(sid)
        if sentence is None:
            return []
        rec = self.docs[sentence.doc_id]
        return [c for c in rec.chunk_ids if sid in self.chunks[c].sentence_ids]

    # ------------------------------------------------------------ changes

    @classmethod
    def empty(
        cls,
        embedder: Embedder,
        params: ChunkParams,
        backend: str = "faiss",
        uri: str = "",
        index_dir: str | Path = "index",
    ) -> Index:
        stamp = now()
        return cls(
            embedder_name=embedder.name,
            dim=embedder.dim,
            params=params,
            backend=new_backend(backend, embedder.dim, uri, Path(index_dir)),
            built_at=stamp,
            updated_at=stamp,
        )

    def with_documents(
        self,
        docs: Sequence[NewDocument],
        embedder: Embedder,
        progress: Progress | None = None,
    ) -> Index:
        """A new index with `docs` added as one segment; an article with an existing doc_id is replaced.

        Each item is (article, paragraphs dropped as duplicates[, hashed keys of those paragraphs]).
        """
        self._check_embedder(embedder)
        new = self._without({item[0].doc_id for item in docs})
        if docs:
            batch = build_segment(docs, embedder, self.params, new.next_sid, new.next_cid, set(self.vocab), progress)
            new = new._with_segment(batch)._compacted()
            if progress:
                progress("index", 1, 1)
        new.updated_at = now()
        return new

    def _with_segment(self, batch: SegmentBatch) -> Index:
        """This index (already a private copy) with a built segment added in place."""
        assert self.backend is not None and batch.rows is not None
        self.backend = self.backend.with_segment(batch.segment.name, batch.rows)
        batch.rows = None  # the backend may have taken the arrays: drop the last reference
        self.segments = [*self.segments, batch.segment]
        self._set_vocab()
        keywords = batch.segment.keywords
        self.stats = self.stats.plus(keywords.doc_freq(), len(batch.chunks), float(keywords.lengths.sum()))
        self.docs.update(batch.records)
        self.sentences.update((s.sid, s) for s in batch.sentences)
        self.chunks.update((c.cid, c) for c in batch.chunks)
        self.next_sid, self.next_cid = batch.next_sid, batch.next_cid
        self._rows = None
        self._norms = None
        return self

    def without(self, doc_ids: set[str]) -> Index:
        """A new index without these articles."""
        new = self._without(doc_ids)._compacted()
        new.updated_at = now()
        return new

    def _without(self, doc_ids: set[str]) -> Index:
        """A private copy of this index without these articles (rows marked dead, not yet compacted)."""
        gone = [self.docs[d] for d in doc_ids if d in self.docs]
        drop_c = {c for r in gone for c in r.chunk_ids}
        drop_s = {s for r in gone for s in r.sentence_ids}
        backend = self.backend
        if gone and backend is not None:
            backend = backend.without(drop_c, drop_s)
        return replace(
            self,
            docs=_kept(self.docs, doc_ids if gone else set()),
            sentences=_kept(self.sentences, drop_s),
            chunks=_kept(self.chunks, drop_c),
            backend=backend,
            segments=list(self.segments),
            stats=self._stats_without(drop_c),
            dead_chunks=self.dead_chunks | drop_c,
            dead_sentences=self.dead_sentences | drop_s,
            version="",
            _rows=None,
            _norms=None,
        )

    def _stats_without(self, chunk_ids: set[int]) -> KeywordStats:
        """Keyword statistics less these chunks: their stored term counts say what to subtract."""
        stats = self.stats
        if not chunk_ids:
            return stats
        drop = np.array(sorted(chunk_ids), dtype=np.int64)
        for seg in self.segments:
            rows = np.flatnonzero(np.isin(seg.chunk_ids, drop))
            if len(rows):
                length = float(seg.keywords.lengths[rows].sum())
                stats = stats.plus(seg.keywords.doc_freq(rows), len(rows), length, sign=-1)
        return stats

    def _compacted(self) -> Index:
        """Merge segments when there are too many, or too many removed rows in them."""
        rows = sum(len(s.chunk_ids) for s in self.segments)
        if rows and len(self.dead_chunks) > MAX_DEAD_SHARE * rows:
            return self._merged([s.name for s in self.segments])
        if len(self.segments) > MAX_SEGMENTS:
            largest = max(self.segments, key=lambda s: len(s.chunk_ids))
            return self._merged([s.name for s in self.segments if s is not largest])
        return self

    def _merged(self, names: list[str]) -> Index:
        """The live rows of segments `names` as one new segment (vectors and counts reused)."""
        chosen = [s for s in self.segments if s.name in names]
        dead = np.fromiter(self.dead_chunks, dtype=np.int64, count=len(self.dead_chunks))
        parts, cids, sids = [], [], []
        for seg in chosen:
            keep = np.flatnonzero(~np.isin(seg.chunk_ids, dead))
            parts.append(seg.keywords.select(keep))
            cids.append(seg.chunk_ids[keep])
            sids.append(seg.sentence_ids[[int(s) in self.sentences for s in seg.sentence_ids]])
        name = segment_name()
        merged = Segment(
            name,
            np.concatenate(cids),
            np.concatenate(sids),
            KeywordSegment.concat(parts),
            words=[w for seg in chosen for w in seg.words],
            word_vectors=np.vstack([seg.vectors_of_words(self.dim) for seg in chosen]),
        )
        old_c = {int(c) for s in chosen for c in s.chunk_ids}
        old_s = {int(x) for s in chosen for x in s.sentence_ids}
        docs = {k: (replace(r, segment=name) if r.segment in names else r) for k, r in self.docs.items()}
        at = min(i for i, s in enumerate(self.segments) if s.name in names)
        segments = [s for s in self.segments if s.name not in names]
        segments.insert(at, merged)
        new = replace(
            self,
            docs=docs,
            backend=self.backend.with_merged(names, name),
            segments=segments,
            dead_chunks=frozenset(self.dead_chunks - old_c),
            dead_sentences=frozenset(self.dead_sentences - old_s),
            _rows=None,
            _norms=None,
        )
        new._set_vocab()
        return new

    def _set_vocab(self) -> None:
        """The corpus vocabulary: the words of all segments, in segment order."""
        self.vocab = [w for seg in self.segments for w in seg.words]
        parts = [seg.vectors_of_words(self.dim) for seg in self.segments]
        self.vocab_vectors = np.vstack(parts) if parts else np.zeros((0, self.dim), dtype=np.float16)
        self._vocab32 = None

    def _check_embedder(self, embedder: Embedder) -> None:
        if embedder.name != self.embedder_name or embedder.dim != self.dim:
            raise embedder_mismatch(self.embedder_name, self.dim, embedder.name, embedder.dim, "the index")


def _kept(items: dict, drop: set) -> dict:
    """A copy of `items` without the keys in `drop` (a plain copy, faster, when there are none)."""
    return {k: v for k, v in items.items() if k not in drop} if drop else dict(items)
