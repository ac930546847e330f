"""Figures in a sentence: number, unit, what it measures, its period, plan or outcome.

A figure is a number with a unit ("超46万辆", "同比增长6%", "二十亿元"). Each gets the quantity
it measures (the noun phrase before it, or after it in "新建126座口袋公园"), its qualifier
(约/超/余/以上) and what that says about the true value, whether it is a change (同比增长6%)
or a level, the period it covers (periods.py), the administrative place named before it, and
whether it is a plan / target / forecast or an outcome. Pure: strings in, dataclasses out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

import jieba.posseg as pseg

from dadong_qa.answering.periods import (
    CN_NUMERAL,
    DASH,
    TIME,
    Period,
    PeriodTracker,
    TimeState,
    apply_time,
    cn_number,
    time_spans,
    year_of,
)
from dadong_qa.answering.spans import CURRENCIES, MEASURE_WORDS
from dadong_qa.text import CJK

# Units: base unit and the factor to it. Measure words are their own base unit: 辆 and 台 are
# not compared (a sales figure in 台 may count something else than production in 辆).
_UNIT_FACTORS = {
    "平方公里": ("平方米", 1e6), "平方千米": ("平方米", 1e6), "公顷": ("平方米", 1e4), "亩": ("平方米", 10000 / 15),
    "平方米": ("平方米", 1.0), "公里": ("米", 1000.0), "千米": ("米", 1000.0), "米": ("米", 1.0),
    "吨": ("千克", 1000.0), "公斤": ("千克", 1.0), "千克": ("千克", 1.0), "％": ("%", 1.0),
}  # fmt: skip
# Beside the counting words and currencies (spans.MEASURE_WORDS, CURRENCIES, one list each for
# both): 元, rates and energy.
_MEASURE_WORDS = (*MEASURE_WORDS, *CURRENCIES, *"千瓦时 千瓦 小时 元 % ‰".split())
_UNIT_WORDS = sorted({*_UNIT_FACTORS, *_MEASURE_WORDS}, key=len, reverse=True)  # longest first
_MULTIPLIERS = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_FIGURE = re.compile(
    rf"(?<![A-Za-z\d.])(?P<num>(?:{_NUM})(?:{DASH}(?:{_NUM}))?|{CN_NUMERAL})"
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
# A count of what was added ("新增高新技术企业93家", "新建5G基站1100个"): a change of a level the
# sentence may give beside it ("总数达到350家"), though it is written as a level.
ADDED = re.compile(r"新(?:增|建|开|引进|落户|认定|培育|招|设|注册|签约|开工)")
# Words that make a sentence a plan or a target, defined once for the figures here and for the
# sentences evidence.py weighs. Not where they are something else:
# - 争取 before a thing reports what was won ("争取…政策支持17个，发放…补助4500余万元", "争取上级
#   资金3.2亿元"); it plans only before what is to be done or by when ("争取实现…", "争取年内开工");
# - 计划 ending a programme's name ("落实“兴沈英才计划”") or 才计划;
# - 目标 as a noun ("围绕共同富裕目标，…发放帮扶救助资金7018万元"): only 目标是 / 为 / 值 / 任务;
# - 拟 inside 模拟, 虚拟, 比拟, 草拟 (encyclopedia text).
# The news questions "科技专项补助发了多少钱？" and "救助资金发了多少？" were refused at p 0.00:
# their sentences, from a year-end review, were read as plans.
_STRIVE = r"争取(?=实现|达到|完成|突破|建成|开工|投产|进入|新增|引进|在|于|年内|全年|早日|尽快|到\d)"
PLAN_WORDS = re.compile(rf"力争|{_STRIVE}|目标(?:是|为|值|任务)|(?<!才)计划(?![”\"」》）)])|(?<![模虚比草])拟|将要")
_PLAN_CUE = re.compile(rf"预计|预期|有望|确保|{PLAN_WORDS.pattern}|规划|即将|将(?!近)|要(?:实现|达到|完成|突破)")
_ESTIMATE_CUE = re.compile(r"预计|预期|有望")
_TARGET_CUE = re.compile(r"力争|争取|确保|目标")
_CLAUSE_END = re.compile(r"[，,；;。：:！？!?\n、（(）)“”\"]")
# Words around a quantity's name that are not part of it.
_LEAD_WORDS = re.compile(
    r"^(?:(?:某|该|本|我|全)[省市区县镇乡]|其中|同时|以及|全年|全国|累计|共计|总共|一共|共|预计|预期|计划|力争|争取|目标|确保|将|拟|"
    r"实现|完成|达到|达|为|是|有|在|和|与|及|并|的|了|约|其|当年|年底|年末|年初|分别|比|较)+"
)
_TAIL_WORDS = re.compile(
    r"(?:分别|约为|达到|达|为|是|有|了|的|共|累计|实现|完成|突破|超过|超|逾|近|约|等|首次|均|从|力争|争取|计划|预计|将|"
    r"(?:增|升|提升|提高|跃升|增加|下降|降|保持)(?:至|到|在))+$"
)
_ADMIN_PLACE = re.compile(f"[{CJK}]{{2,6}}(?:省|市|区|县|州|镇|乡|旗)$")
# Words with an administrative suffix that name no place ("开发区", "老旧小区", "上市", "城市").
_NOT_PLACE = re.compile(
    r"(?:开发|示范|产业|工业|服务|保护|风景|试验|实验|功能|核心|集聚|自贸|生活|居住|商业|新城|"
    r"[园城辖社小街景片商全地都市校厂矿院营灾疫库战学郊]|行政|大洋|海洋|选举)区$|(?:[上超城都股楼车夜集门入开全]|城市)市$|(?:全|各|设)[省县镇乡]$"
)
_PLACE_CUT = frozenset("p c u uj ul d r m x v q f".split())  # tags a place name never continues over
_NOUN_TAGS = ("n", "a", "b", "j", "l", "eng", "m")  # tags a noun phrase after a figure may continue with
_SUBJECT_TAGS = ("n", "b", "j", "l", "eng")  # nouns of every kind (nr, ns, nz, nt too), no numbers


# How an answer names a figure that is no outcome, after its period: "（2023年计划）".
KIND_NAMES = {"plan": "计划", "target": "目标", "forecast": "预计"}


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
    # What the figure belongs to when its own clause does not say: the noun phrase opening the
    # sentence, places left out ("松花江大桥" of "松花江大桥于2023年建成通车，全长3.2公里"); "" if none.
    subject: str = ""
    # One of a list of names given a figure each ("低保户、特困分散供养人员救助标准分别高出全市11.5%、7.4%").
    listed: bool = False

    @property
    def is_plan(self) -> bool:
        """Plan, target or forecast: not comparable with outcomes (an estimate is an outcome)."""
        return self.kind in ("plan", "target", "forecast")


def is_added(figure: Figure) -> bool:
    """Whether the figure counts what was added (its quantity says 新增, 新建 …)."""
    return ADDED.search(figure.quantity) is not None


def figures(
    sentence: str,
    *,
    article_date: str | None,
    context_year: str | int | None = None,
    context_months: tuple[int, int] | None = None,
) -> list[Figure]:
    """Every figure (number with a unit) in `sentence`, in order.

    article_date: the article's ISO date, against which 今年/去年/明年 are resolved; None leaves
    their year unknown. context_year: the last explicit year stated earlier in the same article,
    the year of figures whose own sentence names none. context_months: the part of the year a
    sentence continues ("1月至8月，…；" then "增速6.6%；"): see periods.context_periods.
    """
    year = year_of(str(context_year)) if context_year is not None else None
    return list(_figures(sentence, year_of(article_date), year, context_months))


@lru_cache(maxsize=8192)  # the same candidate sentences come back for many questions (~2 ms each)
def _figures(
    sentence: str, article_year: int | None, start_year: int | None, start_months: tuple[int, int] | None
) -> tuple[Figure, ...]:
    times = [m for m in time_spans(sentence) if not m.group("skip")]
    places = place_names(sentence)
    periods = PeriodTracker(sentence, TimeState(year=start_year, months=start_months), article_year)
    out: list[Figure] = []
    for m in _FIGURE.finditer(sentence):
        if not _is_figure(m, times):
            continue
        parsed = _parse_number(m.group("num"))
        if parsed is not None:
            out.append(_build(sentence, m, parsed, periods.at(m.start()), article_year, places, out))
    return tuple(_assign_respectively(sentence, out, article_year))


def _is_figure(m: re.Match[str], times: list[re.Match[str]]) -> bool:
    if not (m.group("unit") or m.group("mult")):
        return False  # a bare number: a code, a model name ("5系")
    if any(t.start() < m.end() and m.start() < t.end() for t in times):
        return False  # part of a year or month
    if m.string[m.end() : m.end() + 1] in ("级", "”", "」", "》"):
        return False  # "百亿级平台", "“民生十条”": a class or a name, not a count
    raw = m.group("num")
    if re.match(r"\d", raw):
        return True
    # Chinese numerals: "二十家", "两万人", "十万人" are figures; "一件事", "三年行动" (a lone digit)
    # and "千家万户", "民生十条" (a lone 十/百/千) are words; "数百名", "上千人" are no definite number.
    if m.string[max(0, m.start() - 1) : m.start()] in ("数", "几", "上", "成"):
        return False
    has_digit = bool(re.search("[零〇一二两三四五六七八九]", raw))
    return bool(m.group("mult")) or (has_digit and bool(re.search("[十百千]", raw)))


def _parse_number(raw: str) -> tuple[float, float | None, float] | None:
    """(value, upper end of a range, rounding step) of a written number.

    The step is the last written digit's place ("46.2" 0.1, "46" 1); trailing zeros of an
    integer may be rounding ("940" ~ 935-945), but at most a tenth of the value, so that "100"
    and "140" still differ.
    """
    parts = re.split(DASH, raw)
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


def place_names(sentence: str) -> list[tuple[int, str]]:
    """(offset, name) of administrative places named in the sentence ("沈阳市", "大东区").

    Only names with an administrative suffix: jieba tags many ordinary words as places
    ("上市", "新建", "中欧" in 中欧班列), so a bare ns tag is not trusted.
    """
    found, pos, previous = [], 0, None
    for tok in pseg.lcut(sentence):
        word, start = tok.word, pos
        pos += len(word)
        # jieba cuts some names ("浑|南区", "沈北|新区"): join a short suffix word to the word before.
        # Not after a whole name: "大东区|城镇" is 大东区 and 城镇, not a place "大东区城镇".
        joinable = previous is not None and previous.flag not in _PLACE_CUT and not _ADMIN_PLACE.match(previous.word)
        if len(word) <= 2 and joinable and (len(previous.word) == 1 or previous.flag == "ns"):
            word, start = previous.word + word, start - len(previous.word)
        previous = tok
        if _ADMIN_PLACE.match(word) and not _NOT_PLACE.search(word):
            found.append((start, word))
    return found


def _clean_name(name: str) -> str:
    """Strip time words, verbs and particles around a quantity's name."""
    for _ in range(3):
        name = TIME.sub("", name)
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
        in_phrase = tok.flag.startswith(_NOUN_TAGS) or tok.word in ("以上", "以下")  # "亿元以上项目"
        if not in_phrase or (i and tok.flag == "nr"):
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
    words = pseg.lcut(before.strip()) if name else []
    ends_in_verb = bool(words) and words[-1].flag == "v"  # "高标准完成121个老旧小区": the object follows
    if (len(name) <= 2 and not re.search(r"[A-Za-z]", name)) or examples or ends_in_verb:
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
    return any(t.group("year") or t.group("rel") for t in TIME.finditer(sentence, boundary.end(), before))


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
        base_value=_scale(value, factor),
        base_unit=base_unit,
        quantity=quantity,
        qualifier=qualifier,
        bound=_BOUND.get(qualifier or "", "exact"),
        growth=bool(change),
        period=period,
        kind=_kind(sentence, m.start(), period, article_year),
        place=next((p for pos, p in reversed(places) if pos < m.start()), None),
        value_high=_scale(high, factor) if high is not None else None,
        precision=_scale(step, factor),
        subject=_subject(sentence) if clause_start > 0 else "",
    )


