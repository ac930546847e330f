"""Where the vectors (and, for Milvus, the keyword index) live: one small interface, two implementations.

`Index` keeps the articles, sentences, chunks and keyword statistics itself, in immutable
segments under `index/`; a backend stores the vectors of those segments and answers nearest
neighbour queries. Backends are immutable too: a change returns a new backend object, so a
reader keeps answering from the version it started with. `BACKENDS` below is the one list of them.

- `faiss` (default): FAISS files inside each segment folder of `index/`; exact search for
  small segments, HNSW above `FLAT_MAX` vectors.
- `milvus`: a Milvus collection (Milvus Lite for a file URI, a server for http://...). Milvus
  also runs the BM25 keyword search with its jieba analyzer.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass
class SegmentRows:
    """What one new segment hands to the backend: ids, vectors and (for server-side BM25) texts."""

    chunk_ids: np.ndarray
    chunk_vectors: np.ndarray
    chunk_texts: list[str]
    chunk_doc_ids: list[str]
    sentence_ids: np.ndarray
    sentence_vectors: np.ndarray
    sentence_doc_ids: list[str]


class VectorBackend(Protocol):
    kind: str
    dim: int

    def search(self, vector: np.ndarray, k: int, sentences: bool) -> list[tuple[int, float]]:
        """(id, cosine) of up to `k` nearest live chunks (or sentences), best first."""
        ...

    def vectors(self, ids: Sequence[int], sentences: bool) -> np.ndarray:
        """Stored vectors of these ids, one row each, in the given order."""
        ...

    def keyword_search(self, query: str, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk ids, BM25 scores) from the backend's own keyword index; None if it has none."""
        ...

    def with_segment(self, name: str, rows: SegmentRows) -> VectorBackend:
        """A backend with one more segment. It may take the arrays out of `rows` (memory)."""
        ...

    def without(self, chunk_ids: Collection[int], sentence_ids: Collection[int]) -> VectorBackend: ...

    def with_merged(self, names: Sequence[str], into: str) -> VectorBackend:
        """The live rows of segments `names` repacked as one segment `into`."""
        ...

    def write_segment(self, name: str, folder: Path) -> list[str]:
        """Write the segment's files into `folder`; their names, relative to it."""
        ...

    def commit(self) -> dict[str, Any]:
        """Make pending changes durable outside `index/`; what the manifest must record."""
        ...

    def collect_garbage(self, keep: Sequence[dict[str, Any]]) -> None:
        """Drop external data that none of the `keep` manifests' backend records use."""
        ...


@dataclass(frozen=True)
class StoredVersion:
    """Where a saved version's vectors are: what a backend's `open` reads."""

    info: dict[str, Any]  # the manifest's backend record (what `commit` returned)
    folder: Path  # the version folder
    segments: Sequence[str]
    dead_chunks: Collection[int]
    dead_sentences: Collection[int]
    uri: str  # configured address overriding the recorded one ("" = as recorded)
    index_dir: Path


class BackendClass(Protocol):
    """How the index makes a backend: empty for a new build, or opened for a saved version."""

    def create(self, dim: int, uri: str, index_dir: Path) -> VectorBackend: ...

    def open(self, dim: int, stored: StoredVersion) -> VectorBackend: ...


# Every backend: name -> "module:class" in this package. Modules are imported when chosen, so an
# optional backend's dependencies (pymilvus) are needed only by those who use it. A new backend
# is one module with a class like these and one line here; config.py validates against this.
BACKENDS: dict[str, str] = {
    "faiss": "faiss_backend:FaissBackend",
    "milvus": "milvus_backend:MilvusBackend",
}


def backend_class(kind: str) -> BackendClass:
    module, _, name = BACKENDS[kind].partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def new_backend(kind: str, dim: int, uri: str, index_dir: Path) -> VectorBackend:
    if kind not in BACKENDS:
        raise ValueError(f"unknown index backend {kind!r}; choose one of {', '.join(BACKENDS)}")
    return backend_class(kind).create(dim, uri, index_dir)


def load_backend(dim: int, stored: StoredVersion) -> VectorBackend:
    kind = stored.info.get("kind", "faiss")
    if kind not in BACKENDS:
        raise ValueError(f"unknown index backend {kind!r} in the manifest")
    return backend_class(kind).open(dim, stored)
