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

import jieba

from .config import Settings
from .index import Index
from .retrieve import Retrieval
from .schema import Answer, Citation
from .text import STOPWORDS, normalize

# What kind of fact the question wants, and what a sentence then must contain.
_ASKS_QUANTITY = re.compile(
    r"多少|几[个家项所座名次年天倍成]?|多大|多高|多长|多远|多快|比例|百分之|增长了?|增速|排名|第几|规模|金额|总额|总值"
)
_ASKS_TIME = re.compile(r"哪天|哪一天|什么时候|何时|哪年|哪一年|几月|几号|日期|时间")
_HAS_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+[个家项所座名次年倍成%]|第[一二三四五六七八九十]")
_HAS_TIME = re.compile(r"\d{1,2}月|\d{1,2}日|\d{4}年|年底|年初|上半年|下半年|今年|明年|去年")
_NUM_CONTEXT = re.compile(r"(\d+(?:\.\d+)?)(\s*[个家项所座名次辆台列套人元亿万%％公里公顷平方米吨倍])")
_YEAR = re.compile(r"(?:19|20)\d{2}年")

REFUSAL_TEMPLATE = "现有资料中没有找到能回答“{q}”的内容。"
CONFLICT_PREFIX = "注意：不同来源的数字不一致。"


@dataclass
class _Scored:
    sid: int
    score: float
    cos: float
    coverage: float
    matched: frozenset[str]
    passage_score: float


def question_terms(question: str, index: Index) -> dict[str, float]:
    """Content words of the question with IDF weights."""
    norm = normalize(question)
    terms: dict[str, float] = {}
    for w in jieba.lcut(norm):
        w = w.strip()
        if not w or w in STOPWORDS or not re.search(r"[\u4e00-\u9fffa-z0-9]", w):
            continue
        if len(w) == 1 and not w.isdigit() and not re.match(r"[a-z]", w):
            # A lone character carries little meaning in Chinese; keep it at low weight.
            terms[w] = max(terms.get(w, 0.0), 0.3 * index.idf(w))
            continue
        terms[w] = max(terms.get(w, 0.0), index.idf(w))
    return terms


def _match(term: str, sentence_norm: str) -> float:
    """1 if the term is in the sentence; partial credit for the share of its bigrams that are."""
    if term in sentence_norm:
        return 1.0
    if len(term) < 3:
        return 0.0
    grams = [term[i : i + 2] for i in range(len(term) - 1)]
    hit = sum(1 for g in grams if g in sentence_norm) / len(grams)
    return 0.6 * hit if hit >= 0.5 else 0.0


class ExtractiveAnswerer:
    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings

    def score_sentences(self, question: str, retrieval: Retrieval) -> tuple[list[_Scored], dict[str, float]]:
        index = self.index
        terms = question_terms(question, index)
        total = sum(terms.values()) or 1.0
        wants_quantity = bool(_ASKS_QUANTITY.search(question))
        wants_time = bool(_ASKS_TIME.search(question))
        passages = retrieval.passages[: self.settings.answer_passages]
        top_passage = max((p.score for p in passages), default=0.0) or 1.0

        seen: dict[int, float] = {}
        for p in passages:
            for sid in p.sentence_ids:
                seen[sid] = max(seen.get(sid, 0.0), p.score / top_passage)
        sids = list(seen)
        if not sids:
            return [], terms
        vecs = index.sentence_vectors(sids)
        cos = vecs @ retrieval.query_vector
        out = []
        for sid, c in zip(sids, cos, strict=True):
            text = index.sentences[sid].text
            norm = normalize(text)
            matched = {t: _match(t, norm) for t in terms}
            coverage = sum(terms[t] * m for t, m in matched.items()) / total
            score = 0.45 * float(c) + 0.45 * coverage + 0.10 * seen[sid]
            if wants_quantity and not _HAS_QUANTITY.search(unicodedata.normalize("NFKC", text)):
                score *= 0.8
            if wants_time and not _HAS_TIME.search(text):
                score *= 0.85
            full = frozenset(t for t, m in matched.items() if m >= 0.99)
            out.append(_Scored(sid, score, float(c), coverage, full, seen[sid]))
        out.sort(key=lambda s: (-s.score, s.sid))
        return out, terms

    def support(self, best: _Scored) -> float:
        """The number the refusal decision is made on: meaning and coverage of the best sentence."""
        return 0.5 * best.cos + 0.5 * best.coverage

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        scored, terms = self.score_sentences(question, retrieval)
        if not scored:
            return self._refuse(question, retrieval, 0.0)
        best = scored[0]
        support = self.support(best)
        if support < self.settings.refusal_threshold:
            return self._refuse(question, retrieval, support)

        chosen = [best]
        covered = set(best.matched)
        total = sum(terms.values()) or 1.0
        for cand in scored[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if cand.score < 0.75 * best.score:
                break
            gain = sum(terms[t] for t in cand.matched - covered) / total
            if gain >= 0.12:
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
