"""Extractive answering: pick the source sentences that answer, cite them, or refuse.

Each candidate sentence is measured (`evidence.py`) and the answer policy (`policy.py`, boosted
trees over those measurements, ~1 ms) orders them. The reader (`reader/`, a fine-tuned
cross-encoder) then reads the question with each of the policy's first `reader_candidates`
sentences; its logit plus `reader_policy_weight` times the policy's log-odds goes through a softmax
over those sentences and "none of them", which gives the probability that each is *the* answer
(they add up to one). This module decides, in one place:
- the rules (a year, period or plan the question names and the sentence contradicts) rule a
  sentence out; those probabilities are conditioned on that (the ruled-out sentences'
  share spread over the rest), so a rule that removes the top sentence lets the next one answer
  instead of turning the question into a refusal;
- the most probable sentence answers unless its probability is below `refusal_threshold`
  (chosen on held-out data for precision): then the answer is "not in the sources" — a wrong
  answer costs a reader more than a refusal;
- more sentences join only when the reader reads them as answers too and they cover question
  terms the first one missed (multi-fact questions), or a year the question names that the
  chosen ones lack;
- a sentence from another article giving a different figure for the same thing is cited too;
- the short answer is the reader's span inside the first cited sentence, of the asked kind (short.py).
With `reader = false` the policy's probability decides alone (the path before the reader).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from dadong_qa.answering.agreement import keys, pooled
from dadong_qa.answering.conflict import Conflict as FigureConflict
from dadong_qa.answering.conflict import SourcedFigure, alike, find_conflicts, plans_beside_outcomes
from dadong_qa.answering.context import Context, ContextFinder
from dadong_qa.answering.evidence import EvidenceGatherer, SentenceEvidence, SentenceStore
from dadong_qa.answering.periods import Period, describe, months_as_written
from dadong_qa.answering.policy import AnswerPolicy, ruled_out, shipped_policy
from dadong_qa.answering.reader import Blend, ReaderInput, Reading, listwise
from dadong_qa.answering.short import YES_NO, ShortAnswer, short_answer, wants_long_spans
from dadong_qa.answering.spans import read_question
from dadong_qa.answering.years import STATED_YEAR, SpelledYears, spell_years
from dadong_qa.config import Settings
from dadong_qa.ingestion.formats import citation_source
from dadong_qa.retrieval.expand import as_written
from dadong_qa.retrieval.query import Query
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Answer, Citation, Claim, Conflict

if TYPE_CHECKING:
    from dadong_qa.answering.reader import Reader

MIN_GAIN = 0.2  # share of the question's weight a further sentence must add to be included
REFUSAL_TEMPLATE = "现有资料中没有找到能回答“{q}”的内容。"
# Not a question for the articles: a short hint instead of "没有找到能回答“你好”".
SMALL_TALK = {
    "greeting": "你好！我根据已收录的文章回答问题，每个答案都引用原文。请直接提问，例如“某地某年的某项数字是多少？”",
    "not_chinese": "请用中文提问：我根据已收录的中文文章回答问题（please ask in Chinese）。",
}
CONFLICT_PREFIX = "注意：不同来源的数字不一致。"
CONFLICT_CANDIDATES = 12  # the best sentence is compared with the next this-many candidates


@dataclass(frozen=True)
class AnswerParams:
    """The settings answering uses."""

    # Defaults are the Settings' own, so the two cannot drift apart.
    refusal_threshold: float = Settings.refusal_threshold
    max_answer_sentences: int = Settings.max_answer_sentences
    answer_passages: int = Settings.answer_passages
    answer_sentences: int = Settings.answer_sentences
    answer_docs: int = Settings.answer_docs
    policy_path: str = Settings.answer_policy  # "" = the shipped weights
    reader: bool = Settings.reader
    reader_path: str = Settings.reader_model  # "" = the shipped weights
    reader_candidates: int = Settings.reader_candidates
    reader_min_policy: float = Settings.reader_min_policy
    reader_policy_weight: float = Settings.reader_policy_weight
    reader_span_weight: float = Settings.reader_span_weight
    reader_span_center: float = Settings.reader_span_center
    reader_threads: int = Settings.reader_threads
    answer_context: bool = Settings.answer_context

    @classmethod
    def of(cls, settings: Settings) -> AnswerParams:
        return cls(
            settings.refusal_threshold if settings.reader else settings.policy_threshold,
            settings.max_answer_sentences,
            settings.answer_passages,
            settings.answer_sentences,
            settings.answer_docs,
            settings.answer_policy,
            settings.reader,
            settings.reader_model,
            settings.reader_candidates,
            settings.reader_min_policy,
            settings.reader_policy_weight,
            settings.reader_span_weight,
            settings.reader_span_center,
            settings.reader_threads,
            settings.answer_context,
        )


@dataclass(frozen=True)
class Candidate:
    evidence: SentenceEvidence
    probability: float  # what the decision reads: the reader's (rules applied), else the policy's
    policy: float = 0.0  # the answer policy's probability, which orders the shortlist
    reading: Reading | None = None  # the reader's reading, for the shortlisted sentences
    score: float = 0.0  # what the listwise softmax read: the logit, plus the policy's if weighted
    short: ShortAnswer | None = None  # the short answer in its reading's spans (short.py); None if ruled out

    @property
    def sid(self) -> int:
        return self.evidence.sid

    @property
    def support(self) -> float:
        """How well the sentence answers on its own (not against the others): whether it may join
        the first one. The reader's logit as a probability; the policy's without the reader."""
        if self.reading is None:
            return self.probability
        return 0.0 if ruled_out(self.evidence) else 1 / (1 + math.exp(-self.score))


def period_scoped(query: Query) -> bool:
    """Whether a sentence's figures must fit the period the question names: a figure question
    naming one, or a factoid question with no question word at all, yes/no ones aside
    ("大东区1至8月整车产量？" asks for that period's value; it was answered with the full year's
    46万辆 before). 8 of DRCD's 3,493 questions and none of CMRC trial's are of the second kind."""
    if query.period is None or not query.period.names_a_period:
        return False
    if query.answer_type == "quantity":
        return True
    asked = read_question(query.text)
    return asked.factoid and not asked.wh and not YES_NO.search(query.text)


def _back(reading: Reading, shown: SpelledYears) -> Reading:
    """The reading with its spans in the verbatim sentence's offsets."""
    spans = tuple(replace(g, start=a, end=b) for g in reading.spans for a, b in [shown.original(g.start, g.end)])
    return replace(reading, spans=spans)


