"""Time periods: the period a figure describes and the period a question asks about.

Pure functions: strings and ISO dates in, dataclasses out, no index access. A period is a year
and the part of it (全年, 上半年, 第三季度, 1-8月, a month, 年初以来). The answerer uses
matches() to refuse a 2022 figure for a question about 2023 and describe() to say which period
a figure covers; conflict.py uses same_period() so that 全年 is never compared with 1-8月.
figures.figures() reads the figures of a sentence with their periods, using this module.

Years are never assumed: 今年/去年 are resolved against the article's date, and an article with
no date leaves them unknown (only an explicit year stated earlier in the article, passed as
`context_year`, may stand in).

This module and figures.py hold the package's one set of Chinese number / unit / time regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Numbers
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千]+"


def cn_number(text: str) -> float | None:
    """Value of a Chinese or Arabic numeral ("十二" 12, "三百五十" 350, "1,100" 1100), None if none."""
    plain = text.replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", plain):
        return float(plain)
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_SMALL for ch in text):
        return None
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        else:  # 十百千: "十二" has no digit before 十
            total += (1 if digit is None else digit) * _CN_SMALL[ch]
            digit = None
    return float(total + (digit or 0))


# ---------------------------------------------------------------------------------------------
# Time expressions. One regex, scanned left to right: each match updates the running
# (year, months, to_date) state that the figures after it inherit.
_M = r"(?<![\d.])(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"  # a month number, not digits of a longer one
DASH = r"\s*(?:-|—|–|~|～|至|到)\s*"
TIME = re.compile(
    "|".join(
        [
            # "比去年同期多…": a comparison base, not the figure's period ("去年同期为150个" is one).
            r"(?P<skip>(?<=[比较与同和])(?:去年|上年|上一年)同期|(?<!年)同期)",
            r"(?<![\d.])(?P<year>(?:19|20)\d{2})\s*年度?(?P<since>以来)?",
            r"(?P<rel>今年|去年|明年|前年|上年|本年)度?(?:(?P<rel_since>以来)|(?P<same>同期))?",
            r"(?P<half>上半年|下半年)",
            r"(?P<full>全年)",
            r"前(?P<qcum>[一二三1-3])(?:个)?季度",
            r"第?(?P<q>[一二三四1-4])季度",
            rf"(?P<m1>{_M})\s*(?:月份?)?{DASH}(?P<m2>{_M})\s*月份?",
            rf"前(?P<first>{_M})个?月",
            rf"(?P<date>{_M}\s*月\s*\d{{1,2}}\s*[日号])",  # a day: an event, not a period
            rf"(?P<mon>{_M})\s*月份?",
        ]
    )
)
_REL_OFFSET = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}
_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class Period:
    """A year and the part of it a figure covers.

    months is (first, last) month covered, e.g. (1, 8) for 1-8月 / 前八个月, (1, 12) for a stated
    全年; None when the text names no part. to_date marks "今年以来": from January to the
    article's date, months unknown.
    """

    year: int | None = None
    months: tuple[int, int] | None = None
    to_date: bool = False

    @property
    def names_a_period(self) -> bool:
        """A year, or a part of one that spans months ("2022年", "1至8月", "上半年"): what a figure
        must fit to answer. A single month alone is not: in encyclopedia questions it is mostly
        part of a name ("五月艾", "十月革命"; 9 of 1,002 CMRC trial questions read as a month)."""
        return self.year is not None or (self.months is not None and self.months[0] != self.months[1])

    @property
    def part(self) -> str | None:
        """The part of the year in words ("全年", "上半年", "第三季度", "1-8月"), None if not stated."""
        if self.to_date:
            return "年初以来"
        if self.months is None:
            return None
        return _part_name(*self.months)


def _part_name(first: int, last: int) -> str:
    named = {(1, 12): "全年", (1, 6): "上半年", (7, 12): "下半年", (1, 9): "前三季度"}
    if (first, last) in named:
        return named[(first, last)]
    if last - first == 2 and first % 3 == 1:
        return f"第{'一二三四'[first // 3]}季度"
    return f"{first}月" if first == last else f"{first}-{last}月"


UNKNOWN_PERIOD = "时间不详"


def describe(period: Period | None) -> str:
    """The period in Chinese, for the answer to say what a figure covers ("2022年全年",
    "2023年上半年", "2022年1-8月"; "时间不详" when nothing is known)."""
    if period is None or (period.year is None and period.part is None):
        return UNKNOWN_PERIOD
    if period.year is None:
        return f"{period.part}，年份不详"  # shown in （）: "（1-8月，年份不详）", not nested
    return f"{period.year}年{period.part or ''}"


@dataclass
class TimeState:
    year: int | None
    months: tuple[int, int] | None = None
    to_date: bool = False

    def period(self) -> Period | None:
        if self.year is None and self.months is None and not self.to_date:
            return None
        return Period(self.year, self.months, self.to_date)


def _month(text: str) -> int:
    value = cn_number(text)
    return int(value) if value else 0


def apply_time(state: TimeState, m: re.Match[str], base_year: int | None) -> None:
    """Update the running time state with one time expression.

    A part of a year with no year known ("上半年", "1月至8月" in an article dated 2022-09-20) is
    the base year's, like 今年; with no base year (an undated article) the year stays unknown.
    """
    g = m.group
    if not (g("year") or g("rel") or g("date")) and state.year is None:
        state.year = base_year
    if g("year"):
        state.year, state.months, state.to_date = int(g("year")), None, bool(g("since"))
    elif g("rel"):
        # 今年 in an undated article: the year is unknown, never guessed.
        year = base_year + _REL_OFFSET[g("rel")] if base_year is not None else None
        months = state.months if g("same") else None  # "今年上半年…，去年同期…": the same months
        state.year, state.months, state.to_date = year, months, bool(g("rel_since"))
    elif g("half"):
        state.months, state.to_date = ((1, 6) if g("half") == "上半年" else (7, 12)), False
    elif g("full"):
        state.months, state.to_date = (1, 12), False
    elif g("qcum"):
        state.months, state.to_date = (1, 3 * _QUARTER[g("qcum")]), False
    elif g("q"):
        q = _QUARTER[g("q")]
        state.months, state.to_date = (3 * q - 2, 3 * q), False
    elif g("m1"):
        first, last = _month(g("m1")), _month(g("m2"))
        if 1 <= first <= last <= 12:
            state.months, state.to_date = (first, last), False
    elif g("first"):
        last = _month(g("first"))
        if 1 <= last <= 12:
            state.months, state.to_date = (1, last), False
    elif g("mon"):
        month = _month(g("mon"))
        if 1 <= month <= 12:
            state.months, state.to_date = (month, month), False


# The groups of TIME that name a part of a year spanning months (a month alone, a day or a year
# is none): what a question's period words are, and what the reader may see rewritten.
_PERIOD_PARTS = ("half", "full", "qcum", "q", "m1", "first")
_DIGITS = re.compile(r"\d+")


def part_of_year(m: re.Match[str]) -> tuple[int, int] | None:
    """The months a part-of-year expression of `time_spans` covers ("前八个月": (1, 8)); None
    for any other time expression (a year, a month alone, a day)."""
    if not any(m.group(g) for g in _PERIOD_PARTS):
        return None
    state = TimeState(year=None)
    apply_time(state, m, None)
    return state.months


def months_as_written(question: str, text: str) -> str:
    """The question with each part of a year it names written as `text` writes the same months
    ("大东区前八个月整车产量" against "1月至8月,实现整车生产28.2万辆" -> "大东区1月至8月整车产量"),
    for a reader that matches words better than it counts months."""
    written = {months: m.group() for m in time_spans(text) if (months := part_of_year(m)) is not None}
    for m in reversed(time_spans(question)):
        months = part_of_year(m)
        # Written with the same numbers already ("1至8月" / "1月至8月"): left as asked, since the
        # rewrite moved "大东区1至8月整车产量？" from p 0.65 to 0.46 while "前八个月" went 0.57 -> 0.95.
        if months in written and _DIGITS.findall(m.group()) != _DIGITS.findall(written[months]):
            question = question[: m.start()] + written[months] + question[m.end() :]
    return question


def year_of(date: str | None) -> int | None:
    m = re.match(r"\s*((?:19|20)\d{2})", date or "")
    return int(m.group(1)) if m else None


def time_spans(text: str) -> list[re.Match[str]]:
    return list(TIME.finditer(text))


def question_period(question: str, *, today_year: int | None = None) -> Period | None:
    """The period a question asks about, None when it names none (or names several years:
    split such questions with parts.split_question first). 今年/去年 are resolved against
    `today_year`; without it their year stays unknown while a part (1至8月) still counts."""
    state = TimeState(year=None)
    years: set[int | None] = set()
    found = False
    for m in time_spans(question):
        if m.group("skip") or m.group("date"):
            continue
        apply_time(state, m, today_year)
        found = True
        if m.group("year") or m.group("rel"):
            years.add(state.year)
    if not found or len(years) > 1:
        return None
    return state.period()


def matches(question_period: Period | None, figure_period: Period | None) -> bool | None:
    """Whether a figure's period answers the question's: True, False, or None when unknown.

    A question naming a year is never answered by another year (False); a figure whose year is
    unknown gives None, which the caller must not count as a match. A question naming no part
    of the year is answered by any part (the answer then says which, via describe()).
    """
    q, f = question_period, figure_period
    if q is None:
        return True
    if f is None:
        return None
    if q.year is not None:
        if f.year is None:
            return None
        if f.year != q.year:
            return False
    if q.months is None and not q.to_date:
        return True
    if q.to_date or f.to_date:
        return True if (q.to_date and f.to_date) else None
    assert q.months is not None
    if f.months is None:
        # "2022年X为…" with no part stated reads as the whole year only when a year is stated.
        return True if q.months == (1, 12) and f.year is not None else None
    return q.months == f.months


def same_period(a: Period | None, b: Period | None) -> bool | None:
    """Whether two figures cover the same period: None when either is not fully known.

    A stated year with no part is the whole year ("2022年整车产量…" = 全年); 年初以来 has
    unknown months, so it is never known to be the same as anything.
    """
    if a is None or b is None or a.year is None or b.year is None or a.to_date or b.to_date:
        return None
    if a.year != b.year:
        return False
    return (a.months or (1, 12)) == (b.months or (1, 12))


class PeriodTracker:
    """The time state at each position of a sentence, read left to right.

    A time expression holds until the next one, except after 其中 ("1月至8月, X…, 其中8月份…;
    Y…"): there it is a detail of its own clause, and the state before it returns at the next
    semicolon.
    """

    def __init__(self, sentence: str, state: TimeState, base_year: int | None) -> None:
        events: list[tuple[int, str, re.Match[str] | None]] = [
            (t.start(), "time", t) for t in TIME.finditer(sentence) if not t.group("skip") and not t.group("date")
        ]
        events += [(m.start(), "detail", None) for m in re.finditer("其中", sentence)]
        events += [(m.start(), "restore", None) for m in re.finditer("[；;]", sentence)]
        self._events = sorted(events, key=lambda e: e[0])
        self._state, self._base, self._i = state, base_year, 0
        self._saved: TimeState | None = None

    def at(self, pos: int) -> Period | None:
        """The period in force at `pos` (positions must be asked in increasing order)."""
        while self._i < len(self._events) and self._events[self._i][0] < pos:
            _, what, m = self._events[self._i]
            if what == "detail":
                self._saved = TimeState(**vars(self._state))
            elif what == "restore" and self._saved is not None:
                self._state, self._saved = self._saved, None
            elif m is not None:
                apply_time(self._state, m, self._base)
            self._i += 1
        return self._state.period()


def context_years(sentences: list[str], article_date: str | None) -> list[int | None]:
    """For each sentence of an article, the last year stated in the sentences before it (None
    before the first): the `context_year` for figures(). 今年/去年 count when the article is
    dated. News text states a year once and then stays in it ("2022年，… 。整车产量超46万辆")."""
    base = year_of(article_date)
    out: list[int | None] = []
    current: int | None = None
    for sentence in sentences:
        out.append(current)
        for m in TIME.finditer(sentence):
            if m.group("year"):
                current = int(m.group("year"))
            elif m.group("rel") and not m.group("same") and base is not None:
                current = base + _REL_OFFSET[m.group("rel")]
    return out


def context_periods(sentences: list[str], article_date: str | None) -> list[Period | None]:
    """For each sentence of an article, the period it starts in: the year of context_years(), and
    the part of the year when the sentence before ended in a semicolon (a list that goes on:
    "1月至8月，完成产值1251.3亿元；" then "限额以上社会消费品零售总额增速6.6%；" is still 1-8月).
    Pass `.year` and `.months` to figures() as context_year and context_months."""
    base = year_of(article_date)
    out: list[Period | None] = []
    months: tuple[int, int] | None = None
    for sentence, year in zip(sentences, context_years(sentences, article_date), strict=True):
        out.append(TimeState(year=year, months=months).period())
        end = PeriodTracker(sentence, TimeState(year=year, months=months), base).at(len(sentence))
        months = end.months if end is not None and sentence.rstrip().endswith(("；", ";")) else None
    return out
