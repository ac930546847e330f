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
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from dadong_qa.schema import Document

if TYPE_CHECKING:
    from dadong_qa.index import Index

NUM_PERM = 128  # estimate error about ±0.04 at similarity 0.7
SHINGLE_CHARS = 5  # shorter shingles are shared by any two texts on one topic
# Below this (and with another title) a file named like an indexed article is another article,
# not a new version of it: edited versions share most shingles, different articles ~0.
SAME_ARTICLE = 0.3
SCHEME = "affine32"  # datasketch's permutation scheme; stored signatures are only comparable within one
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)  # a build folds near copies, then stores each record's: one computation
def signature(text: str) -> np.ndarray:
    """MinHash hash values (uint64, NUM_PERM of them) of the text's character shingles (read-only)."""
    key = _SPACE.sub("", unicodedata.normalize("NFKC", text))
    shingles = {key[i : i + SHINGLE_CHARS] for i in range(max(1, len(key) - SHINGLE_CHARS + 1))}
    # crc32: stable across processes (signatures are stored) and ~30% faster than the default sha1.
    m = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingles])
    values = m.hashvalues.astype(np.uint64)
    values.setflags(write=False)  # shared by every caller of the cache
    return values


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


Candidate = tuple[Path, Document, Any]  # (incoming file, its article, the indexed record it replaces or None)


def fold_into_index(
    index: Index, candidates: list[Candidate], threshold: float, store: Callable[[Path, str], str]
) -> tuple[list[Candidate], dict[str, Document], list[str]]:
    """Candidates that are not near-copies, indexed articles that gained an alias, and notes.

    A near-copy's file is stored in the corpus by `store` (so a rebuild finds the same story
    twice and folds it again) and named as another source of the article it copies.
    """
    batch = {d.doc_id for _, d, _ in candidates}
    finder = NearDuplicates(threshold)
    for doc_id in index.docs:
        if doc_id not in batch:
            finder.add(doc_id, index.signature_of(doc_id))
    kept: dict[str, Candidate] = {}
    aliased: dict[str, Document] = {}
    notes: list[str] = []
    for path, doc, old in candidates:
        sig = signature(doc.text)
        match = finder.match(sig)
        if match is None:
            target = None
        else:
            target = kept[match][1] if match in kept else aliased.get(match) or index.docs[match].doc
        if match is None or target is None or target.text == doc.text:  # identical: refused as a duplicate later
            finder.add(doc.doc_id, sig)
            kept[doc.doc_id] = (path, doc, old)
            continue
        updated = with_alias(target, replace(doc, path=store(path, doc.doc_id)))
        if match in kept:
            kept[match] = (kept[match][0], updated, kept[match][2])
        elif updated is not target:  # else this source is already recorded
            aliased[match] = updated
        notes.append(copy_note(path.name, match))
    return list(kept.values()), aliased, notes


def other_article_same_name(index: Index, doc: Document) -> tuple[Document, str | None]:
    """`doc` under a new id (and a note) when it is another article than the indexed one of its name.

    A new version of an article replaces it; but `index.html` saved from another site is a
    different article (another title, little text in common) and must not replace the first.
    """
    old = index.docs[doc.doc_id].doc
    if old.title == doc.title or similarity(index.signature_of(doc.doc_id), signature(doc.text)) >= SAME_ARTICLE:
        return doc, None
    new_id = f"{doc.doc_id}_{doc.sha256[:8]}"
    note = f"{doc.path}: another article than {doc.doc_id!r} (《{old.title}》) under the same name; added as {new_id!r}"
    return replace(doc, doc_id=new_id), note