@dataclass(frozen=True)
class FoundConflict:
    """The candidate from another article that disagrees with the best one, and how."""

    candidate: Candidate
    conflict: FigureConflict

    def report(self, citations: list[Citation]) -> Conflict:
        """The conflict for the reader: both figures, each with its citation's number."""
        number = {c.sentence_id: n for n, c in enumerate(citations, 1)}
        claims = []
        for side in (self.conflict.first, self.conflict.second):
            n = number.get(side.sid if side.sid is not None else -1, 0)
            cited = citations[n - 1] if n else None
            claims.append(
                Claim(
                    figure=side.figure.text,
                    citation=n,
                    doc_id=side.doc_id,
                    title=cited.title if cited else "",
                    date=side.date,
                )
            )
        return Conflict(quantity=self.conflict.quantity, period=describe(self.conflict.period), claims=claims)


class ExtractiveAnswerer:
    def __init__(
        self,
        store: SentenceStore,
        params: AnswerParams,
        policy: AnswerPolicy | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.store = store
        self.params = params
        self._policy = policy
        self._reader = reader
        self.gatherer = EvidenceGatherer(store, params.answer_passages, params.answer_sentences, params.answer_docs)
        self.figures = self.gatherer.figures
        self.context = ContextFinder(store)

    @property
    def policy(self) -> AnswerPolicy:
        """The given policy, else the shipped weights (read on first use, once per process)."""
        return self._policy or shipped_policy(self.params.policy_path or None)

    @property
    def reader(self) -> Reader | None:
        """The given reader, else the shipped one (loaded on first use); None with `reader = false`."""
        if not self.params.reader:
            return None
        if self._reader is None:
            from dadong_qa.answering.reader import load_reader  # torch, on the first question

            self._reader = load_reader(self.params.reader_path, self.params.reader_threads)
        return self._reader

    def rank(self, retrieval: Retrieval) -> list[Candidate]:
        """Candidate sentences, most probable answer first."""
        ranked = self.rank_by_policy(retrieval)
        reader = self.reader
        return self._read(reader, retrieval.query, ranked) if reader is not None and ranked else ranked

    def _read(self, reader: Reader, query: Query, ranked: list[Candidate]) -> list[Candidate]:
        """The shortlist re-ranked by the reader, the rules applied by conditioning; the rest follow
        with probability 0 (they are still compared for conflicting figures)."""
        shortlist, rest = self._shortlist(ranked)
        shortlist = self._outcomes_first(query, shortlist)
        shown = [self._shown(query, c.sid) for c in shortlist]
        raw = reader.read([i for i, _ in shown], long_spans=wants_long_spans(query.text))
        readings = [_back(r, s) for r, (_, s) in zip(raw, shown, strict=True)]
        scores = [self._score(c, r) for c, r in zip(shortlist, readings, strict=True)]
        probs = listwise(scores)
        # A rule (year, plan, period, place, which year) rules a sentence out by conditioning: its
        # probability mass goes to the others and to "none" in proportion.
        left = 1.0 - sum(p for c, p in zip(shortlist, probs, strict=True) if ruled_out(c.evidence))
        probs = [0.0 if ruled_out(c.evidence) else p / max(left, 1e-9) for c, p in zip(shortlist, probs, strict=True)]
        read = [
            replace(c, probability=p, reading=r, score=s, short=self._short(query, c, r))
            for c, r, p, s in zip(shortlist, readings, probs, scores, strict=True)
        ]
        # Copies of one answer (a reprinted sentence, the same figure in other words) pool their
        # probability (agreement.py); a ruled-out sentence pools with none.
        answer_keys = [self._keys(c) for c in read]
        agreed = pooled(probs, answer_keys)
        # Within one answer, the sentence the reader read best is cited first.
        order = sorted(range(len(read)), key=lambda i: (-agreed[i], -read[i].score, -read[i].policy, read[i].sid))
        # The first is made surer, not chosen, by its quantity given for other periods: pooled before
        # the order, a 2021 figure with two 2022 mates outranked both.
        together = self._periods_apart(query, read)
        if together is not None and order:
            agreed[order[0]] = pooled(probs, answer_keys, together)[order[0]]
        return [replace(read[i], probability=agreed[i]) for i in order] + [replace(c, probability=0.0) for c in rest]

    def _outcomes_first(self, query: Query, shortlist: list[Candidate]) -> list[Candidate]:
        """A question that asks neither for a plan nor for what was done ("…护理型床位占比多少？")
        asks what is: a plan's figure gives way to a reported figure of the same quantity in the
        shortlist, by the plan rule (the 2023 plan's 80% took p 0.52 from 2022's 70% and refused
        the question). Alone, a plan still answers ("…产业园占地多少？")."""
        if query.wants_plan or query.wants_done:
            return shortlist
        found = [[] if ruled_out(c.evidence) else self.figures.figures(c.sid) for c in shortlist]
        out = plans_beside_outcomes(found)
        return [
            replace(c, evidence=replace(c.evidence, plan_conflict=1.0)) if i in out else c
            for i, c in enumerate(shortlist)
        ]

    def _periods_apart(self, query: Query, read: list[Candidate]) -> Callable[[int, int], bool] | None:
        """For a question that names no period, whether two read candidates give the same quantity
        for two periods (reported, not planned): each answers it, labelled with its period, so the
        first one's probability is theirs together. "大东区汽车产业产值达到了多少亿？" split 0.59 / 0.38
        between 1-8月's 1082.2亿元 and 2022's 1730亿元 and was refused."""
        if query.period is not None:
            return None
        found = [self._figure_of(query, c) for c in read]
        periods = [self.figures.dated(f) if f is not None else None for f in found]

        def together(i: int, j: int) -> bool:
            a, b = found[i], found[j]
            if a is None or b is None or a.figure.is_plan or b.figure.is_plan:
                return False
            return (
                periods[i] is not None
                and periods[j] is not None
                and periods[i] != periods[j]
                and alike(a.figure, b.figure)
            )

        return together

    def _figure_of(self, query: Query, cand: Candidate) -> SourcedFigure | None:
        """The figure a read candidate answers with (its short answer as the figure the question
        asks for, as `_answer` shows it), if it is one and no rule rules the sentence out."""
        if ruled_out(cand.evidence) or cand.short is None:
            return None
        shown = self.figures.asked_figure(query.text, query.asks_change, cand.sid, cand.short.text)
        return self.figures.of_span(cand.sid, shown)

    def _short(self, query: Query, cand: Candidate, reading: Reading) -> ShortAnswer | None:
        """The short answer the reader's spans give in the sentence; None when a rule rules it out."""
        if ruled_out(cand.evidence):
            return None
        return short_answer(query.text, self.store.sentences[cand.sid].text, reading.spans)

    def _keys(self, cand: Candidate) -> tuple[str, ...]:
        """What a read candidate is pooled by: its sentence and its short answer; none when ruled out."""
        if ruled_out(cand.evidence):
            return ()
        return keys(self.store.sentences[cand.sid].text, cand.short.text if cand.short is not None else None)

    def _shortlist(self, ranked: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
        """(what the reader reads, the rest): the policy's first `reader_candidates` sentences,
        less those under `reader_min_policy` once one that no rule rules out has been taken (a
        rule that rules out the top sentence still lets the next one be read)."""
        first = ranked[: self.params.reader_candidates]
        floor = self.params.reader_min_policy
        taken: list[Candidate] = []
        for c in first:
            if c.policy >= floor or all(ruled_out(t.evidence) for t in taken):
                taken.append(c)
        read = {c.sid for c in taken}
        return taken, [c for c in ranked if c.sid not in read]

    def _score(self, cand: Candidate, reading: Reading) -> float:
        """The reader's logit blended with the policy's log-odds and its best span's score."""
        p = self.params
        blend = Blend(p.reader_policy_weight, p.reader_span_weight, p.reader_span_center)
        return blend.score(reading.logit, cand.policy, reading.spans[0].score if reading.spans else None)

    def _shown(self, query: Query, sid: int) -> tuple[ReaderInput, SpelledYears]:
        """What the reader reads for a sentence (title, sentence before, sentence) and the way back
        to the verbatim sentence. The question's Latin abbreviations and parts of a year are
        written as the sentence writes them ("GDP" as 地区生产总值, "前八个月" as "1月至8月"). For a
        question that names a year, relative years are written as the article's date makes them;
        a question's own 去年 stays matched to the sentence's (the news reader's "last year" is
        the article's)."""
        sentence = self.store.sentences[sid]
        doc = self.store.doc_meta(sentence.doc_id)
        spelled = spell_years(sentence.text, int(doc.date[:4]) if doc.date and query.years else None)
        ids = self.store.doc_sentence_ids(sentence.doc_id)
        at = ids.index(sid)
        before = self.store.sentences[ids[at - 1]].text if at > 0 else ""
        # News states a year once ("2022年，…") and stays in it for sentences the reader's window
        # does not reach: for a question naming a year, that year goes in front of the context.
        # "大东区2022年地区生产总值是多少？": the right sentence's logit -3.3 -> -2.2 (still refused);
        # on CMRC trial and DRCD no answer's confidence moved (years there sit in the sentence).
        year = self.figures.context_year(sid) if query.years else None
        if year is not None and not STATED_YEAR.search(spelled.text + before):
            before = f"{year}年，{before}"
        question = months_as_written(as_written(query.text, spelled.text), spelled.text)
        return ReaderInput(question, spelled.text, before, doc.title), spelled

    def rank_by_policy(self, retrieval: Retrieval) -> list[Candidate]:
        """Candidate sentences ordered by the answer policy's probability."""
        records = self.gatherer.gather(retrieval)
        probs = self.policy.probabilities(records)
        asked = retrieval.query.period
        if asked is not None and period_scoped(retrieval.query):
            probs = self._fit_periods(records, probs, asked)
        ranked = [Candidate(r, float(p), float(p)) for r, p in zip(records, probs, strict=True)]
        ranked.sort(key=lambda c: (-c.probability, c.sid))
        return ranked

    def _fit_periods(self, records: list[SentenceEvidence], probs: np.ndarray, asked: Period) -> np.ndarray:
        """Probabilities after the period rule, reading figures (~2 ms a sentence) only for the
        candidates that could answer: the reader's shortlist, until every sentence in it has been
        read (a sentence the rule demotes lets the next one in), or without the reader those
        above the threshold (the rule can only lower a probability)."""
        read: set[int] = set()
        while True:
            if self.params.reader:
                could = np.argsort(-probs, kind="stable")[: self.params.reader_candidates]
            else:
                could = np.flatnonzero(probs >= self.params.refusal_threshold)
            todo = [int(i) for i in could if int(i) not in read]
            if not todo:
                return probs
            for i in todo:
                records[i].period_fit = self.figures.period_fit(records[i].sid, asked)
            read.update(todo)
            probs = self.policy.probabilities(records)

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        if retrieval.query.small_talk is not None:
            return Answer(text=SMALL_TALK[retrieval.query.small_talk], answered=False, question=question)
        ranked = self.rank(retrieval)
        best = ranked[0] if ranked else None
        if best is None or best.probability < self.params.refusal_threshold:
            return self.refusal(question, retrieval, best.probability if best else 0.0)
        chosen = self._choose(ranked, retrieval)
        conflict = self._conflicting(best, ranked)
        if conflict is not None and conflict.candidate not in chosen:
            chosen.append(conflict.candidate)
        return self._answer(question, retrieval, chosen, conflict, best.probability)

    def _choose(self, ranked: list[Candidate], retrieval: Retrieval) -> list[Candidate]:
        """The best sentence, plus probable ones for question terms or years it leaves out."""
        limit, threshold = self.params.max_answer_sentences, self.params.refusal_threshold
        weights = self.gatherer.term_weights(retrieval.query)
        total = sum(weights.values()) or 1.0
        chosen = [ranked[0]]
        covered = set(ranked[0].evidence.covered)
        for cand in ranked[1:]:
            if len(chosen) >= limit:
                break
            if cand.support < threshold:
                continue
            gain = sum(weights[t] for t in cand.evidence.matched - covered) / total
            if gain >= MIN_GAIN:
                chosen.append(cand)
                covered |= cand.evidence.matched
        # A question about several years ("2022年…2023年…") needs a sentence for each of them.
        for y in sorted(retrieval.query.years) if len(retrieval.query.years) > 1 else []:
            if len(chosen) >= limit or any(c.evidence.year == y for c in chosen):
                continue
            cand = next((c for c in ranked if c.evidence.year == y), None)
            if cand is not None and cand.support >= threshold:
                chosen.append(cand)
        return chosen

    def _conflicting(self, best: Candidate, ranked: list[Candidate]) -> FoundConflict | None:
        """A sentence from another article giving a different figure for the same quantity, place,
        period and kind (plan or outcome) as the best one (conflict.py decides)."""
        mine = self.figures.figures(best.sid)
        if not mine:
            return None
        first = self.store.sentences[best.sid]
        for cand in ranked[1:CONFLICT_CANDIDATES]:
            if self.store.sentences[cand.sid].doc_id == first.doc_id:
                continue
            found = find_conflicts([*mine, *self.figures.figures(cand.sid)])
            if found:
                return FoundConflict(cand, found[0])
        return None

    def _period(self, sid: int, short: str | None) -> str | None:
        """The period of the sentence's figure that is the short answer (else its first figure)."""
        sourced = self.figures.figures(sid)
        if not sourced:
            return None
        return self.figures.label(self.figures.of_span(sid, short) or sourced[0])

    # ---------------------------------------------------------------- the two outcomes

    def _citations(self, query: Query, chosen: list[Candidate], retrieval: Retrieval) -> list[Citation]:
        """The chosen sentences cited, the first with the neighbours it needs (context.py) around
        it in the article's order; a neighbour that was chosen anyway is cited there as an answer."""
        by_sid = {c.sid: c for c in chosen}
        around = Context()
        if self.params.answer_context:
            around = self.context.around(query, chosen[0].sid, self.gatherer.term_weights(query))
        return [self._citation(sid, by_sid.get(sid), retrieval) for sid in around.cited(list(by_sid))]

    def _citation(self, sid: int, cand: Candidate | None, retrieval: Retrieval) -> Citation:
        """A sentence cited: as an answer (`cand`, with its probability), else as context."""
        sent = self.store.sentences[sid]
        doc = self.store.doc_meta(sent.doc_id)
        passage = next((p.text for p in retrieval.passages if sid in p.sentence_ids), sent.text)
        return Citation(
            sentence=sent.text,
            doc_id=sent.doc_id,
            title=doc.title,
            date=doc.date,
            sentence_id=sid,
            passage=passage,
            score=round(cand.probability, 4) if cand is not None else 0.0,
            period=self._period(sid, None),
            context=cand is None,
            **citation_source(doc, sent.start),
        )

    def _answer(
        self,
        question: str,
        retrieval: Retrieval,
        chosen: list[Candidate],
        conflict: FoundConflict | None,
        confidence: float,
    ) -> Answer:
        citations = self._citations(retrieval.query, chosen, retrieval)
        text = "".join(f"{c.sentence}[{n}]" for n, c in enumerate(citations, 1))
        short = chosen[0].short.text if chosen[0].short is not None else None
        short = self.figures.asked_figure(retrieval.query.text, retrieval.query.asks_change, chosen[0].sid, short)
        if retrieval.query.asks_reason and citations[0].context:  # "因此，…": the reason is before it
            short = None
        return Answer(
            text=CONFLICT_PREFIX + text if conflict else text,
            answered=True,
            citations=citations,
            passages=retrieval.passages,
            question=question,
            conflict=conflict.report(citations) if conflict else None,
            confidence=round(confidence, 4),
            short=short,
            period=self._period(chosen[0].sid, short),
        )

    def refusal(self, question: str, retrieval: Retrieval, confidence: float) -> Answer:
        q = question.strip().rstrip("？?。")
        if len(q) > 40:
            q = q[:40] + "……"
        return Answer(
            text=REFUSAL_TEMPLATE.format(q=q),
            answered=False,
            citations=[],
            passages=retrieval.passages,
            question=question,
            confidence=round(confidence, 4),
        )
