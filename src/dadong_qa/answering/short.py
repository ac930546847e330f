"""Short answers: the span of the cited sentence that answers a factoid question.

The reader's span head proposes spans inside the sentence, best first (`reader.SpanGuess`). This
module keeps the first of the kind the question asks for and completes it the way a reader
expects to see it:
- a figure question (多少, 几, 多大 …) takes a span holding a figure, widened to the whole figure
  with its unit and the qualifier written before it ("超46万辆", not "46万");
- a rank question (排名, 第几, 名次) takes a rank ("第36位", "36名");
- a date question takes a span holding a date, a numeral it cuts made whole but no wider ("哪一年"
  gets "1972年", not "1972年2月": on DRCD widening to the whole date cost EM 0.64 -> 0.47), else
  the span head's time that no date pattern reads ("光绪十年", "四国征伐后");
- a title keeps its 《》;
- what the question itself states ("2022年" in "…2022年…是多少") is its context, not its answer;
- a yes/no question ("…吗？", "是否…") gets the clause of the sentence that says it
  ("每周一闭馆"): the span head was trained on answers that are spans, never on yes or no;
- a why / how question gets the span head's span as it is, which may run the whole sentence
  (`Reader.read(long_spans=True)`): on the gold sentence its F1 is 0.58 (DRCD) / 0.75 (CMRC
  trial) against 0.34 / 0.79 for the whole sentence (bench/short_answers.py).
A question whose kind no proposed span has gets none. The text is always `sentence[start:end]`,
the source's own characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dadong_qa.answering.reader import SpanGuess
from dadong_qa.answering.spans import (
    ASKED_BOUND,
    CHANGE_VERB,
    CLAUSE_END,
    CURRENCIES,
    DATE,
    NUMBER,
    POST_BOUND,
    PUNCT,
    TITLE,
    content_words,
    read_question,
)
from dadong_qa.text import normalize

RANK_QUESTION = re.compile(r"排名|排第|第几|名次|位列|列第")
# "周几闭馆": a day of the week, not a count ("一" of 周一); a run of days is one answer.
WEEKDAY_QUESTION = re.compile(r"(?:周|星期|礼拜)几")
_DAY = r"(?:周|星期|礼拜)[一二三四五六日天1-7]"
WEEKDAY = re.compile(rf"每?{_DAY}(?:\s*[至到\-~～—]\s*{_DAY})?")
RANK = re.compile(r"第?[\d一二三四五六七八九十百千]+[名位]|第[\d一二三四五六七八九十百千]+")
# What stands between two ranks when one became the other ("第49名跃升至第36名", "由第5位降到第8位"):
# the rank asked about is the one reached.
RANK_MOVE = re.compile(r"\s*(?:跃升|上升|提升|前进|攀升|下降|下滑|后退|跌|升|降|进|退)?[至到]\s*")
# A question about how far a rank moved, not where it is.
RANK_CHANGE = re.compile(r"(?:进步|提升|上升|前进|攀升|下降|下滑|后退|变化|提高)了?(?:多少|几)")
# "…吗？", "是否…", "有没有…": asks yes or no ("什么" ends in 么 but asks a thing).
YES_NO = re.compile(r"(?:吗|(?<!什)么)\s*[？?]?\s*$|是否|能否|可否|有没有|是不是|能不能|会不会|可不可以|要不要")
# A place the sentence only points at where the question asks it ("从哪里出发" of "新能源车将从这里出发
# 进入国际市场"): the place is in another sentence, and any place the span head finds here is another
# one (国际市场). A pointer elsewhere in the sentence points back at a place it named ("以该地作为反攻
# 的基地", "以此处为总站": 2 CMRC trial answers).
PLACE_POINTER = r"(?:这里|那里|这儿|那儿|此地|此处|该地)"
DURATION = re.compile(r"多少年|几年|多少个?月|几个月|多少天|几天|多久|多长时间")
_HAS_DIGIT = re.compile(r"\d|[一二三四五六七八九十两百千万亿]")
NUMERAL = re.compile(r"[\d〇零一二三四五六七八九十百千]")
NUMERAL_END = re.compile(r"[\d〇零一二三四五六七八九十百千年月日号]")
DATE_UNIT = re.compile(r"[年月日]$")  # "1至8月", "2023年": a date, not a count; "3号" stays a figure
# Units that measure rather than count or date: area, length, weight, money, shares, energy.
MEASURING = re.compile("|".join(["米|公里|公顷|亩|吨|克|元|%|％|‰|瓦|升|伏|磅|英[里尺亩]", *CURRENCIES]))
TIME_WORD = re.compile(r"\d|[〇零一二三四五六七八九十年月日号天时代纪季春夏秋冬朝期初末前后间]")


@dataclass(frozen=True)
class ShortAnswer:
    """`text` is `sentence[start:end]`, verbatim."""

    text: str
    start: int
    end: int
    kind: str  # "figure", "rank", "weekday", "date", "title", "clause" (yes/no) or "span"
    score: float  # the span head's start + end logit (0 for a yes/no clause)


def wants_long_spans(question: str) -> bool:
    """A why / how question: its answer may run the whole sentence, so the reader's spans are
    read uncapped for it (`Reader.read(long_spans=True)`)."""
    return not read_question(question).factoid


def short_answer(question: str, sentence: str, guesses: Sequence[SpanGuess]) -> ShortAnswer | None:
    """The short answer to `question` inside `sentence`, from the span head's guesses, or None.
    The whole sentence is none: the answer already quotes it."""
    if not question.strip() or not sentence.strip():
        return None
    found = _short(question, sentence, guesses)
    whole = _trimmed(sentence, 0, len(sentence))
    return None if found is not None and (found.start, found.end) == whole else found


def _short(question: str, sentence: str, guesses: Sequence[SpanGuess]) -> ShortAnswer | None:
    asked = read_question(question)
    if not asked.factoid:
        return _as_guessed(sentence, guesses[0]) if guesses else None
    if YES_NO.search(question.strip()):
        return _yes_no_clause(question, sentence)
    kinds = (_of_kind(asked.answer_type, question, sentence, g) for g in guesses)
    of_kind = [f for f in kinds if f is not None and not _stated(f.text, question)]
    if of_kind and of_kind[0].kind == "figure" and asked.asked_unit:
        return _in_asked_unit(question, sentence, of_kind, asked.asked_unit)
    if of_kind:
        return of_kind[0]
    if asked.answer_type == "date" and guesses:  # "光绪十年", "四国征伐后": times no date pattern reads
        found = _as_guessed(sentence, guesses[0])
        if found is not None and TIME_WORD.search(found.text) and not _stated(found.text, question):
            return found
    return None


def _as_guessed(sentence: str, guess: SpanGuess) -> ShortAnswer | None:
    """The span head's span as it is, without punctuation at its ends."""
    start, end = _trimmed(sentence, guess.start, guess.end)
    return ShortAnswer(sentence[start:end], start, end, "span", guess.score) if start < end else None