@lru_cache(maxsize=8192)
def _subject(sentence: str) -> str:
    """The nouns opening `sentence` ("松花江大桥于…", "华晨宝马铁西工厂…"), without the places
    in them (a figure's place is compared on its own) and time words; "" when it opens otherwise."""
    words = []
    for tok in pseg.lcut(_CLAUSE_END.split(sentence, maxsplit=1)[0]):
        if not tok.flag.startswith(_SUBJECT_TAGS):
            break
        words.append(tok.word)
    noun = _clean_name("".join(words))
    for _, place in place_names(sentence):
        noun = noun.replace(place, "")
    return noun


def _scale(value: float, factor: float) -> float:
    """value * factor without binary noise (512.3亿 is 51230000000, not 51229999999.99999)."""
    return float(Decimal(repr(value)) * Decimal(repr(factor)))


def _assign_respectively(sentence: str, found: list[Figure], article_year: int | None) -> list[Figure]:
    """ "刑事、治安警情分别下降50.3%、22.2%" / "2022年和2023年分别为100亿元和120亿元": the k-th figure
    of a list after 分别 belongs to the k-th name (or period) listed before it, and is a change
    when the first one is."""
    out, i = list(found), 0
    while i < len(out):
        listed = _respectively_list(sentence, out[i], article_year)
        group = [i]
        while group[-1] + 1 < len(out) and sentence[out[group[-1]].end : out[group[-1] + 1].start] in "、和与及":
            group.append(group[-1] + 1)
        if listed and len(group) == len(listed):
            names = len({name for name, _ in listed}) == len(listed)  # names, not years of one quantity
            for (name, period), j in zip(listed, group, strict=True):
                kind = _kind(sentence, out[j].start, period, article_year)
                out[j] = replace(
                    out[j],
                    quantity=name or out[j].quantity,
                    growth=out[i].growth,
                    period=period,
                    kind=kind,
                    listed=names,
                )
            i = group[-1]
        i += 1
    return out


