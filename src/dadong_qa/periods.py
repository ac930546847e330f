"""Figures in a sentence, the time period each describes, and the period a question asks about.

Pure functions: strings and ISO dates in, dataclasses out, no index access. A figure is a
number with a unit ("超46万辆", "同比增长6%"); it gets the quantity it measures (the noun phrase
before it), whether it is a growth rate or a level, the period it covers (a year and which part
of it) and whether it is a plan / target / forecast or an outcome. The answerer uses the period
to refuse a 2022 figure for a question about 2023, and conflict.py uses all of it so that only
figures about the same thing are compared.

Years are never assumed: 今年/去年 are resolved against the article's date, and an article with
no date leaves them unknown (only an explicit year stated earlier in the article, passed as
`context_year`, may stand in).

This module holds the one Chinese number / unit / time-expression regex set of the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import jieba.posseg as pseg

# ---------------------------------------------------------------------------------------------
# Numbers
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "[零〇一二两三四五六七八九十百千]+"


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
_M = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"  # a month number
_DASH = r"\s*(?:-|—|–|~|～|至|到)\s*"
_TIME = re.compile(
    "|".join(
        [
            # "比去年同期多…": a comparison base, not the figure's period ("去年同期为150个" is one).
            r"(?P<skip>(?<=[比较与同和])(?:去年|上年|上一年)同期|(?<!年)同期)",
            r"(?P<year>(?:19|20)\d{2})\s*年度?(?P<since>以来)?",
            r"(?P<rel>今年|去年|明年|前年|上年|本年)度?(?:(?P<rel_since>以来)|(?P<same>同期))?",
            r"(?P<half>上半年|下半年)",
            r"(?P<full>全年)",
            rf"前(?P<qcum>[一二三1-3])(?:个)?季度",
            rf"第?(?P<q>[一二三四1-4])季度",
            rf"(?P<m1>{_M})\s*(?:月份?)?{_DASH}(?P<m2>{_M})\s*月份?",
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


def describe(period: Period | None) -> str:
    """The period in Chinese, for the answer to say what a figure covers ("2022年全年",
    "2023年上半年", "2022年1-8月"; "时间不详" when nothing is known)."""
    if period is None or (period.year is None and period.part is None):
        return "时间不详"
    if period.year is None:
        return f"{period.part}（年份不详）"
    return f"{period.year}年{period.part or ''}"


@dataclass
class _TimeState:
    year: int | None
    months: tuple[int, int] | None = None
    to_date: bool = False
    explicit_year: bool = False  # the year comes from this text, not from context

    def period(self) -> Period | None:
        if self.year is None and self.months is None and not self.to_date:
            return None
        return Period(self.year, self.months, self.to_date)


def _month(text: str) -> int:
    value = cn_number(text)
    return int(value) if value else 0


def _apply(state: _TimeState, m: re.Match[str], base_year: int | None) -> None:
    """Update the running time state with one time expression."""
    g = m.group
    if g("year"):
        state.year, state.months, state.to_date, state.explicit_year = int(g("year")), None, bool(g("since")), True
    elif g("rel"):
        # 今年 in an undated article: the year is unknown, never guessed.
        year = base_year + _REL_OFFSET[g("rel")] if base_year is not None else None
        months = state.months if g("same") else None  # "今年上半年…，去年同期…": the same months
        state.year, state.months, state.to_date, state.explicit_year = year, months, bool(g("rel_since")), True
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


def _year_of(date: str | None) -> int | None:
    m = re.match(r"\s*((?:19|20)\d{2})", date or "")
    return int(m.group(1)) if m else None


def _time_spans(text: str) -> list[re.Match[str]]:
    return list(_TIME.finditer(text))


def question_period(question: str, *, today_year: int | None = None) -> Period | None:
    """The period a question asks about, None when it names none (or names several years:
    split such questions with parts.split_question first). 今年/去年 are resolved against
    `today_year`; without it their year stays unknown while a part (1至8月) still counts."""
    state = _TimeState(year=None)
    years: set[int | None] = set()
    found = False
    for m in _time_spans(question):
        if m.group("skip") or m.group("date"):
            continue
        _apply(state, m, today_year)
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


# ---------------------------------------------------------------------------------------------
# Figures
# Units: base unit and the factor to it. Measure words are their own base unit: 辆 and 台 are
# not compared (a sales figure in 台 may count something else than production in 辆).
_UNIT_FACTORS = {
    "平方公里": ("平方米", 1e6), "平方千米": ("平方米", 1e6), "公顷": ("平方米", 1e4), "亩": ("平方米", 10000 / 15),
    "平方米": ("平方米", 1.0), "公里": ("米", 1000.0), "千米": ("米", 1000.0), "米": ("米", 1.0),
    "吨": ("千克", 1000.0), "公斤": ("千克", 1.0), "千克": ("千克", 1.0), "％": ("%", 1.0),
}  # fmt: skip
_MEASURE_WORDS = (
    "个百分点 百分点 千瓦时 千瓦 人次 小时 元 % ‰ 辆 台 套 列 个 家 项 所 座 名 位 次 趟 人 条 张 株 棵 场 届 批 种 类 倍 "
    "户 间 栋 层 份 件 款 只 篇 部 天 岁 架 艘 宗 块 处 幅 根 盏 辆次 班 起 例 对 支 台套"
).split()
_UNIT_WORDS = sorted({*_UNIT_FACTORS, *_MEASURE_WORDS}, key=len, reverse=True)  # longest first
_MULTIPLIERS = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_FIGURE = re.compile(
    rf"(?<![A-Za-z\d.])(?P<num>(?:{_NUM})(?:{_DASH}(?:{_NUM}))?|{_CN_NUM})"
    r"(?P<approx1>余|多)?(?P<mult>万亿|亿|万|千(?![米克瓦]))?(?P<approx2>余|多)?"
    rf"(?P<unit>{'|'.join(map(re.escape, _UNIT_WORDS))})?(?P<post>以上|以下|以内|左右|上下)?"
)
_PREFIX_QUALIFIER = re.compile(r"(?:大约|约为|约|将近|接近|近|超过|超出|超|逾|突破|不到|不足|不少于|至少|多达|高达)$")
_BOUND = {  # what a qualifier says about the true value relative to the written one
    **dict.fromkeys("超过 超出 超 逾 突破 余 多 以上 不少于 至少 多达 高达".split(), "at_least"),
    **dict.fromkeys("不到 不足 以下 以内 将近 接近 近".split(), "at_most"),
    **dict.fromkeys("约 大约 约为 左右 上下".split(), "about"),
}
# A change ("同比增长6%", "增加23个", "增速6.6%") rather than a level; "增至70%" is a level.
_CHANGE = re.compile(
    r"(?:同比|环比|比上年|较上年|比去年|较去年|年均)?"
    r"(?:增长率|增长|增加|下降|减少|提高|提升|降低|上升|上涨|回落|下滑|增速|增幅|涨幅|降幅|多出|少了?)"
    r"(?:了|为|达到|达|是)?$"
)
_PLAN_CUE = re.compile(
    r"预计|预期|有望|力争|争取|确保|目标(?:是|为|值|任务)|(?<!才)计划(?![”\"」》）)])|拟|规划|即将|将(?!近)|要(?:实现|达到|完成|突破)"
)
_ESTIMATE_CUE = re.compile(r"预计|预期|有望")
_TARGET_CUE = re.compile(r"力争|争取|确保|目标")
_CLAUSE_END = re.compile(r"[，,；;。：:！？!?\n、（(）)“”\"]")
# Words around a quantity's name that are not part of it.
_LEAD_WORDS = re.compile(
    r"^(?:其中|同时|以及|全年|全区|全市|全省|全国|累计|共计|总共|一共|共|预计|预期|计划|力争|争取|目标|确保|将|拟|"
    r"实现|完成|达到|达|为|是|有|在|和|与|及|并|的|了|约|其|当年|年底|年末|年初|分别|比|较)+"
)
_TAIL_WORDS = re.compile(r"(?:分别|约为|达到|达|为|是|有|了|的|共|累计|实现|完成|突破|超过|超|逾|近|约|等)+$")
_ADMIN_PLACE = re.compile(r"..+?(?:省|市|区|县|州|镇|乡|旗)$")
_NOT_PLACE = re.compile(r"(?:开发|示范|产业|工业|园|城|辖|社|小|街|景|片|商|全|地|都|市|新城)区$|^(?:全|城|都)市$")
_NOUN_TAGS = ("n", "a", "b", "j", "l", "eng", "m")  # tags a noun phrase after a figure may continue with


@dataclass(frozen=True)
class Figure:
    """One number with its unit in a sentence, and what it is a number of."""

    text: str  # verbatim span: qualifier + number + unit, with the change words ("同比增长6%")
    start: int  # offsets of `text` in the sentence
    end: int
    value: float  # as written: 46.0 for "超46万辆"
    unit: str  # as written: "万辆"
    base_value: float  # in the base unit: 460000.0
    base_unit: str  # "辆", "元", "%", "平方米"
    quantity: str  # what it measures: "整车产量", "地区生产总值"; "" when the sentence does not say
    qualifier: str | None = None  # 约 / 超 / 余 / 以上 ... as written
    bound: str = "exact"  # exact | at_least | at_most | about
    growth: bool = False  # a change or growth rate, not a level
    period: Period | None = None
    kind: str = "outcome"  # outcome | estimate (预计 about its own year or earlier) | plan | target | forecast
    place: str | None = None  # the administrative place named before it, if any
    value_high: float | None = None  # the upper end of a range ("3-5家"), in the base unit
    precision: float = 1.0  # the rounding step of the written number, in the base unit

    @property
    def is_plan(self) -> bool:
        """Plan, target or forecast: not comparable with outcomes (an estimate is an outcome)."""
        return self.kind in ("plan", "target", "forecast")


def figures(sentence: str, *, article_date: str | None, context_year: str | int | None = None) -> list[Figure]:
    """Every figure (number with a unit) in `sentence`, in order.

    article_date: the article's ISO date, against which 今年/去年/明年 are resolved; None leaves
    their year unknown. context_year: the last explicit year stated earlier in the same article,
    the year of figures whose own sentence names none.
    """
    article_year = _year_of(article_date)
    start_year = int(context_year) if context_year not in (None, "") else None
    times = [m for m in _time_spans(sentence) if not m.group("skip")]
    places = _places(sentence)
    periods = _PeriodTracker(sentence, times, _TimeState(year=start_year), article_year)
    out: list[Figure] = []
    for m in _FIGURE.finditer(sentence):
        if not _is_figure(m, times):
            continue
        parsed = _parse_number(m.group("num"))
        if parsed is not None:
            out.append(_build(sentence, m, parsed, periods.at(m.start()), article_year, places, out))
    return _assign_respectively(sentence, out, article_year)


def _is_figure(m: re.Match[str], times: list[re.Match[str]]) -> bool:
    if not (m.group("unit") or m.group("mult")):
        return False  # a bare number: a code, a model name ("5系")
    if any(t.start() < m.end() and m.start() < t.end() for t in times):
        return False  # part of a year or month
    raw = m.group("num")
    # "一件事", "三年行动": a lone Chinese digit is rarely a figure; "二十家" and "两万人" are.
    return bool(re.match(r"\d", raw) or re.search(r"[十百千]", raw) or m.group("mult"))


class _PeriodTracker:
    """The time state at each position of a sentence, read left to right.

    A time expression holds until the next one, except after 其中 ("1月至8月, X…, 其中8月份…;
    Y…"): there it is a detail of its own clause, and the state before it returns at the next
    semicolon.
    """

    def __init__(self, sentence: str, times: list[re.Match[str]], state: _TimeState, base_year: int | None) -> None:
        events: list[tuple[int, str, re.Match[str] | None]] = [(t.start(), "time", t) for t in times]
        events += [(m.start(), "detail", None) for m in re.finditer("其中", sentence)]
        events += [(m.start(), "restore", None) for m in re.finditer("[；;]", sentence)]
        self._events = sorted(events, key=lambda e: e[0])
        self._state, self._saved, self._base, self._i = state, None, base_year, 0
        self._saved: _TimeState | None = None

    def at(self, pos: int) -> Period | None:
        while self._i < len(self._events) and self._events[self._i][0] < pos:
            _, what, m = self._events[self._i]
            if what == "detail":
                self._saved = _TimeState(**vars(self._state))
            elif what == "restore" and self._saved is not None:
                self._state, self._saved = self._saved, None
            elif m is not None and not m.group("date"):
                _apply(self._state, m, self._base)
            self._i += 1
        return self._state.period()


def _parse_number(raw: str) -> tuple[float, float | None, float] | None:
    """(value, upper end of a range, rounding step) of a written number.

    The step is the last written digit's place ("46.2" 0.1, "46" 1); trailing zeros of an
    integer may be rounding ("940" ~ 935-945), but at most a tenth of the value, so that "100"
    and "140" still differ.
    """
    parts = re.split(_DASH, raw)
    values = [cn_number(p) for p in parts]
    if not values or any(v is None for v in values):
        return None
    last = parts[-1].replace(",", "")
    if "." in last:
        step = 10.0 ** -len(last.split(".")[1])
    elif re.fullmatch(r"\d+", last) and last.strip("0"):
        zeros = len(last) - len(last.rstrip("0"))
        step = max(1.0, min(10.0**zeros, float(last) / 10))
    else:
        step = 1.0
    return values[0], (values[1] if len(values) > 1 else None), step  # type: ignore[return-value]


def _places(sentence: str) -> list[tuple[int, str]]:
    """(offset, name) of administrative places named in the sentence ("沈阳市", "大东区").

    Only names with an administrative suffix: jieba tags many ordinary words as places
    ("上市", "新建", "中欧" in 中欧班列), so a bare ns tag is not trusted.
    """
    found, pos = [], 0
    for tok in pseg.lcut(sentence):
        word = tok.word
        if tok.flag.startswith("n") and _ADMIN_PLACE.match(word) and not _NOT_PLACE.search(word):
            found.append((pos, word))
        pos += len(word)
    return found


def _clean_name(name: str) -> str:
    """Strip time words, verbs and particles around a quantity's name."""
    for _ in range(3):
        name = _TIME.sub("", name)
        name = _LEAD_WORDS.sub("", name)
        name = _TAIL_WORDS.sub("", name).strip(" \u3000")
    return name


def _noun_after(text: str) -> str:
    """The noun phrase at the start of `text` ("5g基站" of "5g基站,引进…")."""
    text = _CLAUSE_END.split(text, maxsplit=1)[0]
    if nxt := next((m for m in _FIGURE.finditer(text) if m.start() > 0 and (m.group("unit") or m.group("mult"))), None):
        text = text[: nxt.start()]
    words = []
    for i, tok in enumerate(pseg.lcut(text)):
        if not tok.flag.startswith(_NOUN_TAGS) or (i and tok.flag == "nr"):
            break  # a verb ends the phrase; "nr" after the first word is usually a mis-tagged verb
        words.append(tok.word)
    return _clean_name("".join(words))


def _quantity(before: str, after: str, places: list[tuple[int, str]]) -> str:
    """The noun phrase a figure measures: the clause before it, or, when that is only a verb
    ("新建126座口袋公园") or lists examples ("引进X等6个载体"), the noun after it."""
    for _, place in places:
        before = before.replace(place, "")
    name = _clean_name(before)
    examples = before.rstrip().endswith("等")
    if (len(name) <= 2 and not re.search(r"[A-Za-z]", name)) or examples:
        noun = _noun_after(after)
        if noun:
            verb = "" if examples else name
            return verb + noun
    return name


def _kind(sentence: str, before: int, period: Period | None, article_year: int | None) -> str:
    """Plan / target / forecast / estimate / outcome, from the planning words before the figure
    in its sentence and from its year against the article's."""
    cues = list(_PLAN_CUE.finditer(sentence, 0, before))
    if cues and _new_time_after(sentence, cues[-1].end(), before):
        cues = []  # "力争…204个，去年同期为150个": a later clause about another time is no plan
    year = period.year if period else None
    future = year is not None and article_year is not None and year > article_year
    if not cues:
        return "plan" if future else "outcome"
    cue = cues[-1].group(0)
    if _ESTIMATE_CUE.match(cue):
        # 预计 in a year-end article about its own year estimates the outcome: it is no plan.
        known_past = year is not None and article_year is not None and year <= article_year
        return "estimate" if known_past else "forecast"
    return "target" if _TARGET_CUE.match(cue) else "plan"


def _new_time_after(sentence: str, cue_end: int, before: int) -> bool:
    """Whether a clause after the planning word (not its own) names a year before the figure."""
    boundary = _CLAUSE_END.search(sentence, cue_end, before)
    if boundary is None:
        return False
    return any(t.group("year") or t.group("rel") for t in _TIME.finditer(sentence, boundary.end(), before))


def _clause_start(sentence: str, pos: int, previous: Figure | None) -> int:
    ends = [e.end() for e in _CLAUSE_END.finditer(sentence, 0, pos)]
    start = ends[-1] if ends else 0
    return max(start, previous.end) if previous else start


def _build(
    sentence: str,
    m: re.Match[str],
    parsed: tuple[float, float | None, float],
    period: Period | None,
    article_year: int | None,
    places: list[tuple[int, str]],
    earlier: list[Figure],
) -> Figure:
    value, high, step = parsed
    previous = earlier[-1] if earlier else None
    clause_start = _clause_start(sentence, m.start(), previous)
    before, start = sentence[clause_start : m.start()], m.start()
    qualifier = m.group("approx1") or m.group("approx2") or m.group("post")
    if q := _PREFIX_QUALIFIER.search(before):
        qualifier, start, before = q.group(0), start - len(q.group(0)), before[: -len(q.group(0))]
    change = _CHANGE.search(before)
    if change:
        start, before = start - len(change.group(0)), before[: -len(change.group(0))]
    factor = _MULTIPLIERS.get(m.group("mult") or "", 1.0)
    base_unit, unit_factor = _UNIT_FACTORS.get(m.group("unit") or "", (m.group("unit") or "", 1.0))
    factor *= unit_factor
    quantity = _quantity(before, sentence[m.end() :], places)
    if not quantity and previous is not None and (change or previous.base_unit == base_unit):
        # "GDP 940亿元,同比增长6%": the growth of the figure before; "…120万辆，去年同期为109万辆":
        # the same quantity at another time.
        quantity = previous.quantity
    return Figure(
        text=sentence[start : m.end()],
        start=start,
        end=m.end(),
        value=value,
        unit=(m.group("mult") or "") + (m.group("unit") or ""),
        base_value=value * factor,
        base_unit=base_unit,
        quantity=quantity,
        qualifier=qualifier,
        bound=_BOUND.get(qualifier or "", "exact"),
        growth=bool(change),
        period=period,
        kind=_kind(sentence, m.start(), period, article_year),
        place=next((p for pos, p in reversed(places) if pos < m.start()), None),
        value_high=high * factor if high is not None else None,
        precision=step * factor,
    )


def _assign_respectively(sentence: str, found: list[Figure], article_year: int | None) -> list[Figure]:
    """"刑事、治安警情分别下降50.3%、22.2%" / "2022年和2023年分别为100亿元和120亿元": the k-th figure
    of a list after 分别 belongs to the k-th name (or period) listed before it, and is a change
    when the first one is."""
    out, i = list(found), 0
    while i < len(out):
        listed = _respectively_list(sentence, out[i], article_year)
        group = [i]
        while group[-1] + 1 < len(out) and sentence[out[group[-1]].end : out[group[-1] + 1].start] in "、和与及":
            group.append(group[-1] + 1)
        if listed and len(group) == len(listed):
            for (name, period), j in zip(listed, group, strict=True):
                kind = _kind(sentence, out[j].start, period, article_year)
                out[j] = replace(out[j], quantity=name or out[j].quantity, growth=out[i].growth, period=period, kind=kind)
            i = group[-1]
        i += 1
    return out


def _respectively_list(sentence: str, first: Figure, article_year: int | None) -> list[tuple[str, Period | None]]:
    ends = [e.end() for e in re.finditer(r"[，,；;。：:！？!?\n]", sentence[: first.start])]
    head = sentence[ends[-1] if ends else 0 : first.start]
    m = re.search(r"^(.*?)分别", head)
    if not m:
        return []
    pieces = re.split(r"[、和与及]", m.group(1))
    if len(pieces) < 2:
        return []
    times = [[t for t in _time_spans(p) if t.group("year") or t.group("rel")] for p in pieces]
    if all(times):  # a list of years: each figure gets its year, all share the quantity
        shared = _clean_name(pieces[-1]) or first.quantity
        months = first.period.months if first.period else None
        listed = []
        for piece in pieces:
            state = _TimeState(year=None, months=months)
            for t in _time_spans(piece):
                _apply(state, t, article_year)
            listed.append((shared, state.period()))
        return listed
    names = [_clean_name(n) for n in pieces]
    if not all(names):
        return []
    last = names[-1]
    if all(len(n) <= 2 for n in names[:-1]) and len(last) > len(names[-2]):
        # "刑事、治安警情": the last name carries the shared head noun (警情).
        tail = last[len(names[-2]) :]
        names = [n + tail for n in names[:-1]] + [last]
    return [(n, None) for n in names]