def _of_kind(answer_type: str, question: str, sentence: str, guess: SpanGuess) -> ShortAnswer | None:
    """The guess completed as its kind requires, or None when it is not of the asked kind."""
    start, end = _trimmed(sentence, guess.start, guess.end)
    if start >= end:
        return None
    if RANK_QUESTION.search(question):
        return _rank(question, sentence, start, end, guess.score)
    if WEEKDAY_QUESTION.search(question):
        return _weekdays(sentence, start, end, guess.score)
    if answer_type == "number":
        return _figure(question, sentence, start, end, guess.score)
    if answer_type == "place" and _points_at_place(question, sentence):
        return None
    if answer_type == "date":
        a, b = _whole_numerals(sentence, start, end)
        if not any(m.start() < b and a < m.end() for m in DATE.finditer(sentence)):
            return None
        return ShortAnswer(sentence[a:b], a, b, "date", guess.score)
    for m in TITLE.finditer(sentence):  # a title inside its marks keeps them
        if m.start(1) <= start and end <= m.end(1):
            return ShortAnswer(m.group(), m.start(), m.end(), "title", guess.score)
    return ShortAnswer(sentence[start:end], start, end, "span", guess.score)


def _points_at_place(question: str, sentence: str) -> bool:
    """Whether the sentence says 这里 (此地 …) where the question says 哪里: before the words that
    follow the question's wh-word."""
    verb = read_question(question).right[:2]
    return len(verb) == 2 and re.search(PLACE_POINTER + re.escape(verb), sentence) is not None


