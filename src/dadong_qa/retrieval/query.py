"""Query understanding: a question is parsed once into a typed `Query`.

Retrieval (terms, years, expansions), answering (what kind of fact is asked for, in which unit,
planned or done, the words around the question word) and follow-up rewriting all read the
question through this module, so each question pattern is defined once, here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import jieba.posseg as pseg

from dadong_qa.answering.periods import Period, part_of_year, question_period, time_spans
from dadong_qa.answering.spans import ASKS_CHANGE, COUNTING, MONEY_NOUNS, SHARE_NOUNS, WHY
from dadong_qa.retrieval.thesaurus import Thesaurus  # loaded on first use, not on import
from dadong_qa.text import CJK, CJK_CHAR, STOPWORDS, as_written, half_width, normalize

# Question words, as they stand in a question. Rewriting uses this to tell a question from a
# fragment; answering uses the first one to find the slot the answer fills.
WH_WORD = re.compile(
    r"多少|几|什么|哪|谁|怎么|怎样|如何|为什么|为何|是否|吗|多大|多高|多长|多远|多久|何时|何地|何人|何种|啥|咋|有无|有没有"
)
# A word that is (or holds) a question word is not a content term.
_TERM_QWORD = re.compile(r"几|多少|什么|哪|谁|怎么|如何|为何|是否|啥|^多[长大重高远久宽深快]$")
# jieba part-of-speech tags of proper names (person, organisation, other): a name the articles
# never mention is another entity, not a paraphrase, so it is never expanded.
_NAME_TAGS = {"nrt", "nrfg", "nt", "nz"}  # plain "nr" is too often a misread unknown word
# Time words say *when*, not *what*; years are handled separately (see `Query.years`).
_TIME_WORD = re.compile(
    r"^(\d{1,4}|年|月|日|号|今年|去年|明年|前年|当年|上半年|下半年|年底|年初|年末|全年|至|到|目前|现在|当前|近年|近期|如今)$"
)
YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")  # in a question "2022的产值" still names a year
WRITTEN_YEAR = re.compile(r"((?:19|20)\d{2})年")  # in article text "2000亿元" is no year
# A question word inside a yes/no frame asks that word's question: "你知道…增长了多少吗？" asks how
# much (its short answer was the clause "规上工业增加值580.3亿元" for 7.1%), and so do the 4 such
# questions of CMRC train ("《雪山飞狐》的监制人是谁吗？"). 几乎 and 哪怕 are no question words.
_INNER_WH = re.compile(
    r"多少|(?<!几)几(?!乎)|什么|哪(?!怕)|谁|怎么|怎样|如何|为什么|为何|多大|多高|多长|多远|多久|何时|何地|何人|何种|啥|咋"
)
_TAG_MA = re.compile(r"吗(\s*[？?]?\s*)$")
_ASKING_FRAME = re.compile(
    r"^(?:请问)?(?:你|您|你们|谁|有谁|有人)?(?:知道|能告诉我|可以告诉我|能不能告诉我|请告诉我|告诉我)[，,]?"
)
# "The text" the question is about ("文中提及，…", "文中提到的…", "根据文章，…"): every article is the
# text here, and the reader lost 1.33 of the answer sentence's logit to a leading "文中" (400 DRCD
# questions; 19 of DRCD's 3,493 questions open so).
_TEXT_REFERENCE = re.compile(
    r"^(?:(?:根据|按照|依据)(?:文章|本文|原文|材料|报道|新闻|资料|上文)(?:中|里)?(?:的(?:内容|介绍|描述))?[，,：:]"
    r"|(?:在)?(?:文中|文章中|文章里|本文中?|原文中?|材料中|报道中|报道里|新闻中|新闻里|上文中?)"
    r"(?:所?(?:提到|提及|说|介绍|记载|列举)(?![了过]))?的?[，,：:]?)"
)
# A year typed with two digits ("大东区22年GDP", "08年北京奥运"): at the start, after punctuation, a
# preposition or a place ("…区22年"), and not a span of years ("前15年间", "统治的50年", "53年后",
# "70年代"), a range's end ("公元前12年至10年") or an era's year ("民国29年", "明治29年"). Of the 63
# two-digit "…年" in the public questions it reads 5 as years, all rightly (08年北京奥运, 1960年和66年).
# Read as typed, the year rules did not see them: "大东区21年规上工业增加值增长多少" was answered
# with 2022's 7.1%, and the reader lost 1.3 (DRCD) / 2.3 (CMRC trial) of the answer's logit.
_SHORT_YEAR = re.compile(
    r"(?:^|(?<=[\s，,、；;：:（(在于从和与及]|(?<!民)[区市县省州镇乡村国]))"
    r"(\d{2})(?=年(?!代|来|间|以来|之久|后|前|内|多|左右|里|半|时间|期间))"
)
_CONTENT = re.compile(f"[{CJK}a-z0-9]")

# What kind of fact the question wants.
_ASKS = {
    "quantity": re.compile(
        r"多少|几[个家项所座名次年天倍成]?|多大|多高|多长|多远|多快|比例|百分之|增长了?|增速|排名|第几|规模|金额|总额|总值"
    ),
    "person": re.compile(r"谁|哪位|什么人|哪个人|何人|姓名|名字"),
    "time": re.compile(r"哪天|哪一天|什么时候|何时|哪年|哪一年|几月|几号|日期|时间|哪个朝代|什么朝代"),
    "place": re.compile(r"哪里|哪儿|什么地方|哪个地方|何地|位于哪|在哪|哪个国家|哪个城市|哪个省"),
}
ANSWER_TYPES = tuple(_ASKS)

# Measure words a "how many" question names ("多少家", "几所"): the answer's number should carry it.
UNITS = (
    "平方公里|平方千米|平方米|公顷|公里|千米|亿元|万元|元|亿|万|个|家|项|所|座|名|位|次|趟|列|辆|台|套|人|吨|天|条|张|株|棵|"
    "场|届|批|种|类|倍|岁|户|间|栋|层|份|件|款|只|篇|部|亩|米|年|月"
)
_ASKED_UNIT = re.compile(rf"(?:多少|几)\s*({UNITS}|钱)")
# Nouns that name a dimension, and the units a figure of that dimension is written in: a
# sentence with "37.5公顷" answers "多少面积" although it never says 面积.
_DIMENSIONS = {
    ("面积", "占地", "用地", "多大"): "平方公里|平方千米|平方米|公顷|亩",
    ("长度", "里程", "距离", "多长", "多远"): "公里|千米|米",
    ("重量", "多重"): "吨|公斤|千克",
    MONEY_NOUNS: "元",
    ("人数", "人口"): "人次|人",
    (*SHARE_NOUNS, "多少倍"): "%|倍",
}
NUMBER_PREFIX = r"\d[\d.,]*\s*(?:余|多)?\s*(?:[十百千万亿]\s*)*"
DIMENSION_OF = {
    word: re.compile(NUMBER_PREFIX + rf"(?:{units})") for words, units in _DIMENSIONS.items() for word in words
}
# Questions whose answer is an explanation or a list: rarely one short span of one sentence.
_ASKS_REASON = re.compile(rf"{WHY}|为何|什么原因|原因是|怎么|怎样|如何|什么作用|什么意义|什么影响")
_ASKS_LIST = re.compile(r"哪些|有什么|有哪|包括什么|包含什么|分别")
_ASKS_YEAR = re.compile(r"哪一?年(?!级)|何年|什么年份|哪个年份|几几年")
# How many of something, by its measure word ("多少张", "几个"): answered by a count, never by a
# sentence stating none. Not a rank ("名次多少" is answered "排名第18"), a which-ones (哪几, 那几), 好几,
# a measure word that counts in order (届, 任, 代, 期, 号: "多少任君主" is answered "第30任"), or 几 in a
# question asked by another word ("为什么可以几个星期不喝水"). Of the 15,827 public questions, 439 are
# read so, and the gold sentence of each states a count.
_ASKS_COUNT = re.compile(rf"(?<![第哪那好])(?:多少|几)(?:{COUNTING})")
_NOT_A_COUNT = re.compile(r"排名|名次|排行|排位|位列|位居|排在|排第|为什么|为何|谁|什么|哪|怎么|如何")
# Whether the question asks what is planned or what has happened.
# Not 预计: "2022年预计实现的…" in a year-end report is an estimate of the outcome, "2024年预计…" a
# forecast; the question alone cannot tell (figures.py tells them apart by the article's date).
_ASKS_PLAN = re.compile(r"计划|打算|准备|目标|将要|将会|拟|力争|要[^求]")
# Not 了 alone: users write it in questions about a plan too ("大东区新增了多少个剧场？" of a 2023
# plan's 7个 was refused). A question with 了 and no other word of time asks what is, as one with
# none does: a plan gives way to a reported figure of the same thing (answer._outcomes_first) and
# answers, labelled as a plan, where there is none.
_ASKS_DONE = re.compile(r"已经|已|去年|曾经|完成")
# Not questions about the articles: greetings and thanks, and text with no Chinese at all.
_GREETING = re.compile(
    r"(?:你好|您好|大家好|嗨|哈喽|哈啰|早上好|上午好|中午好|下午好|晚上好|早安|晚安|谢谢|多谢|感谢|谢啦|再见|拜拜|在吗|在不在"
    r"|hi|hello|hey|thanks|thank you|bye)(?:呀|啊|哦|呢|吗|你|您)?",
    re.I,
)
_CJK_CHAR = CJK_CHAR
_PUNCT_SPACE = re.compile(r"[\s，,。.！!？?~～、…]+")
_SLOT_EDGE = re.compile(r"^[\s，,。？?！!、；;：:“”\"'（）()]+|[\s，,。？?！!、；;：:“”\"'（）()呢吗啊呀]+$")


@dataclass
class Query:
    text: str
    terms: list[str]  # content words, in question order
    years: set[str] = field(default_factory=set)  # explicit years the question is about
    names: set[str] = field(default_factory=set)  # terms that are proper names (never expanded)
    # term -> [(article word, credit 0..1)] for terms the articles do not use themselves
    expansions: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # terms that neither occur in the articles nor have any expansion: the question is about
    # something the articles never mention
    unmatched: list[str] = field(default_factory=list)
    answer_type: str | None = None  # one of ANSWER_TYPES, or None
    unit: re.Pattern[str] | None = None  # "a number in the asked unit", when the question names one
    wants_plan: bool = False
    wants_done: bool = False
    asks_reason: bool = False  # why / how: the answer is an explanation
    asks_list: bool = False  # which ones: the answer is a list
    asks_change: bool = False  # a change or growth rate, not a level
    asks_year: bool = False  # which year ("哪一年", "何年"): a sentence naming no year cannot answer
    asks_count: bool = False  # how many / how much: a sentence with no figure cannot answer
    small_talk: str | None = None  # "greeting" or "not_chinese": no question for the articles
    # The question's words right before and after its question word: in the answer sentence the
    # answer usually stands between them ("生命数耗完即算为[什么]" ~ "…即算为踢爆").
    slot_left: str = ""
    slot_right: str = ""
    # The period asked about ("2023年上半年"); None when the question names none, or several years
    # (parts.split_question answers those one year at a time).
    period: Period | None = None


def parse(question: str) -> Query:
    """Everything answering and retrieval read from the question, without the corpus. Its rules
    read it in simplified characters with years in digits and ASCII letters, as they are written
    ("增長了多少" asks a change as "增长了多少" does, "二〇二二年" and "22年" name 2022, "ＧＤＰ" is GDP:
    the reader's logit for 940亿元 was -5.7 under "ＧＤＰ", -0.3 under "GDP"), out of a yes/no frame around a
    question word ("你知道…多少吗？" asks how much); `Query.text` is that form."""
    question = unframed(full_years(as_written(half_width(question))))
    norm = normalize(question)
    terms, names = _terms(_without_periods(norm))
    plan, done = bool(_ASKS_PLAN.search(question)), bool(_ASKS_DONE.search(question))
    left, right = _slot(norm)
    return Query(
        text=question,
        terms=terms,
        years=set(YEAR.findall(norm)),
        names=names,
        answer_type=_answer_type(question),
        unit=unit_pattern(question),
        wants_plan=plan,
        wants_done=done,
        asks_reason=bool(_ASKS_REASON.search(question)),
        asks_list=bool(_ASKS_LIST.search(question)),
        asks_change=bool(ASKS_CHANGE.search(question)),
        asks_year=bool(_ASKS_YEAR.search(question)),
        asks_count=bool(_ASKS_COUNT.search(question)) and not _NOT_A_COUNT.search(question),
        small_talk=_small_talk(question),
        slot_left=left,
        slot_right=right,
        period=question_period(question),
    )


def unframed(question: str) -> str:
    """The question without a reference to "the text" ("文中提及，X是谁？" -> "X是谁？"), and the one a
    "你知道…吗" frame holds ("你知道大东区有博物馆吗？" -> "大东区有博物馆吗？"), and
    with a question word inside, that word's question ("你知道X是多少吗？" -> "X是多少？"); "X有毒吗？"
    stays a yes/no question."""
    question = _TEXT_REFERENCE.sub("", question) if len(question) > 8 else question
    if _TAG_MA.search(question) is None:
        return question
    inner = _ASKING_FRAME.sub("", question)
    if len(CJK_CHAR.findall(inner)) < 3:  # "你知道吗？" holds nothing
        inner = question
    if not _INNER_WH.search(inner):
        return inner
    m = _TAG_MA.search(inner)
    return inner[: m.start()] + (m.group(1).strip() or "？")


def full_years(question: str, this_year: int | None = None) -> str:
    """The question with its two-digit years in four digits ("22年" -> "2022年"; "98年" -> "1998年"
    when 2098 would be more than a year ahead)."""
    pivot = (this_year or date.today().year) % 100 + 1

    def full(m: re.Match[str]) -> str:
        return ("20" if int(m.group(1)) <= pivot else "19") + m.group(1)

    return _SHORT_YEAR.sub(full, question) if "年" in question else question


def parse_question(question: str) -> tuple[list[str], set[str]]:
    """(content terms, explicit years) of a question."""
    q = parse(question)
    return q.terms, q.years


def _without_periods(norm: str) -> str:
    """The question with the parts of a year it names blanked out: they say when, not what
    ("前八个月" read as 前 + 八个 matched nothing and got 前行, 一批 as expansions); a month alone
    stays ("五月艾" is a plant)."""
    for m in reversed(time_spans(norm)):
        if part_of_year(m) is not None:
            norm = norm[: m.start()] + " " + norm[m.end() :]
    return norm


def _terms(norm: str) -> tuple[list[str], set[str]]:
    """(content terms, the terms that are proper names) of a normalised question."""
    terms: list[str] = []
    names: set[str] = set()
    for w, flag in pseg.lcut(norm, HMM=False):  # HMM would glue particles into fake words ("区中")
        w = w.strip()
        if (
            not w
            or w in STOPWORDS
            or not _CONTENT.search(w)
            or _TERM_QWORD.search(w)
            or _TIME_WORD.match(w)
            or w in terms
        ):
            continue
        terms.append(w)
        if (flag in _NAME_TAGS and len(w) >= 2) or (flag == "nr" and len(w) >= 3):
            names.add(w)
    return terms, names


def _small_talk(question: str) -> str | None:
    bare = _PUNCT_SPACE.sub("", question)
    if _GREETING.fullmatch(bare):
        return "greeting"
    if not _CJK_CHAR.search(question) and re.search(r"[^\W\d_]", question):
        return "not_chinese"
    return None


def _answer_type(question: str) -> str | None:
    # Time and person first: "哪一年" and "哪位" are not places, "几月" is not a count.
    for kind in ("time", "person", "place", "quantity"):
        if _ASKS[kind].search(question):
            return kind
    return None


def _slot(norm: str) -> tuple[str, str]:
    m = WH_WORD.search(norm)
    if m is None:
        return "", ""
    return _SLOT_EDGE.sub("", norm[: m.start()]), _SLOT_EDGE.sub("", norm[m.end() :])


def unit_pattern(question: str) -> re.Pattern[str] | None:
    """A pattern for "a number in the unit the question asks for" ("多少家", "多少面积"), or None."""
    q = unicodedata.normalize("NFKC", question)
    m = _ASKED_UNIT.search(q)
    if m:
        unit = m.group(1)
        if unit == "钱":
            return DIMENSION_OF["钱"]
        units = {unit, *Thesaurus.measure_synonyms(unit)}
        alternatives = "|".join(sorted((re.escape(u) for u in units), key=len, reverse=True))
        return re.compile(NUMBER_PREFIX + f"(?:{alternatives})")
    if _ASKS["quantity"].search(q):
        for word, pattern in DIMENSION_OF.items():
            if word in q:
                return pattern
    return None
