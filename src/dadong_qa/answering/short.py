"""Short answers: the span of the cited sentence that answers a factoid question.

The reader's span head proposes spans inside the sentence, best first (`reader.SpanGuess`). This
module keeps the first of the kind the question asks for and completes it the way a reader
expects to see it:
- a figure question (多少, 几, 多大 …) takes a span holding a figure, widened to the whole figure
  with its unit and the qualifier written before it ("超46万辆", not "46万");
- a rank question (排名, 第几, 名次) takes a rank ("第36位", "36名");
- a date question takes a date, widened to the whole date;
- a title keeps its 《》;
- what the question itself states ("2022年" in "…2022年…是多少") is its context, not its answer;
- a yes/no question ("…吗？", "是否…") gets the clause of the sentence that says it
  ("每周一闭馆"): the span head was trained on answers that are spans, never on yes or no.
Why / how questions get none, and so does a question whose kind no proposed span has. The text
is always `sentence[start:end]`, the source's own characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dadong_qa.answering.reader import SpanGuess
from dadong_qa.answering.spans import CLAUSE_END, DATE, NUMBER, PUNCT, TITLE, content_words, read_question
from dadong_qa.text import normalize

RANK_QUESTION = re.compile(r"排名|排第|第几|名次|位列|列第")
RANK = re.compile(r"第?[\d一二三四五六七八九十百千]+[名位]|第[\d一二三四五六七八九十百千]+")
# "…吗？", "是否…", "有没有…": asks yes or no ("什么" ends in 么 but asks a thing).
YES_NO = re.compile(r"(?:吗|(?<!什)么)\s*[？?]?\s*$|是否|能否|可否|有没有|是不是|能不能|会不会|可不可以|要不要")
DURATION = re.compile(r"多少年|几年|多少个?月|几个月|多少天|几天|多久|多长时间")
_HAS_DIGIT = re.compile(r"\d|[一二三四五六七八九十两百千万亿]")


@dataclass(frozen=True)
class ShortAnswer:
    """`text` is `sentence[start:end]`, verbatim."""

    text: str
    start: int
    end: int
    kind: str  # "figure", "rank", "date", "title", "clause" (yes/no) or "span"
    score: float  # the span head's start + end logit (0 for a yes/no clause)


def short_answer(question: str, sentence: str, guesses: Sequence[SpanGuess]) -> ShortAnswer | None:
    """The short answer to `question` inside `sentence`, from the span head's guesses, or None."""
    if not question.strip() or not sentence.strip():
        return None
    asked = read_question(question)
    if not asked.factoid:
        return None
    if YES_NO.search(question.strip()):
        return _yes_no_clause(question, sentence)
    for guess in guesses:
        found = _of_kind(asked.answer_type, question, sentence, guess)
        if found is not None and not _stated(found.text, question):
            return found
    return None


def _of_kind(answer_type: str, question: str, sentence: str, guess: SpanGuess) -> ShortAnswer | None:
    """The guess completed as its kind requires, or None when it is not of the asked kind."""
    start, end = _trimmed(sentence, guess.start, guess.end)
    if start >= end:
        return None
    if RANK_QUESTION.search(question):
        return _widened(sentence, start, end, RANK, "rank", guess.score)
    if answer_type == "number":
        return _figure(question, sentence, start, end, guess.score)
    if answer_type == "date":
        return _widened(sentence, start, end, DATE, "date", guess.score)
    for m in TITLE.finditer(sentence):  # a title inside its marks keeps them
        if m.start(1) <= start and end <= m.end(1):
            return ShortAnswer(m.group(), m.start(), m.end(), "title", guess.score)
    return ShortAnswer(sentence[start:end], start, end, "span", guess.score)


def _widened(
    sentence: str, start: int, end: int, pattern: re.Pattern[str] | list[re.Match[str]], kind: str, score: float
) -> ShortAnswer | None:
    """The guess widened to every match of the kind it overlaps; None when it overlaps none."""
    matches = pattern.finditer(sentence) if isinstance(pattern, re.Pattern) else pattern
    hits = [m for m in matches if m.start() < end and start < m.end()]
    if not hits:
        return None
    a, b = _trimmed(sentence, min(start, hits[0].start()), max(end, hits[-1].end()))
    return ShortAnswer(sentence[a:b], a, b, kind, score)


def _figure(question: str, sentence: str, start: int, end: int, score: float) -> ShortAnswer | None:
    """The first whole figure the guess overlaps, with its qualifier and unit; a date ("2023年",
    "6月") is not the figure asked for unless the question asks how long, and a figure the
    question states is its context. The span head often runs on past the figure ("480亿元，同比
    增长5.5%") or starts at the sentence's date; the figure is what a reader wants."""
    dates = [m.span() for m in DATE.finditer(sentence)] if not DURATION.search(question) else []
    for m in NUMBER.finditer(sentence):
        if m.end() <= start or end <= m.start() or not _HAS_DIGIT.search(m.group()):
            continue
        if any(a <= m.start() and m.end() <= b for a, b in dates) or _stated(m.group(), question):
            continue
        a, b = _trimmed(sentence, *m.span())
        return ShortAnswer(sentence[a:b], a, b, "figure", score)
    return None


def _trimmed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Without punctuation or spaces at either end ("，46万辆。" -> "46万辆"); 《》 stay."""
    while start < end and PUNCT.fullmatch(sentence[start]) and sentence[start] not in "《“「":
        start += 1
    while end > start and PUNCT.fullmatch(sentence[end - 1]) and sentence[end - 1] not in "》”」":
        end -= 1
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
