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

import re
import unicodedata
from dataclasses import dataclass

from .config import Settings
from .evidence import EvidenceGatherer, SentenceEvidence, SentenceStore
from .formats import citation_source
from .policy import AnswerPolicy, shipped_policy
from .query import WRITTEN_YEAR
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
_NUM_CONTEXT = re.compile(r"(\d+(?:\.\d+)?)(\s*[个家项所座名次辆台列套人元亿万%％公里公顷平方米吨倍])")


@dataclass(frozen=True)
class AnswerParams:
    """The settings answering uses."""

    refusal_threshold: float = 0.5
    max_answer_sentences: int = 3
    answer_passages: int = 8
    answer_sentences: int = 10
    answer_docs: int = 2
    policy_path: str = ""  # "" = the shipped weights
    short_threshold: float = 0.15

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
        """A sentence from another article giving a different figure for the same thing."""
        first = self.store.sentences[best.sid]
        mentions = _number_mentions(first.text)
        if not mentions:
            return None
        b = best.evidence
        for cand in ranked[1:12]:
            other = self.store.sentences[cand.sid]
            e = cand.evidence
            if other.doc_id == first.doc_id or e.coverage_ctx < 0.8 * b.coverage_ctx or e.cos < 0.8 * b.cos:
                continue
            years, other_years = set(WRITTEN_YEAR.findall(first.text)), set(WRITTEN_YEAR.findall(other.text))
            if years and other_years and years != other_years:
                continue
            for num, unit, ctx in mentions:
                for num2, unit2, ctx2 in _number_mentions(other.text):
                    if unit == unit2 and num != num2 and _overlap(ctx, ctx2) >= 0.35:
                        return cand
        return None

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


def _number_mentions(text: str) -> list[tuple[str, str, set[str]]]:
    """(number, unit, context bigrams) for each counted quantity in a sentence."""
    norm = unicodedata.normalize("NFKC", text)
    out = []
    for m in _NUM_CONTEXT.finditer(norm):
        window = norm[max(0, m.start() - 8) : m.start()] + norm[m.end() : m.end() + 10]
        window = re.sub(r"[\d\s.,，、“”\"']", "", window)
        out.append((m.group(1), m.group(2).strip(), {window[i : i + 2] for i in range(len(window) - 1)}))
    return out


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))
