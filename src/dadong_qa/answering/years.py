"""Relative years (去年, 今年, …) and the calendar year they stand for in a dated article.

Defined once here for the evidence timeline and for the reader's input: the reader was trained on
text that names years, so "湖滨镇去年接待游客120万人次" in a 2023 article is shown to it as
"湖滨镇2022年接待游客…"; for "湖滨镇2022年接待游客多少人次？" that lifted its probability
from 0.05 to 0.65 (interim 12-layer reader). Spans it finds map back to the verbatim sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RELATIVE_YEAR = re.compile(r"前年|去年|今年|明年")
STATED_YEAR = re.compile(r"\d{3,4}年")
RELATIVE_OFFSET = {"前年": -2, "去年": -1, "今年": 0, "明年": 1}


@dataclass(frozen=True)
class SpelledYears:
    """`text` with its relative years written out, and the way back to the original offsets."""

    text: str
    _starts: tuple[int, ...]  # original offset of each position of `text` (and its end)
    _ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of [start, end) in `text`; a span touching a written-out year covers
        the whole relative word it replaced."""
        return self._starts[start], self._ends[end]


def spell_years(text: str, article_year: int | None) -> SpelledYears:
    """`text` with 前年/去年/今年/明年 replaced by "<year>年", counted from `article_year`;
    unchanged when the article has no date."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for m in RELATIVE_YEAR.finditer(text) if article_year else ():
        for i in range(at, m.start()):
            out.append(text[i])
            starts.append(i)
            ends.append(i)
        word = f"{article_year + RELATIVE_OFFSET[m.group()]}年"
        out.append(word)
        starts.extend([m.start()] * len(word))
        ends.extend([m.start()] + [m.end()] * (len(word) - 1))
        at = m.end()
    for i in range(at, len(text)):
        out.append(text[i])
        starts.append(i)
        ends.append(i)
    return SpelledYears("".join(out), (*starts, len(text)), (*ends, len(text)))
