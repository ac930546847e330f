"""What the index is made of: article records, paragraph-key hashes and immutable segments."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from dadong_qa.ingestion.ingest import shared_keys
from dadong_qa.schema import Document

from .keyword import KeywordSegment

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class DocRecord:
    doc: Document
    sentence_ids: list[int]
    chunk_ids: list[int]
    dropped_shared: int = 0  # paragraphs left out because another article has them
    segment: str = ""  # the segment holding it
    para_keys: frozenset[int] | None = None  # hashed shared_keys(doc), stored so no update recomputes them
    dropped_keys: frozenset[int] | None = None  # hashed keys of the dropped paragraphs (None: unknown)
    signature: np.ndarray | None = None  # MinHash of the text, for near-duplicates (None: not stored)


def _hash_key(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def paragraph_hashes(doc: Document) -> frozenset[int]:
    return frozenset(_hash_key(k) for k in shared_keys(doc))


class ParagraphKeys:
    """Paragraph keys of many articles as 63-bit hashes; usable as the `seen` set of `dedupe_across`.

    Building the set of every article's paragraph keys costs seconds at 100k chunks (each
    paragraph normalised again); the hashes are computed once, when an article is added.
    """

    def __init__(self, hashes: Iterable[int] = ()) -> None:
        self._hashes = set(hashes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _hash_key(key) in self._hashes

    def __ior__(self, keys: Iterable[str]) -> ParagraphKeys:
        self._hashes.update(_hash_key(k) for k in keys)
        return self

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def hashes(self) -> frozenset[int]:
        return frozenset(self._hashes)


@dataclass(eq=False)
class Segment:
    """Articles added together, with the term counts of their chunks; never changed once made."""

    name: str
    chunk_ids: np.ndarray  # keyword rows, in order
    sentence_ids: np.ndarray
    keywords: KeywordSegment
    files: dict[str, str] = field(default_factory=dict)  # written files (relative) -> sha256
    # Corpus words first seen in this segment, with their vectors (for query expansion).
    words: list[str] = field(default_factory=list)
    word_vectors: np.ndarray | None = None  # float16, one row per word

    def vectors_of_words(self, dim: int) -> np.ndarray:
        if self.word_vectors is None or not len(self.words):
            return np.zeros((0, dim), dtype=np.float16)
        return self.word_vectors


def segment_name() -> str:
    return f"seg-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