def _rank(question: str, sentence: str, start: int, end: int, score: float) -> ShortAnswer | None:
    """The rank the guess overlaps, widened to the whole rank; of a move from one rank to another
    ("从49名跃升至36名"), the rank reached, or the whole move when the question asks how far it
    moved ("排名进步了多少名" was answered 49名, the rank left)."""
    found = _widened(sentence, start, end, RANK, "rank", score)
    if found is None:
        return None
    hits = list(RANK.finditer(sentence))
    at = next(i for i, m in enumerate(hits) if m.end() > found.start)
    first = at - 1 if at and RANK_MOVE.fullmatch(sentence, hits[at - 1].end(), hits[at].start()) else at
    last = at
    while last + 1 < len(hits) and RANK_MOVE.fullmatch(sentence, hits[last].end(), hits[last + 1].start()):
        last += 1
    if first == last:
        return found
    a, b = (hits[first].start(), hits[last].end()) if RANK_CHANGE.search(question) else hits[last].span()
    return ShortAnswer(sentence[a:b], a, b, "rank", score)


def _weekdays(sentence: str, start: int, end: int, score: float) -> ShortAnswer | None:
    """The days of the week the guess overlaps, and nothing else it runs on to."""
    hits = _overlapping(WEEKDAY, sentence, start, end)
    if not hits:
        return None
    return ShortAnswer(sentence[hits[0].start() : hits[-1].end()], hits[0].start(), hits[-1].end(), "weekday", score)


def _overlapping(pattern: re.Pattern[str], sentence: str, start: int, end: int) -> list[re.Match[str]]:
    """The matches of `pattern` in the sentence that overlap [start, end)."""
    return [m for m in pattern.finditer(sentence) if m.start() < end and start < m.end()]


def _widened(
    sentence: str, start: int, end: int, pattern: re.Pattern[str], kind: str, score: float
) -> ShortAnswer | None:
    """The guess widened to every match of the kind it overlaps; None when it overlaps none."""
    hits = _overlapping(pattern, sentence, start, end)
    if not hits:
        return None
    a, b = _trimmed(sentence, min(start, hits[0].start()), max(end, hits[-1].end()))
    return ShortAnswer(sentence[a:b], a, b, kind, score)


def _figure(question: str, sentence: str, start: int, end: int, score: float) -> ShortAnswer | None:
    """The whole figure the guess overlaps, with its qualifier and unit (the first one, or the
    first in the unit the question asks: "多少人" -> "89万人", not "44个县"); a date ("2023年",
    "1至8月") is not the figure asked for unless the question asks how long, and a figure the
    question states is its context. The span head often runs on past the figure ("480亿元，同比
    增长5.5%") or starts at the sentence's date; the figure is what a reader wants. A change the
    question names ("增长了多少") is not repeated: "7.1%", not "同比增长7.1%"."""
    duration = DURATION.search(question)
    dates = [m.span() for m in DATE.finditer(sentence)] if not duration else []
    found = []
    for m in NUMBER.finditer(sentence):
        if m.end() <= start or end <= m.start() or not _HAS_DIGIT.search(m.group()):
            continue
        if any(a <= m.start() and m.end() <= b for a, b in dates) or _stated(m.group(), question):
            continue
        if not duration and DATE_UNIT.search(m.group()):
            continue
        end_at = m.start("post") if m.group("post") and ASKED_BOUND.search(question) else m.end()
        a, b = _trimmed(sentence, _figure_start(m, question), end_at)
        found.append(ShortAnswer(sentence[a:b], a, b, "figure", score))
    unit = read_question(question).asked_unit
    return next((f for f in found if unit and _in_unit(f.text, unit)), found[0] if found else None)


