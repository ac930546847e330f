"""The figures of an indexed sentence, read in the context of its article.

A figure's period depends on what came before it in the article ("2022年，…。整车产量超46万辆"
is 2022) and on the article's date (今年, 去年); an undated article's periods stay unknown.
Answering reads figures here for two decisions: whether a figure covers the period a question
asks about (`period_fit`), and whether two articles disagree (conflict.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from dadong_qa.answering.conflict import SourcedFigure
from dadong_qa.answering.figures import figures
from dadong_qa.answering.periods import Period, context_periods, matches, year_of
from dadong_qa.schema import Document, Sentence

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
