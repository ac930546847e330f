"""FAISS vectors, one pair of files (chunks, sentences) per immutable segment.

Index type by size (see docs/benchmarks.md for the measured trade-off):
- up to `FLAT_MAX` vectors: exact inner product (IndexFlatIP); a query scans every vector,
  about 1.4 ms a query at 20k vectors on this machine (linear in size);
- above it: HNSW (IndexHNSWFlat), ~0.5 ms a query; recall@10 0.99 on USE vectors at
  `EF_SEARCH` = 256 (0.93 at 96), measured by bench/ann_recall.py.
Both are ID-mapped (IndexIDMap2), so ids are chunk / sentence ids and vectors can be read back.
Removed rows stay in their segment until it is merged; searches skip them with an IDSelector.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import SegmentRows, StoredVersion

FLAT_MAX = 20_000
HNSW_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 256
FILES = {False: "chunks.faiss", True: "sentences.faiss"}
_thread = threading.local()  # whether this thread's OpenMP team is already set to one thread


def make_faiss_index(dim: int, n: int) -> Any:
    """An empty ID-mapped inner-product index suited to `n` vectors of L2-normalised input."""
    if n <= FLAT_MAX:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = EF_CONSTRUCTION
    return faiss.IndexIDMap2(hnsw)


def _filled(dim: int, ids: np.ndarray, vectors: np.ndarray) -> Any:
    index = make_faiss_index(dim, len(ids))
    if len(ids):
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building HNSW is worth all cores
        try:
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        finally:
            faiss.omp_set_num_threads(1)
            _thread.single = True
    return index


def _is_hnsw(index: Any) -> bool:
    return isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW)


def _all_rows(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every row of an ID-mapped index."""
    n = index.ntotal
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vecs = index.index.reconstruct_n(0, n) if n else np.zeros((0, index.d), dtype=np.float32)
    return ids, vecs