def _in_unit(figure: str, unit: str) -> bool:
    """Whether a figure is written in `unit` ("30米以上" is in 米)."""
    return POST_BOUND.sub("", figure).endswith(unit)


def in_asked_unit(question: str, figure: str) -> bool:
    """Whether the question asks for a unit that measures and the figure is written in it."""
    unit = read_question(question).asked_unit
    return bool(unit) and MEASURING.search(unit) is not None and _in_unit(figure, unit)


def _in_asked_unit(question: str, sentence: str, found: list[ShortAnswer], unit: str) -> ShortAnswer:
    """Of the span head's figures, the first in the unit the question asks ("多少平方米"); else the
    one figure of the sentence in that unit when the unit measures (平方米, 亿元, 公里): "人才公寓
    建了多少平方米" got the 2292套 the span head proposed beside "13万平方米". A counting word is no
    such evidence (多少个 is answered in 家, 座 ... as often), nor a time ("西元几年后" asks a date)."""
    same = next((f for f in found if _in_unit(f.text, unit)), None)
    if same is not None:
        return same
    if MEASURING.search(unit):
        whole = _figure(question, sentence, 0, len(sentence), found[0].score)
        others = [m for m in NUMBER.finditer(sentence) if _in_unit(m.group(), unit)]
        if whole is not None and _in_unit(whole.text, unit) and len(others) == 1:
            return whole
    return found[0]


# Qualifiers that bound nothing ("达1730亿元" is 1730亿元): left out of a short answer; 约, 超, 近 ...
# stay. On the gold sentences of CMRC trial and DRCD (800 each) 5 answers changed, DRCD EM +0.001.
PLAIN_QUALIFIERS = frozenset({"达到", "达", "共"})


def _figure_start(m: re.Match[str], question: str) -> int:
    """Where a figure's short answer starts: after the change words when the question says them,
    and after a qualifier that bounds nothing."""
    verb = CHANGE_VERB.search(m.group("change") or "")
    start = m.start("qual") if verb and verb.group() in question else m.start()
    return m.end("qual") if start == m.start("qual") and m.group("qual") in PLAIN_QUALIFIERS else start


def as_asked(figure: str, question: str) -> str:
    """A figure as a short answer shows it, the change words the question says left out
    ("…增长多少": "同比增长15.2%" -> "15.2%")."""
    m = NUMBER.match(figure)
    return figure[_figure_start(m, question) :] if m else figure


