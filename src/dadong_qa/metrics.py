"""Short-answer metrics with CMRC 2018's character-level definitions.

Both sides are normalised (lower case, NFKC, punctuation and white space removed); exact match
is 1 when the prediction equals any gold answer; F1 is the best over the gold answers of the
harmonic mean of precision and recall of the longest common substring, in characters.
"""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~“”‘’《》—…·]")


def normalize_answer(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def _lcs(a: str, b: str) -> int:
    """Length of the longest common substring (CMRC's F1 uses it as the overlap)."""
    best = 0
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def em(prediction: str, golds: list[str]) -> float:
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds))


def f1(prediction: str, golds: list[str]) -> float:
    p = normalize_answer(prediction)
    best = 0.0
    for g in golds:
        g = normalize_answer(g)
        common = _lcs(p, g)
        if common:
            precision, recall = common / len(p), common / len(g)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
