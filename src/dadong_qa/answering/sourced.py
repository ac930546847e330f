"""The figures of an indexed sentence, read in the context of its article.

A figure's period depends on what came before it in the article ("2022年，…。整车产量超46万辆"
is 2022) and on the article's date (今年, 去年); an undated article's periods stay unknown.
Answering reads figures here for three decisions: whether a figure covers the period a question
asks about (`period_fit`), which figure of the answer sentence the question asks for
(`asked_figure`), and whether two articles disagree (conflict.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from dadong_qa.answering.conflict import SourcedFigure
from dadong_qa.answering.figures import ADDED, KIND_NAMES, Figure, figures, is_added
from dadong_qa.answering.periods import UNKNOWN_PERIOD, Period, context_periods, describe, matches, year_of
from dadong_qa.answering.places import named_places
from dadong_qa.answering.short import as_asked, in_asked_unit
from dadong_qa.answering.spans import CLAUSE_END, content_words, read_question
from dadong_qa.schema import Document, Sentence
from dadong_qa.text import normalize

# How a sentence's figures fit the period a question names: "match" (one covers it), "other"
# (each covers another period), "unknown" (none can be placed: an undated article, or no part of
# the year stated for "1至8月…"), "none" (the sentence has no figure, or the question names no
# year or part of one).
PeriodFit = Literal["match", "other", "unknown", "none"]


class _Store(Protocol):
    """What reading figures needs of an index (a part of evidence.SentenceStore)."""

    sentences: Mapping[int, Sentence]

    def doc_meta(self, doc_id: str) -> Document: ...
    def doc_sentence_ids(self, doc_id: str) -> list[int]: ...


def names(question: str, quantity: str) -> bool:
    """The question names the quantity: as written, or word for word ("宝马配套产业园落户了多少项目"
    names 37个's "项目落户", so the span head's 37个 stays and is not swapped for the 20个 of
    "项目投产")."""
    return quantity in question or content_words(quantity) <= content_words(question)


def _told_without_figure(question: str, sentence: str, quantity: str) -> bool:
    """Whether the figure counts another thing of the kind asked about, which a clause of the
    sentence with no figure names: "大东区科技型企业有多少家？" in "新增高新技术企业93家,科技型企业数量翻
    一番" — 93家 counts 高新技术企业 (企业, but not 科技型 ones), and the second clause tells of the
    科技型企业 asked about. The question's words are its content words less places and the unit.
    A figure whose quantity shares none of them is left alone: its clause often leaves the subject
    to the clause before ("华晨宝马X5车型量产上市,累计销量超过2.1万台")."""
    asked = read_question(question)
    words = {w for w in content_words(question) if len(w) > 1 and w != asked.asked_unit and not named_places(w)}
    shared = [w for w in words if w in normalize(quantity)]
    if not shared or len(shared) == len(words):
        return False
    clauses = [c for c in CLAUSE_END.split(normalize(sentence)) if c]
    return any(all(w in c for w in words) and not figures(c, article_date=None) for c in clauses)


def _closest_listed(question: str, mine: Figure, found: list[Figure]) -> list[Figure]:
    """The figure of a 分别 list whose name the question comes closest to, when that is not the
    span's: "特困人员救助标准高出全市多少？" names neither "低保户" nor "特困分散供养人员救助标准" as
    written. Names are told apart by how they begin (the last one carries the head noun they
    share, 救助标准): the question holds "特困" of the second (7.4%), nothing of "低保户" (11.5%)."""

    def shared(f: Figure) -> int:
        return next((k for k in range(len(f.quantity), 0, -1) if f.quantity[:k] in question), 0)

    siblings = [f for f in found if f.listed and f.growth == mine.growth and f.base_unit == mine.base_unit]
    best = max(siblings, key=shared, default=None)
    if best is None or shared(best) <= shared(mine) or sum(shared(f) == shared(best) for f in siblings) > 1:
        return []
    return [best]


class FigureReader:
    """Figures of the sentences of one index version, each with the period it covers."""

    def __init__(self, store: _Store) -> None:
        self.store = store
        self._periods: dict[str, dict[int, Period | None]] = {}  # per article, computed once

    def figures(self, sid: int) -> list[SourcedFigure]:
        sentence = self.store.sentences[sid]
        doc = self.store.doc_meta(sentence.doc_id)
        period = self._contexts(sentence.doc_id).get(sid)
        year, months = (period.year, period.months) if period is not None else (None, None)
        return [
            SourcedFigure(f, sentence.text, sentence.doc_id, doc.date, sid)
            for f in figures(sentence.text, article_date=doc.date, context_year=year, context_months=months)
        ]

    def context_year(self, sid: int) -> int | None:
        """The year the article's text has stated before this sentence (None when none has)."""
        period = self._contexts(self.store.sentences[sid].doc_id).get(sid)
        return period.year if period is not None else None

    def of_span(self, sid: int, span: str | None) -> SourcedFigure | None:
        """The sentence's figure that is `span` (a short answer: "46万辆" of "超46万辆"), if any."""
        if not span:
            return None
        return next((f for f in self.figures(sid) if span in f.figure.text or f.figure.text in span), None)

    def period_fit(self, sid: int, asked: Period | None) -> PeriodFit:
        """How the sentence's figures fit the period `asked` (see PeriodFit)."""
        if asked is None or not asked.names_a_period:
            return "none"
        found = [matches(asked, self.dated(f)) for f in self.figures(sid)]
        if not found:
            return "none"
        if any(m is True for m in found):
            return "match"
        return "other" if all(m is False for m in found) else "unknown"

    def asked_figure(self, question: str, change: bool, sid: int, short: str | None) -> str | None:
        """The short answer as the figure the question asks for (`change`: it asks how much a
        quantity changed, "…增长了多少", not its level): the figure of the quantity the question
        names, when the span is a figure of another one ("刑事、治安警情分别下降50.3%、22.2%"
        answers "治安警情下降了多少" with 22.2%); the level when the question asks for the level
        ("…总值是多少": 320亿元, not 5%; with no quantity named, the one level in the change's
        unit); the change when it asks for the change ("一般公共预算收入增长多少": 15.2%)."""
        sourced = self.of_span(sid, short)
        mine = sourced.figure if sourced is not None else None
        if mine is None or short not in mine.text:
            return short  # not a figure (a name, a title, a clause holding one): nothing to compare
        if (not mine.quantity or names(question, mine.quantity)) and mine.growth == change:
            return short  # the figure asked for
        if in_asked_unit(question, short):  # "多少平方米": 13万平方米, not the 2292套 of 人才公寓
            return short
        # Another figure takes its place only when the question names its quantity as written (a
        # looser reading swapped "增至29个成员国" for the "第2届" of "参加第2届欧洲国家杯的国家多达
        # 几个会员国"), and never one the question itself states.
        found = [f.figure for f in self.figures(sid) if f.figure.text not in question]
        named = [f for f in found if f.quantity and f.quantity in question and f.growth == change]
        if not named and mine.listed:
            named = _closest_listed(question, mine, found)
            if named:
                return as_asked(named[0].text, question)
        if change and not mine.growth:  # "…收入增长多少": a change of it over its level
            # "GDP增长了多少" names 地区生产总值 in other letters: the change of the span's quantity.
            named = named or [f for f in found if f.growth and mine.quantity and f.quantity == mine.quantity]
            return as_asked(named[0].text, question) if named else short
        if not named and not change and (mine.growth or (is_added(mine) and not ADDED.search(question))):
            # "X5卖了多少台": 超过2.1万台, not "多出7500余台"; "…有多少家高新技术企业" in "新增高新技术
            # 企业93家，总数达到350家": the total, not the ones added this year.
            named = [f for f in found if not f.growth and not is_added(f) and f.base_unit == mine.base_unit]
        if len({f.text for f in named}) == 1:
            return as_asked(named[0].text, question)
        told = _told_without_figure(question, self.store.sentences[sid].text, mine.quantity)
        return None if told else short

    def label(self, sourced: SourcedFigure) -> str:
        """What the answer says a figure covers: its period, and that it is a plan, a target or a
        forecast when it is one ("16万平方米（2023年计划）": a plan read as "2023年" passed for what
        the district has)."""
        period = describe(self.dated(sourced))
        kind = KIND_NAMES.get(sourced.figure.kind)
        if kind is None:
            return period
        return kind if period == UNKNOWN_PERIOD else f"{period}{kind}"

    def dated(self, sourced: SourcedFigure) -> Period | None:
        """The figure's period, its year read from its article's date when the text names none:
        a dated news article reports its own year unless it says otherwise. An undated article's
        figure keeps an unknown year."""
        period, year = sourced.figure.period, year_of(sourced.date)
        if year is None or (period is not None and (period.year is not None or period.to_date)):
            return period
        return Period(year, period.months if period is not None else None)

    def _contexts(self, doc_id: str) -> dict[int, Period | None]:
        if doc_id not in self._periods:
            sids = self.store.doc_sentence_ids(doc_id)
            texts = [self.store.sentences[s].text for s in sids]
            periods = context_periods(texts, self.store.doc_meta(doc_id).date)
            self._periods[doc_id] = dict(zip(sids, periods, strict=True))
        return self._periods[doc_id]