def _whole_numerals(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span with a numeral it cuts made whole ("013年" -> "2013年", "2013" -> "2013年"),
    and nothing more: a question for the year gets the year, not the day the sentence also gives."""
    while 0 < start < len(sentence) and NUMERAL.fullmatch(sentence[start - 1]) and NUMERAL.fullmatch(sentence[start]):
        start -= 1
    while 0 < end < len(sentence) and NUMERAL.fullmatch(sentence[end - 1]) and NUMERAL_END.fullmatch(sentence[end]):
        end += 1
    return start, end


PAIRED = {"《": "》", "“": "”", "「": "」"}  # opening mark -> closing mark
OPENER = {close: open_ for open_, close in PAIRED.items()}
# Brackets hold an aside (a year, a Latin name) that a span may cut in two: "正德五年（1510年",
# "希尔夏品牌（Hillshire Brands". An aside the span opens and the sentence closes within `MAX_ASIDE`
# characters after it is taken in whole (25 short answers of the five eval-open views; EM and F1,
# which ignore punctuation, unchanged); a closing bracket whose opening one the span left behind is
# left out. An aside that runs on further stays cut: left out, "杰尼斯旗下组合（包括TOKIO、岚…" lost
# its list (F1 0.71 -> 0.31).
BRACKETS = {"（": "）", "(": ")", "【": "】", "[": "]"}
BRACKET_OPENER = {close: open_ for open_, close in BRACKETS.items()}
MAX_ASIDE = 30


def _trimmed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Without punctuation or spaces at either end ("，46万辆。" -> "46万辆"); 《》 and quotes stay,
    in pairs (`_paired`), and a bracketed aside is not cut in two (`_bracketed`)."""
    while start < end and PUNCT.fullmatch(sentence[start]) and not _opens_kept(sentence, start, end):
        start += 1
    while end > start and PUNCT.fullmatch(sentence[end - 1]) and sentence[end - 1] not in OPENER:
        end -= 1
    return _bracketed(sentence, *_paired(sentence, start, end))


def _opens_kept(sentence: str, start: int, end: int) -> bool:
    """A mark that stays at the start of a span: a quote or title mark (`_paired` pairs it), or a
    bracket the span closes ("（B）C")."""
    ch = sentence[start]
    return ch in PAIRED or (ch in BRACKETS and BRACKETS[ch] in sentence[start + 1 : end])


def _paired(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A mark at either end whose partner the span cuts off: the partner taken in when it is the
    next character of the sentence, else the mark left out ("“振兴新突破、我要当先锋" ->
    "“振兴新突破、我要当先锋”")."""
    if start < end and sentence[start] in PAIRED and PAIRED[sentence[start]] not in sentence[start + 1 : end]:
        if end < len(sentence) and sentence[end] == PAIRED[sentence[start]]:
            end += 1
        else:
            start += 1
    if start < end and sentence[end - 1] in OPENER and OPENER[sentence[end - 1]] not in sentence[start : end - 1]:
        if start > 0 and sentence[start - 1] == OPENER[sentence[end - 1]]:
            start -= 1
        else:
            end -= 1
    return start, end


def _bracketed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span with the asides it cuts in two closed, or left out (`BRACKETS`)."""
    depth: dict[str, int] = {}
    for i in range(start, end):
        ch = sentence[i]
        if ch in BRACKETS:
            depth[ch] = depth.get(ch, 0) + 1
        elif ch in BRACKET_OPENER and depth.get(BRACKET_OPENER[ch], 0) > 0:
            depth[BRACKET_OPENER[ch]] -= 1
        elif ch in BRACKET_OPENER and i + 1 < end:  # closes an aside the span began inside
            return _trimmed(sentence, i + 1, end)
    opened = [ch for ch, n in depth.items() if n > 0]
    if len(opened) == 1:
        close = sentence.find(BRACKETS[opened[0]], end)
        if 0 <= close - end < MAX_ASIDE:
            return start, close + 1
    return start, end


def _stated(text: str, question: str) -> bool:
    """The question itself says `text`: it is context, not the answer."""
    text = normalize(text)
    return bool(text) and text in normalize(question)


def _yes_no_clause(question: str, sentence: str) -> ShortAnswer | None:
    """The clause sharing most of the question's words (the shortest on a tie): it says yes or no."""
    words = content_words(YES_NO.sub("", question))
    best: tuple[int, int, int] | None = None  # (-shared, length, start)
    start = 0
    for m in [*CLAUSE_END.finditer(sentence), None]:
        end = m.start() if m is not None else len(sentence)
        a, b = _trimmed(sentence, start, end)
        if a < b:
            shared = sum(1 for w in words if w in normalize(sentence[a:b]))
            key = (-shared, b - a, a)
            if shared and (best is None or key < best):
                best = key
        start = m.end() if m is not None else end
    if best is None:
        return None
    a = best[2]
    b = a + best[1]
    return ShortAnswer(sentence[a:b], a, b, "clause", 0.0)
