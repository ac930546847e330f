"""How a sentence's words meet the question's: credit per question term, the longest shared run,
and whether the sentence has the question's words around a gap the answer can fill.

Plain functions of strings, used by `evidence.EvidenceGatherer` to fill `SentenceEvidence`.
"""

from __future__ import annotations

import re

from dadong_qa.retrieval.query import DIMENSION_OF
from dadong_qa.text import CJK

CJK_RUN = re.compile(f"[{CJK}]+|[a-z0-9]+")
SLOT_GAP = 30  # characters an answer between the question's left and right words may take


def match_credit(term: str, expansions: list[tuple[str, float]], sentence: str, title: str, context: str) -> float:
    """Credit for one question term in a sentence: the word 1, an expansion its credit (at most
    0.7), most of a long word's bigrams up to 0.6, the word only in the sentence's context
    (its article's title 0.8; the heading or the sentence before 0.5)."""
    if term in sentence:
        return 1.0
    dimension = DIMENSION_OF.get(term)
    if dimension is not None and dimension.search(sentence):
        return 1.0
    best = max((c for w, c in expansions if w in sentence), default=0.0)
    if best:
        return best
    if len(term) >= 3:
        grams = [term[i : i + 2] for i in range(len(term) - 1)]
        hit = sum(1 for g in grams if g in sentence) / len(grams)
        if hit >= 0.5:
            return 0.6 * hit
    if term in title:
        return 0.8  # the article is about it: a sentence of the article speaks of it
    if term in context:
        return 0.5
    return 0.0


def longest_common_run(a: str, b: str) -> int:
    """Length of the longest substring of `a` that occurs in `b` (binary search: a run of
    length k implies runs of every shorter length)."""
    lo, hi = 0, len(a)
    while lo < hi:
        k = (lo + hi + 1) // 2
        if any(a[i : i + k] in b for i in range(len(a) - k + 1)):
            lo = k
        else:
            hi = k - 1
    return lo


def longest_edge(words: str, sentence: str, from_end: bool) -> int:
    """Longest end (or start) of `words` that occurs in `sentence`."""
    lo, hi = 0, len(words)
    while lo < hi:
        k = (lo + hi + 1) // 2
        piece = words[-k:] if from_end else words[:k]
        if piece in sentence:
            lo = k
        else:
            hi = k - 1
    return lo


def slot_fit(left: str, right: str, sentence: str, n_left: int, n_right: int) -> float:
    """1 when the sentence has the question's words around a gap, as the question has them
    around its question word; only the side(s) the question has count."""
    # The right side is often one measure word ("多少[所]"): one character frames the gap there.
    lpiece = left[-min(n_left, 4) :] if n_left >= 2 else ""
    rpiece = right[: min(n_right, 4)] if n_right >= 1 else ""
    if (left and not lpiece) or (right and not rpiece) or not (lpiece or rpiece):
        return 0.0
    ends = [m.end() for m in re.finditer(re.escape(lpiece), sentence)] if lpiece else []
    starts = [m.start() for m in re.finditer(re.escape(rpiece), sentence)] if rpiece else []
    if lpiece and rpiece:
        return float(any(0 < s - e <= SLOT_GAP for e in ends for s in starts))
    if lpiece:
        return float(any(_word_after(sentence, e) for e in ends))
    return float(any(_word_before(sentence, s) for s in starts))


def _word_after(sentence: str, pos: int) -> bool:
    return pos < len(sentence) and CJK_RUN.match(sentence, pos) is not None


def _word_before(sentence: str, pos: int) -> bool:
    return pos > 0 and CJK_RUN.match(sentence[pos - 1]) is not None
