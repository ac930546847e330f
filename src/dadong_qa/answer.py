"""Extractive answering: pick the source sentences that answer, cite them, or refuse.

Each candidate sentence is measured (`evidence.py`), the learned policy turns the measurements
into the probability that the sentence answers (`policy.py`), and this module decides:
- the most probable sentence answers, unless its probability is below
  `refusal_threshold` (chosen on held-out data for precision): then the answer is "not in the
  sources" — a wrong answer costs a reader more than a refusal;
- more sentences join only when they are probable answers themselves and cover question terms
  the first one missed (multi-fact questions), or a year the question names that the chosen
  ones lack;
- a sentence from another article giving a different figure for the same thing is cited too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Settings
from .conflict import SourcedFigure, find_conflicts
from .evidence import EvidenceGatherer, SentenceEvidence, SentenceStore
from .figures import figures
from .formats import citation_source
from .periods import Period, context_periods
from .policy import AnswerPolicy, shipped_policy
from .retrieve import Retrieval
from .schema import Answer, Citation
from .short import extract_short

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
    short_threshold: float = Settings.short_answer_threshold

    @classmethod
    def of(cls, settings: Settings) -> AnswerParams:
        return cls(
            settings.refusal_threshold,
            settings.max_answer_sentences,
            settings.answer_passages,
            settings.answer_sentences,
            settings.answer_docs,
            settings.answer_policy,
            settings.short_answer_threshold,
        )


@dataclass(frozen=True)
class Candidate:
    evidence: SentenceEvidence
    probability: float

    @property
    def sid(self) -> int:
        return self.evidence.sid


class ExtractiveAnswerer:
    def __init__(self, store: SentenceStore, params: AnswerParams, policy: AnswerPolicy | None = None) -> None:
        self.store = store
        self.params = params
        self._policy = policy
        self._periods: dict[str, dict[int, Period | None]] = {}  # per article, computed once
        self.gatherer = EvidenceGatherer(store, params.answer_passages, params.answer_sentences, params.answer_docs)

    @property
    def policy(self) -> AnswerPolicy:
        """The given policy, else the shipped weights (read on first use, once per process)."""
        return self._policy or shipped_policy(self.params.policy_path or None)

    def rank(self, retrieval: Retrieval) -> list[Candidate]:
        """Candidate sentences, most probable answer first."""
        records = self.gatherer.gather(retrieval)
        probs = self.policy.probabilities(records)
        ranked = [Candidate(r, float(p)) for r, p in zip(records, probs, strict=True)]
        ranked.sort(key=lambda c: (-c.probability, c.sid))
        return ranked

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        if retrieval.query.small_talk is not None:
            return Answer(text=SMALL_TALK[retrieval.query.small_talk], answered=False, question=question)
        ranked = self.rank(retrieval)
        best = ranked[0] if ranked else None
        if best is None or best.probability < self.params.refusal_threshold:
            return self.refusal(question, retrieval, best.probability if best else 0.0)
        chosen = self._choose(ranked, retrieval)
        conflict = self._conflicting(best, ranked)
        if conflict is not None and conflict not in chosen:
            chosen.append(conflict)
        return self._answer(question, retrieval, chosen, conflict is not None, best.probability)

    def _choose(self, ranked: list[Candidate], retrieval: Retrieval) -> list[Candidate]:
        """The best sentence, plus probable ones for question terms or years it leaves out."""
        limit, threshold = self.params.max_answer_sentences, self.params.refusal_threshold
        weights = self.gatherer.term_weights(retrieval.query)
        total = sum(weights.values()) or 1.0
        chosen = [ranked[0]]
        covered = set(ranked[0].evidence.covered)
        for cand in ranked[1:]:
            if len(chosen) >= limit or cand.probability < threshold:
                break
            gain = sum(weights[t] for t in cand.evidence.matched - covered) / total
            if gain >= MIN_GAIN:
                chosen.append(cand)
                covered |= cand.evidence.matched
        # A question about several years ("2022年…2023年…") needs a sentence for each of them.
        for y in sorted(retrieval.query.years) if len(retrieval.query.years) > 1 else []:
            if len(chosen) >= limit or any(c.evidence.year == y for c in chosen):
                continue
            cand = next((c for c in ranked if c.evidence.year == y), None)
            if cand is not None and cand.probability >= threshold:
                chosen.append(cand)
        return chosen

    def _conflicting(self, best: Candidate, ranked: list[Candidate]) -> Candidate | None:
        """A sentence from another article giving a different figure for the same quantity, place,
        period and kind (plan or outcome) as the best one (conflict.py decides)."""
        mine = self._figures(best.sid)
        if not mine:
            return None
        first = self.store.sentences[best.sid]
        for cand in ranked[1:CONFLICT_CANDIDATES]:
            if self.store.sentences[cand.sid].doc_id != first.doc_id and find_conflicts(
                [*mine, *self._figures(cand.sid)]
            ):
                return cand
        return None

    def _figures(self, sid: int) -> list[SourcedFigure]:
        """The figures of a sentence with their periods, read in the context of its article."""
        sentence = self.store.sentences[sid]
        doc = self.store.doc_meta(sentence.doc_id)
        period = self._contexts(sentence.doc_id).get(sid)
        year, months = (period.year, period.months) if period is not None else (None, None)
        return [
            SourcedFigure(f, sentence.text, sentence.doc_id, doc.date, sid)
            for f in figures(sentence.text, article_date=doc.date, context_year=year, context_months=months)
        ]

    def _contexts(self, doc_id: str) -> dict[int, Period | None]:
        if doc_id not in self._periods:
            sids = self.store.doc_sentence_ids(doc_id)
            texts = [self.store.sentences[s].text for s in sids]
            periods = context_periods(texts, self.store.doc_meta(doc_id).date)
            self._periods[doc_id] = dict(zip(sids, periods, strict=True))
        return self._periods[doc_id]

    # ---------------------------------------------------------------- the two outcomes

    def _citation(self, cand: Candidate, retrieval: Retrieval) -> Citation:
        sent = self.store.sentences[cand.sid]
        doc = self.store.doc_meta(sent.doc_id)
        passage = next((p.text for p in retrieval.passages if cand.sid in p.sentence_ids), sent.text)
        return Citation(
            sentence=sent.text,
            doc_id=sent.doc_id,
            title=doc.title,
            date=doc.date,
            sentence_id=cand.sid,
            passage=passage,
            score=round(cand.probability, 4),
            **citation_source(doc, sent.start),
        )

    def _answer(
        self, question: str, retrieval: Retrieval, chosen: list[Candidate], conflict: bool, confidence: float
    ) -> Answer:
        citations = [self._citation(c, retrieval) for c in chosen]
        text = "".join(f"{c.sentence}[{n}]" for n, c in enumerate(citations, 1))
        first = citations[0]
        span = extract_short(question, first.sentence, title=first.title, threshold=self.params.short_threshold)
        return Answer(
            text=CONFLICT_PREFIX + text if conflict else text,
            answered=True,
            citations=citations,
            passages=retrieval.passages,
            question=question,
            conflict=conflict,
            confidence=round(confidence, 4),
            # the whole sentence is no short answer: the text already is that
            short=span.text if span is not None and span.text != first.sentence else None,
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
