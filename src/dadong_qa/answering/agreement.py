"""Candidates that give one answer: their probabilities are pooled before the decision.

The reader's softmax over a shortlist (reader/reading.py `listwise`) shares one unit of
probability between "which sentence is the answer" and "none of them". Two copies of one answer
(the same sentence reprinted in a second article, or the same figure or name in other words)
split that unit between them, which reads as doubt about the answer when it is agreement: on the
seed articles plus a reprint of one paragraph, "大东区一般公共预算收入是多少？" went from an answer at
p 0.99 to two candidates at 0.53 and 0.47, refused. Pooling gives each candidate the probability
of its answer; the decision still cites the one the reader read best.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dadong_qa.text import normalize

_NOISE = re.compile(r"[\W_]+")  # spaces and punctuation: not part of what a sentence says


def sentence_key(text: str) -> str:
    """What makes two sentences the same sentence: their characters, in search form, less spaces
    and punctuation (a reprint changes "，" to "," and trims spaces)."""
    return _NOISE.sub("", normalize(text))


def answer_key(text: str | None) -> str | None:
    """What makes two short answers the same answer, as `sentence_key`; None for none."""
    if not text:
        return None
    return sentence_key(text) or None


def keys(sentence: str, answer: str | None) -> tuple[str, ...]:
    """The keys a candidate is pooled by: its sentence, and its short answer when it has one."""
    found = answer_key(answer)
    return (f"s:{sentence_key(sentence)}",) + ((f"a:{found}",) if found else ())


def pooled(
    probs: list[float],
    candidate_keys: list[tuple[str, ...]],
    together: Callable[[int, int], bool] | None = None,
) -> list[float]:
    """Each candidate's probability plus that of every other candidate sharing a key with it, or
    `together` with it (at most 1: the shortlist's probabilities and "none" add up to one)."""
    out = []
    for i, mine in enumerate(candidate_keys):
        mates = [
            j
            for j, theirs in enumerate(candidate_keys)
            if j == i or set(mine) & set(theirs) or (together is not None and together(i, j))
        ]
        out.append(min(1.0, sum(probs[j] for j in mates)))
    return out
