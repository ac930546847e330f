"""Candidate short-answer spans of a sentence, and what the question says it should be.

A question is read for the kind of answer it wants (a number, a date, a person, ...), the
wh-word that stands where the answer would stand, and the words right around it. A sentence
gives candidate spans: figures with their units and qualifiers, dates, 《》 titles, quoted
names, jieba's name words, whole clauses and short runs of words between punctuation. Every
span is an exact slice of the sentence, so the answer can be quoted verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import jieba.posseg as pseg

from dadong_qa.text import CJK, STOPWORDS, normalize

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
# Why / how / describe questions want an explanation, not a span.
NON_FACTOID = re.compile(r"为什么|为何|怎么样|怎样|如何|怎么|介绍|原因|何以|什么样|有何影响|有何意义")
# Kinds of candidate span, most specific first (a span found as several kinds is named by the first).
KINDS = ("number", "date", "title", "quote", "person", "place", "org", "name")
KINDS += ("clause", "clauses", "sentence", "generic")

_DIGITS = r"\d[\d,.]*|[零〇一二三四五六七八九十两百千万亿]+"
_UNIT = (
    r"(?:[十百千万亿]*(?:平方公里|平方千米|平方米|千米|公里|公尺|公分|公厘|厘米|毫米|米|英里|英尺|公斤|千克|公顷|亿美元|万美元|美元|"
    r"亿元|万元|千元|元|人次|万人|亿人|吨|克|亩|辆|台|个|人|名|位|户|家|所|座|项|件|种|次|年|岁|天|日|月|小时|分钟|"
    r"秒|倍|度|届|场|部|本|首|集|层|条|只|头|块|张|篇|字|册|卷|分|点|号|期|代|世纪|磅|架|艘|枚|间|栋|款|批|株|棵)"
    r"|%|％|‰)?"
)
_QUALIFIER = r"(?:大约|约|超过|超|近|逾|达到|达|共|仅|多达|将近|不到|至少|高达|不足|接近)?"
QUALIFIER = re.compile(_QUALIFIER)
_CHANGE = r"(?:同比)?(?:增长|下降|增加|减少|提高|降低|上升)了?"
# "第4", "百分之三十", "百万分之一弧秒": ordinals and fractions are figures too.
NUMBER = re.compile(
    rf"(?P<change>{_CHANGE})?(?P<qual>{_QUALIFIER})第?(?:(?:{_DIGITS})分之)?(?:{_DIGITS})(?:多|余)?{_UNIT}"
)
DATE = re.compile(
    r"(?:公元前?|西元前?)?(?:\d{1,4}|[〇零一二三四五六七八九]{2,4})年(?:代|\d{1,2}月(?:\d{1,2}[日号])?)?(?:[（(][^）)]{1,12}[）)])?"
    r"|\d{1,2}月\d{1,2}[日号]|\d{1,2}世纪(?:\d{2}年代)?|\d{1,2}月"
)
RANGE = re.compile(rf"\s*(?:至|到|-|–|—|~|～)\s*(?:{DATE.pattern})")
# Transliterated names joined by a middle dot ("艾萨克·牛顿"), which jieba cuts apart.
DOTTED_NAME = re.compile(f"[{CJK}]{{1,8}}(?:[·‧・][{CJK}]{{1,8}})+")
TITLE = re.compile(r"《([^《》]{1,40})》")
QUOTE = re.compile(r"“([^“”]{1,30})”|「([^「」]{1,30})」|『([^『』]{1,30})』|‘([^‘’]{1,30})’")
# Punctuation that ends a clause; 、 and quotes stay inside clauses (lists, names).
CLAUSE_END = re.compile(r"[，,。；;：:！!？?（）()\s]")
PUNCT = re.compile(r"[，,。；;：:！!？?、（）()“”「」『』《》‘’\"'\s]")
_NAME_FLAGS = {"nr": "person", "nrt": "person", "nrfg": "person", "ns": "place", "nt": "org", "nz": "name"}
MAX_GENERIC_WORDS = 5
MAX_CLAUSE_CHARS = 60
MAX_JOINED_CLAUSES = 3


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


@dataclass
class Span:
    """A candidate answer: sentence[start:end], with every kind that produced it."""

    start: int
    end: int
    text: str
    kinds: set[str] = field(default_factory=set)
    first_word: int = -1  # index into the sentence's words, -1 when the span cuts a word
    last_word: int = -1


@dataclass(frozen=True)
class Word:
    text: str
    flag: str
    start: int
    end: int


def _strip_punct(text: str) -> str:
    return PUNCT.sub("", text)


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
                unit.group() if unit else "",
            )
    return Question(text, "other", factoid, "", text, "", content_words(text), "")


def _add(spans: dict[tuple[int, int], Span], sentence: str, start: int, end: int, kind: str) -> None:
    while start < end and sentence[start].isspace():
        start += 1
    while end > start and sentence[end - 1].isspace():
        end -= 1
    if start >= end or not _strip_punct(sentence[start:end]):
        return
    span = spans.setdefault((start, end), Span(start, end, sentence[start:end]))
    span.kinds.add(kind)


def _pattern_spans(sentence: str, spans: dict[tuple[int, int], Span]) -> None:
    for m in NUMBER.finditer(sentence):
        if not re.search(r"\d|[一二三四五六七八九十两百千万亿]", m.group()):
            continue
        core = m.end("qual") if m.group("qual") or m.group("change") else m.start()
        _add(spans, sentence, core, m.end(), "number")
        if m.group("qual"):  # "约8公斤" and "8公斤": both are candidates, features choose
            _add(spans, sentence, m.start("qual"), m.end(), "number")
        if m.group("change"):
            _add(spans, sentence, m.start(), m.end(), "number")
    for m in DATE.finditer(sentence):
        _add(spans, sentence, m.start(), m.end(), "date")
        after = RANGE.match(sentence, m.end())
        if after:  # "1985年9月至1987年7月": a period
            _add(spans, sentence, m.start(), after.end(), "date")
        paren = m.group().find("（") if "（" in m.group() else m.group().find("(")
        if paren > 0:  # "永禄5年（1562年）": the era year alone and the year in brackets
            _add(spans, sentence, m.start(), m.start() + paren, "date")
            _add(spans, sentence, m.start() + paren + 1, m.end() - 1, "date")
    for m in DOTTED_NAME.finditer(sentence):
        _add(spans, sentence, m.start(), m.end(), "person")
    for m in TITLE.finditer(sentence):
        _add(spans, sentence, m.start(), m.end(), "title")
        _add(spans, sentence, m.start(1), m.end(1), "title")
    for m in QUOTE.finditer(sentence):
        group = next(i for i in range(1, 5) if m.group(i) is not None)
        _add(spans, sentence, m.start(), m.end(), "quote")
        _add(spans, sentence, m.start(group), m.end(group), "quote")


def _name_spans(words: tuple[Word, ...], sentence: str, spans: dict[tuple[int, int], Span]) -> None:
    i = 0
    while i < len(words):
        if words[i].flag not in _NAME_FLAGS:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and words[j + 1].flag in _NAME_FLAGS:
            j += 1
        for k in range(i, j + 1):  # each name word, and the run of names it starts ("华晨" + "宝马")
            _add(spans, sentence, words[k].start, words[k].end, _NAME_FLAGS[words[k].flag])
        if j > i:
            _add(spans, sentence, words[i].start, words[j].end, _NAME_FLAGS[words[j].flag])
        i = j + 1


def _clauses(words: tuple[Word, ...]) -> list[list[int]]:
    """Word indexes of each clause: runs of words between clause-ending punctuation."""
    clauses: list[list[int]] = [[]]
    for i, w in enumerate(words):
        if CLAUSE_END.fullmatch(w.text):
            clauses.append([])
        elif not PUNCT.fullmatch(w.text) or w.text == "、" or clauses[-1]:
            clauses[-1].append(i)
    return [c for c in clauses if c]


def _generic_spans(
    words: tuple[Word, ...], sentence: str, question: Question, spans: dict[tuple[int, int], Span]
) -> None:
    clauses = _clauses(words)
    _add(spans, sentence, 0, len(sentence.rstrip("。！？!?；;…")), "sentence")
    for i, clause in enumerate(clauses):
        start, end = words[clause[0]].start, words[clause[-1]].end
        if end - start <= MAX_CLAUSE_CHARS:
            _add(spans, sentence, start, end, "clause")
            # The clause without its first or last words: "位于X" -> "X", "击败X" -> "X".
            for cut in (1, 2):
                if len(clause) > cut + MAX_GENERIC_WORDS:
                    _add(spans, sentence, words[clause[cut]].start, end, "clause")
                    _add(spans, sentence, start, words[clause[-1 - cut]].end, "clause")
        for j in range(i + 1, min(i + MAX_JOINED_CLAUSES, len(clauses))):
            _add(spans, sentence, start, words[clauses[j][-1]].end, "clauses")
        for a in range(len(clause)):
            for b in range(a, min(a + MAX_GENERIC_WORDS, len(clause))):
                piece = [words[k] for k in clause[a : b + 1]]
                if any(PUNCT.fullmatch(w.text) and w.text != "、" for w in piece):
                    break
                _add(spans, sentence, piece[0].start, piece[-1].end, "generic")


def _mark_word_bounds(words: tuple[Word, ...], spans: dict[tuple[int, int], Span]) -> None:
    starts = {w.start: i for i, w in enumerate(words)}
    ends = {w.end: i for i, w in enumerate(words)}
    for span in spans.values():
        span.first_word = starts.get(span.start, -1)
        span.last_word = ends.get(span.end, -1)


def candidates(question: Question, sentence: str) -> list[Span]:
    """Every candidate answer span of `sentence`, in sentence order."""
    words = sentence_words(sentence)
    spans: dict[tuple[int, int], Span] = {}
    _pattern_spans(sentence, spans)
    _name_spans(words, sentence, spans)
    _generic_spans(words, sentence, question, spans)
    _mark_word_bounds(words, spans)
    return sorted(spans.values(), key=lambda s: (s.start, s.end))
