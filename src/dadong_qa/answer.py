"""Extractive answering: pick the source sentences that answer, cite them, or refuse.

Each sentence of the top passages is scored on three signals:
- meaning: cosine between question and sentence vectors;
- coverage: how much of the question's information (its terms weighted by IDF, so that a
  word found in every article counts for little and a word found in none counts most) the
  sentence contains;
- the fused score of the passage it came from.
The best sentence answers; more sentences join only when they cover question terms the
first one missed (multi-fact questions). The answer is refused when the best support is
below the calibrated threshold, so questions about things the articles never mention get
"not in the sources" instead of a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .config import Settings
from .expand import Query, analyze
from .index import Index
from .retrieve import Retrieval
from .schema import Answer, Citation
from .text import normalize

# What kind of fact the question wants, and what a sentence then must contain.
_ASKS_QUANTITY = re.compile(
    r"多少|几[个家项所座名次年天倍成]?|多大|多高|多长|多远|多快|比例|百分之|增长了?|增速|排名|第几|规模|金额|总额|总值"
)
_ASKS_TIME = re.compile(r"哪天|哪一天|什么时候|何时|哪年|哪一年|几月|几号|日期|时间")
_HAS_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+[个家项所座名次年倍成%]|第[一二三四五六七八九十]")
_HAS_TIME = re.compile(r"\d{1,2}月|\d{1,2}日|\d{4}年|年底|年初|上半年|下半年|今年|明年|去年")
_DATES = re.compile(r"\d{4}年|\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}[日号]")  # dates are not the asked-for figure
_NUM_CONTEXT = re.compile(r"(\d+(?:\.\d+)?)(\s*[个家项所座名次辆台列套人元亿万%％公里公顷平方米吨倍])")
_YEAR = re.compile(r"(?:19|20)\d{2}年")
# Whether the question asks what is planned or what has happened; a sentence about a year after
# its article's date, or with a planning verb, describes a plan.
_ASKS_PLAN = re.compile(r"计划|打算|准备|目标|将要|将会|拟|力争|预计|要[^求]")
_ASKS_DONE = re.compile(r"了|已经|已|去年|曾经|完成")
_PLAN_WORDS = re.compile(r"力争|计划|拟|将要|争取|目标")

MIN_QUESTION_INFORMATION = 8.0  # summed IDF; about two rare words
REFUSAL_TEMPLATE = "现有资料中没有找到能回答“{q}”的内容。"
CONFLICT_PREFIX = "注意：不同来源的数字不一致。"


@dataclass
class _Scored:
    sid: int
    score: float  # ranks sentences for the answer
    support: float  # how well the sentence answers; the refusal decision is made on this
    cos: float
    coverage: float
    matched: frozenset[str]  # question terms the sentence itself contains (or a synonym of)


def _match(term: str, synonyms: list[str], sentence: str, context: str) -> float:
    """Credit for one question term in a sentence: the word 1, a synonym 0.7, most of a long
    word's bigrams up to 0.6, the word only in the sentence's context (title, heading, the
    sentence before) 0.5."""
    if term in sentence:
        return 1.0
    if any(s in sentence for s in synonyms):
        return 0.7
    if len(term) >= 3:
        grams = [term[i : i + 2] for i in range(len(term) - 1)]
        hit = sum(1 for g in grams if g in sentence) / len(grams)
        if hit >= 0.5:
            return 0.6 * hit
    if term in context or any(s in context for s in synonyms):
        return 0.5
    return 0.0


class ExtractiveAnswerer:
    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self._years: dict[int, str | None] = {}

    def term_weights(self, query: Query) -> dict[str, float]:
        """IDF weight per question term: rare words say most about what is asked; a word
        missing from every article weighs most, so a question about something the articles
        never mention finds little support."""
        weights = {}
        for t in query.terms:
            w = self.index.idf(t)
            if len(t) == 1 and not t.isascii():
                w *= 0.3  # a lone Chinese character carries little meaning on its own
            weights[t] = w
        return weights

    def sentence_year(self, sid: int) -> str | None:
        """The year a sentence speaks of: the last year written at or before it in its article,
        else the article's date year. News text states a year once and then stays in it."""
        if sid not in self._years:
            sentence = self.index.sentences[sid]
            rec = self.index.docs[sentence.doc_id]
            current = rec.doc.date[:4] if rec.doc.date else None
            for other in rec.sentence_ids:
                found = _YEAR.findall(self.index.sentences[other].text)
                if found:
                    current = found[-1][:4]
                self._years[other] = current
        return self._years.get(sid)

    def is_plan(self, sid: int, year: str | None) -> bool | None:
        """True for a plan or target, False for a reported fact, None when it cannot be told."""
        sentence = self.index.sentences[sid]
        if _PLAN_WORDS.search(sentence.text):
            return True
        date = self.index.doc_meta(sentence.doc_id).date
        if year and date:
            return year > date[:4]
        return None

    def _context(self, sid: int, heading_of: dict[int, str | None]) -> str:
        sentence = self.index.sentences[sid]
        doc = self.index.doc_meta(sentence.doc_id)
        prev = self.index.sentences.get(sid - 1)
        before = prev.text if prev is not None and prev.doc_id == sentence.doc_id else ""
        return normalize(f"{doc.title} {heading_of.get(sid) or ''} {before}")

    def score_sentences(self, question: str, retrieval: Retrieval) -> tuple[list[_Scored], Query, dict[str, float]]:
        index = self.index
        query = analyze(question, index.has_term)
        weights = self.term_weights(query)
        # A question with almost no content words ("问题？") cannot be well supported by any
        # sentence, however fully the sentence contains those few words.
        total = max(sum(weights.values()), MIN_QUESTION_INFORMATION)
        wants_quantity = bool(_ASKS_QUANTITY.search(question))
        wants_time = bool(_ASKS_TIME.search(question))
        wants_plan, wants_done = bool(_ASKS_PLAN.search(question)), bool(_ASKS_DONE.search(question))
        passages = retrieval.passages[: self.settings.answer_passages]
        top_passage = max((p.score for p in passages), default=0.0) or 1.0

        near: dict[int, float] = {}
        heading_of: dict[int, str | None] = {}
        for p in passages:
            heading = index.chunks[p.chunk_id].heading if p.chunk_id in index.chunks else None
            for sid in p.sentence_ids:
                near[sid] = max(near.get(sid, 0.0), p.score / top_passage)
                heading_of.setdefault(sid, heading)
        sids = list(near)
        if not sids:
            return [], query, weights
        cos_all = index.sentence_vectors(sids) @ retrieval.query_vector
        out = []
        for sid, cos in zip(sids, cos_all, strict=True):
            text = index.sentences[sid].text
            norm = normalize(text)
            context = self._context(sid, heading_of)
            credit = {t: _match(t, query.synonyms.get(t, []), norm, context) for t in weights}
            coverage = sum(weights[t] * c for t, c in credit.items()) / total
            factor = 1.0
            if wants_quantity and not _HAS_QUANTITY.search(_DATES.sub("", unicodedata.normalize("NFKC", text))):
                factor *= 0.8
            if wants_time and not _HAS_TIME.search(text):
                factor *= 0.85
            year = self.sentence_year(sid)
            if query.years:
                # A sentence that cannot be placed in time is a weaker answer to a dated question.
                factor *= 1.0 if year in query.years else 0.85 if year is None else 0.8
            if wants_plan != wants_done:
                plan = self.is_plan(sid, year)
                factor *= 0.92 if plan is None else 1.0 if plan == wants_plan else 0.85
            cos = float(cos)
            support = (0.45 * cos + 0.55 * coverage) * factor
            score = (0.40 * cos + 0.50 * coverage + 0.10 * near[sid]) * factor
            matched = frozenset(t for t, c in credit.items() if c >= 0.7)
            out.append(_Scored(sid, score, support, cos, coverage, matched))
        out.sort(key=lambda s: (-s.score, s.sid))
        return out, query, weights

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        scored, _, weights = self.score_sentences(question, retrieval)
        if not scored:
            return self._refuse(question, retrieval, 0.0)
        best = scored[0]
        support = best.support
        if support < self.settings.refusal_threshold:
            return self._refuse(question, retrieval, support)

        # More sentences only for what the first one left out (multi-fact questions), and only
        # sentences that are good answers in their own right: no padding.
        chosen = [best]
        covered = set(best.matched)
        total = sum(weights.values()) or 1.0
        for cand in scored[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if cand.score < 0.7 * best.score:
                break
            gain = sum(weights[t] for t in cand.matched - covered) / total
            if gain >= 0.15 and cand.support >= self.settings.refusal_threshold:
                chosen.append(cand)
                covered |= cand.matched

        conflict = self._conflicting(best, scored)
        if conflict is not None and conflict not in chosen:
            chosen.append(conflict)

        citations = []
        parts = []
        for n, s in enumerate(chosen, 1):
            sent = self.index.sentences[s.sid]
            doc = self.index.doc_meta(sent.doc_id)
            passage = next((p.text for p in retrieval.passages if s.sid in p.sentence_ids), sent.text)
            citations.append(
                Citation(
                    sentence=sent.text,
                    doc_id=sent.doc_id,
                    title=doc.title,
                    date=doc.date,
                    sentence_id=s.sid,
                    passage=passage,
                    score=round(s.score, 4),
                )
            )
            parts.append(f"{sent.text}[{n}]")
        text = "".join(parts)
        if conflict is not None:
            text = CONFLICT_PREFIX + text
        return Answer(
            text=text,
            answered=True,
            citations=citations,
            passages=retrieval.passages,
            question=question,
            conflict=conflict is not None,
            confidence=round(support, 4),
        )

    def _refuse(self, question: str, retrieval: Retrieval, support: float) -> Answer:
        q = question.strip().rstrip("？?。")
        if len(q) > 40:
            q = q[:40] + "……"
        return Answer(
            text=REFUSAL_TEMPLATE.format(q=q),
            answered=False,
            citations=[],
            passages=retrieval.passages,
            question=question,
            confidence=round(support, 4),
        )

    def _conflicting(self, best: _Scored, scored: list[_Scored]) -> _Scored | None:
        """A sentence from another article giving a different figure for the same thing."""
        index = self.index
        first = index.sentences[best.sid]
        mentions = _number_mentions(first.text)
        if not mentions:
            return None
        for cand in scored[1:12]:
            other = index.sentences[cand.sid]
            if other.doc_id == first.doc_id or cand.coverage < 0.8 * best.coverage or cand.cos < 0.8 * best.cos:
                continue
            if (
                set(_YEAR.findall(first.text)) != set(_YEAR.findall(other.text))
                and _YEAR.search(first.text)
                and _YEAR.search(other.text)
            ):
                continue
            for num, unit, ctx in mentions:
                for num2, unit2, ctx2 in _number_mentions(other.text):
                    if unit == unit2 and num != num2 and _overlap(ctx, ctx2) >= 0.35:
                        return cand
        return None


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
