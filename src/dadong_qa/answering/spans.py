"""What a question asks for, and the patterns of the spans that answer it.

A question is read for the kind of answer it wants (a number, a date, a person, ...), the
wh-word that stands where the answer would stand, and the words right around it. The patterns
(figures with their units and qualifiers, dates, 《》 titles) are how short.py completes the
reader's span to the whole figure or date it cuts into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jieba.posseg as pseg

from dadong_qa.answering.periods import CN_NUMERAL, cn_number
from dadong_qa.text import STOPWORDS, normalize

# Answer kinds a question can ask for, most specific first: the first pattern found decides.
# "几年" asks a number of years, "哪年" a date, so date patterns name the year explicitly.
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "date",
        re.compile(
            r"哪一?年|何年|哪一?天|何时|什么时[候间]|几时|哪个?时[候期]|何日|哪一?个?月|几[月号]|哪个?(?:年代|世纪)"
        ),
    ),
    ("person", re.compile(r"谁|哪一?位|什么人|何人|哪个人|哪些人|哪一?名")),
    ("place", re.compile(r"哪里|哪儿|哪个?地方|什么地方|何[地处]|在哪|哪个?国家?|哪一国|哪[个座]?城市|哪个?[省州]")),
    ("title", re.compile(r"哪一?[部本首篇]|什么[书歌曲]|什么电影|什么作品|哪部作品")),
    ("number", re.compile(r"多少|几|多[大长高远重久深宽厚快]|百分之")),
    ("noun", re.compile(r"什么|哪[个些一种类]?|何")),
)
# A "什么/哪个" question whose noun names a person or a place asks for one: "哪一位作家", "哪一国".
NOUN_HEADS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("person", re.compile(r"[一个位名]{0,2}(?:人|者|作家|学者|皇帝|国王|总统|将军|家族)")),
    ("place", re.compile(r"[一个座]{0,2}(?:国家?|省|城市?|地区?|州|县|岛|洲|山|河)(?![家语文人])")),
)
# "为什么" asks why, except where it ends the question after a verb that 为 completes ("简称为什么？",
# "被任命为什么官职？", "被称之为什么？", "成为什么的代名词？"): there it is "为 + 什么" and asks a name
# or a thing. 189 of the 15,827 public questions are written so, every one answered by a name or a
# thing; "中文名称为什么又叫…？" still asks why.
WHY = r"(?:(?<![称名改号成作命类封译誉列选评认之])为什么|为什么(?![^，,。？?！!]{0,4}[？?！!。]?\s*$))"
# Why / how / describe questions want an explanation, not a span.
NON_FACTOID = re.compile(rf"{WHY}|为何|怎么样|怎样|如何|怎么|介绍|原因|何以|什么样|有何影响|有何意义")

_DIGITS = r"\d[\d,.]*|[零〇一二三四五六七八九十两百千万亿]+"
# Latin units ("30km", "1.601 km²", "350kW") are written after a space or not; a bare 万/亿 ends
# a figure too ("六亿七千多万美金").
_LATIN_UNIT = (
    r"\s?(?:[kKmMcG]?[mgWwVBb]|km|kg|mil|Hz|kHz|MHz|GHz|mAh|kWh|ml|mL|cm|mm|CM|KM)[²³]?(?![A-Za-z])|[㎝㎞㎡㎏㎎㎜]"
)
# Measure words that count things ("93家", "2000套", "两类"), shared with figures.py: the short
# answer and the figure reader must agree on where a figure ends. "套" and "类" were missing here,
# so "2000套以上人才公寓" was answered "2000" and CMRC's "分为几类" got "两" (gold 两类).
MEASURE_WORDS: tuple[str, ...] = tuple(
    "个百分点 百分点 人次 辆次 台套 个 家 项 所 座 名 位 次 趟 人 条 张 株 棵 场 届 批 种 类 倍 户 间 栋 层 份 件 "
    "款 只 篇 部 天 岁 架 艘 宗 块 处 幅 根 盏 辆 台 套 列 班 起 例 对 支 本 首 集 册 卷 枚 股".split()
)
# Measure words that count in order ("第30任", "第2届"): a question asking "多少任" wants a rank.
ORDERED_MEASURES = ("届", "任", "代", "期", "号")
# The counting measure words as one alternation, longest first (query.py's how-many questions,
# parts.py's counted noun).
COUNTING = "|".join(w for w in sorted(MEASURE_WORDS, key=len, reverse=True) if w not in ORDERED_MEASURES)
# Currencies beside 元, shared with figures.py: "耗资5亿日圆" had no short answer (日圆 ended no figure).
CURRENCIES: tuple[str, ...] = tuple(
    "美元 美金 日元 日圆 港元 港币 欧元 英镑 新台币 台币 韩元 澳元 加元 卢布 法郎 马克 人民币".split()
)
# Units of measure, money and time a short answer's figure may end with (figures.py reads its own
# physical units, with factors between them, and no time units: a date is not a quantity there).
# A multiplier before any of them is read by _UNIT ("亿元", "万人").
_SPAN_UNITS = (
    "平方公里 平方千米 平方米 千米 公里 公尺 公分 公厘 厘米 毫米 米 英里 英尺 英亩 光年 公斤 千克 公顷 "
    "元 吨 克 亩 年 日 月 小时 分钟 秒 度 分 点 号 期 代 "
    "世纪 磅 瓦 千瓦时 千瓦 伏 升 毫升 公升 卡 头 发 级 字"
).split()
_UNIT_ALTERNATIVES = "|".join(
    map(re.escape, sorted({*_SPAN_UNITS, *MEASURE_WORDS, *CURRENCIES}, key=len, reverse=True))
)
# 余 / 多 may stand after the multiplier as well as before it: "5万余件" ended at "5万" (the count
# of 件 lost), while "4500余万元" was read whole.
_MULTIPLIED = r"[十百千万亿]*(?:(?<=[十百千万亿])[余多])?"
_UNIT = rf"(?:{_MULTIPLIED}(?:{_UNIT_ALTERNATIVES})|[十百千万亿]+[余多]?|%|％|‰|{_LATIN_UNIT})?"
_QUALIFIER = r"(?:大约|约|超过|超|近|逾|达到|达|共|仅|多达|将近|不到|至少|高达|不足|接近)?"
QUALIFIER = re.compile(_QUALIFIER)
_CHANGE_VERB = r"增长|下降|增加|减少|提高|降低|上升"
CHANGE_VERB = re.compile(_CHANGE_VERB)
# A question for a change or growth rate, not a level: "…增长了多少" (同比增长6%) vs "…是多少"
# (940亿元); 涨 / 跌 as people type it ("财政收入涨了多少" got the level 112.1亿元). A comparison with
# an earlier time asks for the difference ("比去年同期多卖了多少台"). Not 增加值 ("规上工业增加值是
# 多少" asks for the level 580.3亿元, not its 7.1% growth): value added.
ASKS_CHANGE = re.compile(
    r"增长|增速|增幅|下降|减少|增加(?!值)|提高|降低|变化|涨|跌|同比|环比|多出|高出|比(?:去年|上年|前年|上月|同期|\d{4}年)"
    # and a comparison with another thing: "X5比进口的多卖了多少台" (7500余台, not the 2.1万台 sold);
    # no public question reads so ("比例是多少", "比赛中得了多少分" do not)
    r"|比[^，,。？?]{1,10}?[多少](?=[^，,。？?]*(?:多少|几))"
)
# Nouns that ask for money or for a share when no measure word follows 多少 (also query.py's
# dimensions): "给企业发了多少上云补贴？" is answered in 元 (1978万元), not by the 24家 that got it.
MONEY_NOUNS = (
    "金额",
    "资金",
    "投资",
    "收入",
    "经费",
    "费用",
    "成本",
    "产值",
    "价格",
    "总额",
    "钱",
    "补贴",
    "补助",
    "资助",
    "奖金",
    "融资",
    "贷款",
)
SHARE_NOUNS = ("增速", "增幅", "增长率", "比例", "比重", "占比", "百分比")
_MONEY = re.compile("|".join(MONEY_NOUNS))
_SHARE = re.compile("|".join(SHARE_NOUNS))
_CHANGE = rf"(?:同比)?(?:{_CHANGE_VERB})了?"
_POST_BOUND = "以上|以下|以内|左右"  # a bound written after a figure ("2000套以上")
# "第4", "百分之三十", "百万分之一弧秒": ordinals and fractions are figures too.
_FIGURE = rf"第?(?:(?:{_DIGITS})分之)?(?:{_DIGITS})(?:多|余)?{_UNIT}"
# A range or a ratio is one figure: "15至20厘米", "276米-285米", "1：7" (digits either side of the
# colon: "两类：36枚" is a count and a list); and so is a time or an angle written in parts ("3分33秒62").
NUMBER = re.compile(
    rf"(?P<change>{_CHANGE})?(?P<qual>{_QUALIFIER}){_FIGURE}"
    rf"(?:(?:至|到|[-－~～—–]|(?<=\d)[:：]|(?<=[分秒时度]))(?:{_DIGITS})(?:多|余)?{_UNIT})*"
    rf"(?P<post>{_POST_BOUND})?"
)
# A question that says the bound itself ("超过多少米", "高于多少公厘", "大约多长") does not get it
# back in the answer; one that does not ("人才公寓有多少套") gets "2000套以上", not "2000套".
POST_BOUND = re.compile(rf"(?:{_POST_BOUND})$")
ASKED_BOUND = re.compile(r"以上|以下|以内|左右|上下|超过|超出|高于|低于|多于|少于|之上|之下|约|至少|至多|不到|不足")
DATE = re.compile(
    r"(?:公元前?|西元前?)?(?:\d{1,4}|[〇零一二三四五六七八九]{2,4})年(?:代|\d{1,2}月(?:\d{1,2}[日号])?)?(?:[（(][^）)]{1,12}[）)])?"
    r"|\d{1,2}月\d{1,2}[日号]|\d{1,2}世纪(?:\d{2}年代)?|\d{1,2}月"
)
_COUNT_DIGIT = re.compile(r"[\d一二两三四五六七八九十百千万亿]")


# An ordinal of a thing ("第49届超级碗", "第三次会议"): its number, measure word and the two
# characters of the thing after it. A sentence that gives the thing a question names another
# ordinal, and never the asked one, speaks of another one: "谁赢得了第49届超级碗？" was answered at
# p 0.99 from "…赢得第33届超级碗". 217 of the 15,827 public questions name an ordinal of a thing, and
# no gold sentence gives it another; two of one thing in a question ("从第一届到第四届") are a range.
_ORDINAL = re.compile(
    rf"第\s*(\d+|{CN_NUMERAL})\s*(届|次|任|期|号|代|世|场|轮|局|季|集|章|条|款|节|回|版)"
    r"\s*(?![到至和与及或])([\u4e00-\u9fff]{2})"
)
Ordinal = tuple[float | None, str, str]  # (number, measure word, the thing)


def ordinals(text: str) -> frozenset[Ordinal]:
    """The ordinals of things `text` names; none for a range of one thing."""
    found = frozenset((cn_number(n), measure, thing) for n, measure, thing in _ORDINAL.findall(normalize(text)))
    return found if len({f[1:] for f in found}) == len(found) else frozenset()


def other_ordinal(asked: frozenset[Ordinal], sentence: str) -> bool:
    """Whether `sentence` gives a thing of `asked` (`ordinals` of the question) another ordinal
    and never the asked one."""
    if not asked:
        return False
    given = ordinals(sentence)
    return any(o not in given and any(g[1:] == o[1:] and g[0] != o[0] for g in given) for o in asked)


def has_count(text: str) -> bool:
    """Whether the text states a count or an amount: a figure that is neither an ordinal (第二届)
    nor a date ("发放全市首批自动驾驶测试牌照" says no number of licences)."""
    undated = DATE.sub("", text)
    return any(not m.group(0).startswith("第") and _COUNT_DIGIT.search(m.group(0)) for m in NUMBER.finditer(undated))


TITLE = re.compile(r"《([^《》]{1,40})》")
# Punctuation that ends a clause; 、 and quotes stay inside clauses (lists, names), and so does a
# colon between digits ("9:00-17:00开放" is one clause, not "…周日9" and "00-17").
CLAUSE_END = re.compile(r"[，,。；;！!？?（）()\s]|(?<!\d)[：:]|[：:](?!\d)")
PUNCT = re.compile(r"[，,。；;：:！!？?、（）()“”「」『』《》‘’\"'\s]")


@dataclass(frozen=True)
class Question:
    """What a question asks for and the words around its wh-word."""

    text: str
    answer_type: str  # one of the QUESTION_TYPES names, or "other"
    factoid: bool
    wh: str  # the wh-word found ("" when none)
    left: str  # question text before the wh-word
    right: str  # question text after it
    words: frozenset[str]  # content words, normalised
    asked_unit: str  # the measure word after 多少/几 ("多少人" -> "人"), or ""


@dataclass(frozen=True)
class Word:
    text: str
    flag: str
    start: int
    end: int


@lru_cache(maxsize=4096)
def sentence_words(sentence: str) -> tuple[Word, ...]:
    """jieba words with part-of-speech flags and character offsets."""
    out: list[Word] = []
    pos = 0
    for pair in pseg.lcut(sentence):
        out.append(Word(pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return tuple(out)


def content_words(text: str) -> frozenset[str]:
    """Normalised jieba words that carry meaning (no stop words, no punctuation)."""
    return frozenset(
        w.text for w in sentence_words(normalize(text)) if w.text not in STOPWORDS and not PUNCT.fullmatch(w.text)
    )


def _implied_unit(question: str) -> str:
    """The unit a figure question names by its noun: 元 for money (not when it asks how much the
    money changed: "收入增长了多少" is a rate), % for a share."""
    if _SHARE.search(question):
        return "%"
    return "元" if _MONEY.search(question) and not ASKS_CHANGE.search(question) else ""


@lru_cache(maxsize=4096)
def read_question(question: str) -> Question:
    """The answer type, wh-word and context of `question`."""
    text = normalize(question).strip().rstrip("？?。！!")
    factoid = NON_FACTOID.search(text) is None
    for name, pattern in QUESTION_TYPES:
        m = pattern.search(text)
        if m:
            if name == "noun":
                name = next((kind for kind, head in NOUN_HEADS if head.match(text, m.end())), name)
            unit = re.match(_UNIT, text[m.end() :]) if name == "number" else None
            return Question(
                text,
                name,
                factoid,
                m.group(),
                text[: m.start()],
                text[m.end() :],
                content_words(text[: m.start()] + " " + text[m.end() :]),
                unit.group() if unit and unit.group() else _implied_unit(text) if name == "number" else "",
            )
    return Question(text, "other", factoid, "", text, "", content_words(text), "")