class FaissBackend:
    kind = "faiss"

    def __init__(
        self,
        dim: int,
        segments: dict[str, tuple[Any, Any]] | None = None,
        dead_chunks: frozenset[int] = frozenset(),
        dead_sentences: frozenset[int] = frozenset(),
    ) -> None:
        self.dim = dim
        self.segments = dict(segments or {})  # name -> (chunk index, sentence index), oldest first
        self.dead = {False: dead_chunks, True: dead_sentences}
        self._params: dict[tuple[bool, bool], Any] = {}
        self._selectors: dict[bool, Any] = {}

    # ------------------------------------------------------------ queries

    def _search_params(self, sentences: bool, hnsw: bool) -> Any | None:
        key = (sentences, hnsw)
        if key not in self._params:
            sel = None
            dead = self.dead[sentences]
            if dead:
                sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.array(sorted(dead), dtype=np.int64)))
                self._selectors[sentences] = sel  # SWIG does not keep it alive for us
            if hnsw:
                self._params[key] = faiss.SearchParametersHNSW(efSearch=EF_SEARCH, sel=sel)
            else:
                self._params[key] = faiss.SearchParameters(sel=sel) if sel is not None else None
        return self._params[key]

    def search(self, vector: np.ndarray, k: int, sentences: bool) -> list[tuple[int, float]]:
        # One query gains nothing from OpenMP threads, and their spin-waiting slows the
        # embedder's BLAS threads down several times over; the setting is per calling thread.
        if not getattr(_thread, "single", False):
            faiss.omp_set_num_threads(1)
            _thread.single = True
        q = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        hits: list[tuple[int, float]] = []
        for pair in self.segments.values():
            index = pair[int(sentences)]
            if index.ntotal == 0:
                continue
            params = self._search_params(sentences, _is_hnsw(index))
            scores, ids = index.search(q, min(k, index.ntotal), params=params)
            hits += [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        hits.sort(key=lambda t: -t[1])
        return hits[:k]

    def vectors(self, ids: Sequence[int], sentences: bool) -> np.ndarray:
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        indexes = [pair[int(sentences)] for pair in reversed(self.segments.values())]
        for row, i in enumerate(ids):
            for index in indexes:
                try:
                    out[row] = index.reconstruct(int(i))
                    break
                except RuntimeError:  # not in this segment
                    continue
            else:
                raise KeyError(f"no stored vector for {'sentence' if sentences else 'chunk'} {i}")
        return out

    def keyword_search(self, query: str, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
        return None  # the Index scores BM25 over its own segments

    # ------------------------------------------------------------ changes

    def with_segment(self, name: str, rows: SegmentRows) -> FaissBackend:
        segments = dict(self.segments)
        # FAISS keeps its own copy, so each array is released from `rows` once copied: at 100k
        # chunks that keeps 0.2-0.4 GB of vectors from existing twice at the build's peak.
        chunk_index = _filled(self.dim, rows.chunk_ids, rows.chunk_vectors)
        rows.chunk_vectors = np.zeros((0, self.dim), dtype=np.float32)
        rows.chunk_texts = []
        sentence_index = _filled(self.dim, rows.sentence_ids, rows.sentence_vectors)
        rows.sentence_vectors = np.zeros((0, self.dim), dtype=np.float32)
        segments[name] = (chunk_index, sentence_index)
        return FaissBackend(self.dim, segments, self.dead[False], self.dead[True])

    def without(self, chunk_ids: Collection[int], sentence_ids: Collection[int]) -> FaissBackend:
        return FaissBackend(
            self.dim, self.segments, self.dead[False] | frozenset(chunk_ids), self.dead[True] | frozenset(sentence_ids)
        )

    def with_merged(self, names: Sequence[str], into: str) -> FaissBackend:
        merged = []
        dead_left = {}
        for sentences in (False, True):
            ids_parts, vec_parts = [], []
            for name in names:
                ids, vecs = _all_rows(self.segments[name][int(sentences)])
                keep = ~np.isin(ids, np.fromiter(self.dead[sentences], dtype=np.int64, count=len(self.dead[sentences])))
                ids_parts.append(ids[keep])
                vec_parts.append(vecs[keep])
            ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, dtype=np.int64)
            vecs = np.vstack(vec_parts) if vec_parts else np.zeros((0, self.dim), dtype=np.float32)
            merged.append(_filled(self.dim, ids, vecs))
            # Dead ids that lived in the merged segments are gone for good.
            gone = set()
            for name in names:
                gone |= set(faiss.vector_to_array(self.segments[name][int(sentences)].id_map).tolist())
            dead_left[sentences] = self.dead[sentences] - gone
        segments = {n: p for n, p in self.segments.items() if n not in names}
        segments[into] = (merged[0], merged[1])
        return FaissBackend(self.dim, segments, frozenset(dead_left[False]), frozenset(dead_left[True]))

    # ------------------------------------------------------------ files

    def write_segment(self, name: str, folder: Path) -> list[str]:
        pair = self.segments[name]
        for sentences, fname in FILES.items():
            faiss.write_index(pair[int(sentences)], str(folder / fname))
        return list(FILES.values())

    def commit(self) -> dict[str, Any]:
        return {"kind": self.kind, "flat_max": FLAT_MAX}

    def collect_garbage(self, keep: Sequence[dict[str, Any]]) -> None:
        return None  # everything lives in the version folders

    @classmethod
    def create(cls, dim: int, uri: str, index_dir: Path) -> FaissBackend:
        return cls(dim)  # the files live in the version folders: no address

    @classmethod
    def open(cls, dim: int, stored: StoredVersion) -> FaissBackend:
        return cls.read(dim, stored.folder, stored.segments, stored.dead_chunks, stored.dead_sentences)

    @classmethod
    def read(
        cls,
        dim: int,
        folder: Path,
        segments: Sequence[str],
        dead_chunks: Collection[int],
        dead_sentences: Collection[int],
    ) -> FaissBackend:
        loaded = {}
        for name in segments:
            pair = tuple(faiss.read_index(str(folder / name / FILES[s])) for s in (False, True))
            loaded[name] = pair
        return cls(dim, loaded, frozenset(dead_chunks), frozenset(dead_sentences))