def _respectively_list(sentence: str, first: Figure, article_year: int | None) -> list[tuple[str, Period | None]]:
    """(quantity, period) of each item listed before 分别 in the clause of `first`; [] if none."""
    ends = [e.end() for e in re.finditer(r"[，,；;。：:！？!?\n]", sentence[: first.start])]
    head = sentence[ends[-1] if ends else 0 : first.start]
    m = re.search(r"^(.*?)分别", head)
    if not m:
        return []
    pieces = re.split(r"[、和与及]", m.group(1))
    if len(pieces) < 2:
        return []
    if all(any(t.group("year") or t.group("rel") for t in time_spans(p)) for p in pieces):
        return _listed_years(pieces, first, article_year)
    return [(n, None) for n in _listed_names(pieces)]


def _listed_years(pieces: list[str], first: Figure, article_year: int | None) -> list[tuple[str, Period | None]]:
    """A list of years: each figure gets its year, all share the quantity."""
    shared = _clean_name(pieces[-1]) or first.quantity
    months = first.period.months if first.period else None
    listed = []
    for piece in pieces:
        state = TimeState(year=None, months=months)
        for t in time_spans(piece):
            apply_time(state, t, article_year)
        listed.append((shared, state.period()))
    return listed


def _listed_names(pieces: list[str]) -> list[str]:
    """The listed names; "刑事、治安警情": the last carries the shared head noun (警情)."""
    names = [_clean_name(n) for n in pieces]
    if not all(names):
        return []
    last = names[-1]
    if all(len(n) <= 2 for n in names[:-1]) and len(last) > len(names[-2]):
        tail = last[len(names[-2]) :]
        names = [n + tail for n in names[:-1]] + [last]
    return names
