"""Near-duplicate articles: the same story republished with small edits.

Each article's body becomes a MinHash signature of its 5-character shingles (datasketch), so
two articles' share of common shingles (Jaccard similarity) is estimated without comparing
texts, and an LSH index finds the candidates without comparing every pair. Reordered
paragraphs, another site name or a changed first line move few shingles; a different article on
the same topic shares few. Measured on the two seed articles (estimates, 128 permutations):
another site name appended 1.0, a changed first line 0.99-1.0, paragraphs reordered
0.95-0.99, all three 0.91-0.95, a fifth of the paragraphs cut 0.74-0.86; the two different
seed articles on the same district 0.0. A signature costs ~13 ms for a 6,000-character article
(next to ~1 s of embedding it), and is stored with the article. The first article seen is kept
and indexed; the others are recorded as its aliases (other sources). A text identical to a kept
one is not an alias: it is refused as a duplicate, as before.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from .schema import Document

NUM_PERM = 128  # estimate error about ±0.04 at similarity 0.7
SHINGLE_CHARS = 5  # shorter shingles are shared by any two texts on one topic
# Below this (and with another title) a file named like an indexed article is another article,
# not a new version of it: edited versions share most shingles, different articles ~0.
SAME_ARTICLE = 0.3
SCHEME = "affine32"  # datasketch's permutation scheme; stored signatures are only comparable within one
_SPACE = re.compile(r"\s+")


def signature(text: str) -> np.ndarray:
    """MinHash hash values (uint64, NUM_PERM of them) of the text's character shingles."""
    key = _SPACE.sub("", unicodedata.normalize("NFKC", text))
    shingles = {key[i : i + SHINGLE_CHARS] for i in range(max(1, len(key) - SHINGLE_CHARS + 1))}
    # crc32: stable across processes (signatures are stored) and ~30% faster than the default sha1.
    m = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingles])
    return m.hashvalues.astype(np.uint64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


class NearDuplicates:
    """Signatures of kept articles, searchable for a new article's near-copies."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._sigs: dict[str, np.ndarray] = {}

    def add(self, doc_id: str, sig: np.ndarray) -> None:
        if doc_id in self._sigs:
            self._lsh.remove(doc_id)
        self._sigs[doc_id] = sig
        self._lsh.insert(doc_id, LeanMinHash(seed=1, hashvalues=sig, scheme=SCHEME))

    def match(self, sig: np.ndarray, exclude: Iterable[str] = ()) -> str | None:
        """The kept article `sig` is a near-copy of (the most similar), or None."""
        skip = set(exclude)
        found = [d for d in self._lsh.query(LeanMinHash(seed=1, hashvalues=sig, scheme=SCHEME)) if d not in skip]
        scored = [(similarity(sig, self._sigs[d]), d) for d in found]
        scored = [(s, d) for s, d in scored if s >= self.threshold]
        return max(scored)[1] if scored else None


def alias_label(doc: Document) -> str:
    """How another source of a story is named in citations: title, site and address or file."""
    where = doc.url or doc.path or doc.doc_id
    return " ".join(x for x in (f"《{doc.title}》", doc.source or "", where) if x)


def with_alias(kept: Document, copy: Document) -> Document:
    """`kept` with `copy` recorded as another source of it."""
    label = alias_label(copy)
    if label in kept.aliases:
        return kept
    paths = [*kept.alias_paths, copy.path] if copy.path else kept.alias_paths
    return replace(kept, aliases=[*kept.aliases, label], alias_paths=paths)


def fold_near_copies(docs: list[Document], threshold: float) -> tuple[list[Document], list[str]]:
    """Articles of one batch with near-copies folded into the first of them, and what was folded."""
    finder = NearDuplicates(threshold)
    kept: dict[str, Document] = {}
    notes = []
    for doc in docs:
        sig = signature(doc.text)
        match = finder.match(sig)
        if match is None or kept[match].text == doc.text:
            finder.add(doc.doc_id, sig)
            kept[doc.doc_id] = doc
            continue
        kept[match] = with_alias(kept[match], doc)
        notes.append(copy_note(doc.path or doc.doc_id, match))
    return list(kept.values()), notes


def copy_note(name: str, kept_id: str) -> str:
    return f"{name}: the same story as article {kept_id!r}; kept as another source of it, not indexed twice"
