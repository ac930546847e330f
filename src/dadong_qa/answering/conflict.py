"""Which figures from different sources really contradict each other.

Two figures conflict only when they measure the same quantity (same normalised name, same unit
after converting 万/亿 and area/length/weight units, both levels or both changes), for the same
place (when both name one), over the same period (periods.same_period), of the same kind (a
plan, target or forecast is never compared with an outcome), and their values differ beyond
what the written rounding and qualifiers allow ("超46万辆" and "46.2万辆" agree).

预计 in a year-end article about its own year is an estimate of the outcome (figures.figures
gives it kind "estimate"), so it is compared with outcomes: an article claiming
"大东区2022年地区生产总值是10000亿元" contradicts a year-end "预计实现地区生产总值940亿元".
Anything not known for sure (an undated figure, 年初以来, an unnamed quantity) is never a
conflict: a false banner costs the reader's trust more than a missed one.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dadong_qa.answering.figures import Figure
from dadong_qa.answering.periods import Period, same_period
from dadong_qa.answering.wording import longest_common_run
from dadong_qa.retrieval.thesaurus import canonical_name
from dadong_qa.text import CJK, normalize

_NOT_NAME = re.compile(f"[^{CJK}a-z0-9]")
# Share of the value an "about" figure (约, 左右) may be off by.
ABOUT_TOLERANCE = 0.05
# Characters two quantity names must share to be one quantity told two ways (alike): "政府购买
# 居家养老服务试点社区" and "政府购买养老服务试点社区" share 养老服务试点社区.
ALIKE_RUN = 4


@dataclass(frozen=True)
class SourcedFigure:
    """A figure with where it was read: the verbatim sentence and its article."""

    figure: Figure
    sentence: str
    doc_id: str
    date: str | None = None  # the article's date, shown beside the conflict
    sid: int | None = None  # the sentence's id in the index, when the caller has one


@dataclass(frozen=True)
class Conflict:
    """Two figures for the same quantity, place, period and kind that cannot both be right."""

    first: SourcedFigure
    second: SourcedFigure
    quantity: str  # the normalised name both measure
    period: Period | None  # the period both cover

    @property
    def doc_ids(self) -> tuple[str, str]:
        return self.first.doc_id, self.second.doc_id


def quantity_key(name: str) -> str:
    """A quantity's name in comparable form: normalised, punctuation dropped, short forms expanded."""
    return canonical_name(_NOT_NAME.sub("", normalize(name)))


def interval(figure: Figure) -> tuple[float, float]:
    """The values a written figure allows, in its base unit: rounding of the last written digit,
    widened by its qualifier (超/余/以上: at least; 近/不到: at most; 约/左右: about)."""
    half = figure.precision / 2
    low = figure.base_value
    high = figure.value_high if figure.value_high is not None else figure.base_value
    if figure.bound == "at_least":
        return low - half, math.inf
    if figure.bound == "at_most":
        return -math.inf, high + half
    if figure.bound == "about":
        return low - max(half, ABOUT_TOLERANCE * abs(low)), high + max(half, ABOUT_TOLERANCE * abs(high))
    return low - half, high + half


def measured(figure: Figure) -> str:
    """What a figure measures, with what it belongs to when its clause leaves that to the
    sentence: "全长" of "松花江大桥于2023年建成通车，全长3.2公里" is 松花江大桥全长, so it is never
    compared with the 全长 of 翠微峰索道."""
    return quantity_key(figure.subject + figure.quantity)


def comparable(a: Figure, b: Figure) -> bool:
    """Whether two figures speak of the same thing: quantity (of the same subject), unit, place,
    period and kind."""
    key = measured(a)
    if len(key) < 2 or key != measured(b):
        return False
    if a.base_unit != b.base_unit or a.growth != b.growth or a.is_plan != b.is_plan:
        return False
    if a.place and b.place and a.place != b.place:
        return False
    return same_period(a.period, b.period) is True


def disagree(a: Figure, b: Figure) -> bool:
    """Whether the two figures' allowed values do not overlap. Intervals that only touch disagree:
    35个 and 36个 are two different counts, not one number rounded two ways."""
    low_a, high_a = interval(a)
    low_b, high_b = interval(b)
    return high_a <= low_b or high_b <= low_a


def find_conflicts(figures_with_sources: Iterable[SourcedFigure]) -> list[Conflict]:
    """Every pair of figures from different articles that contradict each other, each pair once.

    Figures of one article are not compared with each other: an article's own figures for the
    same quantity are a detail and a total, or a correction, more often than a contradiction.
    """
    # Only figures of the same quantity, unit and level/change can conflict: compare within those
    # groups (161 seed figures: 12 ms over all pairs, 1.7 ms grouped).
    groups: dict[tuple[str, str, bool], list[SourcedFigure]] = defaultdict(list)
    for item in figures_with_sources:
        key = measured(item.figure)
        if len(key) >= 2:
            groups[(key, item.figure.base_unit, item.figure.growth)].append(item)
    found: list[Conflict] = []
    seen: set[tuple[str, str, str, str]] = set()
    for (key, _, _), items in groups.items():
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if a.doc_id == b.doc_id or not comparable(a.figure, b.figure) or not disagree(a.figure, b.figure):
                    continue
                (doc_a, text_a), (doc_b, text_b) = sorted([(a.doc_id, a.figure.text), (b.doc_id, b.figure.text)])
                if (doc_a, text_a, doc_b, text_b) in seen:
                    continue
                seen.add((doc_a, text_a, doc_b, text_b))
                found.append(Conflict(a, b, key, a.figure.period))
    return found


def alike(a: Figure, b: Figure) -> bool:
    """Whether two figures may measure one quantity, named more loosely than `comparable` asks:
    the same unit, both levels or both changes, and names sharing a run of `ALIKE_RUN`
    characters (or one name holding the other whole)."""
    if a.base_unit != b.base_unit or a.growth != b.growth:
        return False
    key_a, key_b = measured(a), measured(b)
    shorter = min(len(key_a), len(key_b))
    return shorter >= 2 and longest_common_run(key_a, key_b) >= min(ALIKE_RUN, shorter)


def plans_beside_outcomes(candidates: Sequence[Sequence[SourcedFigure]]) -> set[int]:
    """Indices of the candidate sentences with a plan figure of a dated article for which another
    candidate reports an outcome (`alike`): 2023's planned "护理型床位占比提升至80%" beside 2022's
    "…增至70%". Undated text is left alone: its plan words (将, 计划) tell history as often."""
    outcomes = [(i, f.figure) for i, found in enumerate(candidates) for f in found if not f.figure.is_plan]
    return {
        i
        for i, found in enumerate(candidates)
        for f in found
        if f.figure.is_plan and f.date and any(j != i and alike(f.figure, o) for j, o in outcomes)
    }
