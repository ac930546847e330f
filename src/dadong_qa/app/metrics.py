"""Short-answer exact match and F1, as CMRC 2018's official evaluation defines them.

CMRC compares answers character by character: punctuation and white space are dropped, each
CJK character is one token and a run of Latin letters or digits is one token. EM is 1 when the
prediction equals any gold answer so normalised; F1 takes, for each gold answer, precision and
recall of the longest common *substring* of tokens (CMRC's `find_lcs` is contiguous) and keeps
the best. The official script splits Latin runs with nltk; a run of letters, digits and the
dots or commas inside numbers is the same token for the numbers and names we see here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Symbols CMRC's script strips beside Unicode punctuation (some are category S, not P).
_EXTRA_STRIP = frozenset("-:_*^/\\~`+=－～")
_LATIN_RUN = re.compile(r"[0-9a-z]+(?:[.,][0-9a-z]+)*")


def _is_stripped(char: str) -> bool:
    return char.isspace() or char in _EXTRA_STRIP or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """Lower case, without punctuation or white space (dots inside numbers kept): the form EM compares."""
    return "".join(tokens(text))


def tokens(text: str) -> list[str]:
    """CMRC's mixed segmentation: one token per CJK character, one per Latin/digit run."""
    out: list[str] = []
    for piece in re.split(r"([0-9a-z]+(?:[.,][0-9a-z]+)*)", text.lower()):
        if not piece:
            continue
        if _LATIN_RUN.fullmatch(piece):
            out.append(piece)
        else:
            out.extend(c for c in piece if not _is_stripped(c))
    return out


def _longest_common_substring(a: list[str], b: list[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def _f1_one(pred: list[str], gold: list[str]) -> float:
    common = _longest_common_substring(gold, pred)
    if common == 0:
        return 0.0
    precision = common / len(pred)
    recall = common / len(gold)
    return 2 * precision * recall / (precision + recall)


def em(pred: str | None, golds: Iterable[str]) -> float:
    """1.0 when `pred` equals any gold answer after normalisation, else 0.0 (None scores 0)."""
    if pred is None:
        return 0.0
    norm = normalize_answer(pred)
    return float(any(norm == normalize_answer(g) for g in golds))


def f1(pred: str | None, golds: Iterable[str]) -> float:
    """Best token F1 of `pred` against the gold answers (None or an empty prediction scores 0)."""
    if pred is None:
        return 0.0
    pred_tokens = tokens(pred)
    if not pred_tokens:
        return 0.0
    return max((_f1_one(pred_tokens, tokens(g)) for g in golds), default=0.0)
