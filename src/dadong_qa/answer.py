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

import jieba.posseg as pseg

from .config import Settings
from .expand import Query, Thesaurus
from .formats import citation_source
from .index import Index
from .retrieve import Retrieval
from .schema import Answer, Citation
from .text import normalize

# What kind of fact the question wants, and what a sentence then must contain.
_ASKS_QUANTITY = re.compile(
    r"多少|几[个家项所座名次年天倍成]?|多大|多高|多长|多远|多快|比例|百分之|增长了?|增速|排名|第几|规模|金额|总额|总值"
)
_ASKS_PERSON = re.compile(r"谁|哪位|什么人|哪个人|姓名|名字")
_ASKS_TIME = re.compile(r"哪天|哪一天|什么时候|何时|哪年|哪一年|几月|几号|日期|时间")
_HAS_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+[个家项所座名次年倍成%]|第[一二三四五六七八九十]")
_HAS_TIME = re.compile(r"\d{1,2}月|\d{1,2}日|\d{4}年|年底|年初|上半年|下半年|今年|明年|去年")
# The measure word a "how many" question names ("多少家", "几所"): the answer's number should
# carry it, or a synonym of it ("趟" ~ "列", "棵" ~ "株").
_UNITS = (
    "平方公里|平方千米|平方米|公顷|公里|千米|亿元|万元|元|亿|万|个|家|项|所|座|名|位|次|趟|列|辆|台|套|人|吨|天|条|张|株|棵|"
    "场|届|批|种|类|倍|岁|户|间|栋|层|份|件|款|只|篇|部|亩|米|年|月"
)
_ASKED_UNIT = re.compile(rf"(?:多少|几)\s*({_UNITS}|钱)")
# Nouns that name a dimension, and the units a figure of that dimension is written in: a
# sentence with "37.5公顷" answers "多少面积" although it never says 面积.
_DIMENSIONS = {
    ("面积", "占地", "用地", "多大"): "平方公里|平方千米|平方米|公顷|亩",
    ("长度", "里程", "距离", "多长", "多远"): "公里|千米|米",
    ("重量", "多重"): "吨|公斤|千克",
    ("金额", "资金", "投资", "收入", "经费", "费用", "成本", "产值", "价格", "总额", "钱"): "元",
    ("人数", "人口"): "人次|人",
    ("增速", "增幅", "增长率", "比例", "比重", "占比", "百分比", "多少倍"): "%|倍",
}
_NUMBER_PREFIX = r"\d[\d.,]*\s*(?:余|多)?\s*(?:[十百千万亿]\s*)*"
_DIMENSION_OF = {
    word: re.compile(_NUMBER_PREFIX + rf"(?:{units})") for words, units in _DIMENSIONS.items() for word in words
}
_DATES = re.compile(r"\d{4}年|\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}[日号]")  # dates are not the asked-for figure
_NUM_CONTEXT = re.compile(r"(\d+(?:\.\d+)?)(\s*[个家项所座名次辆台列套人元亿万%％公里公顷平方米吨倍])")
_YEAR = re.compile(r"(?:19|20)\d{2}年")
# Whether the question asks what is planned or what has happened; a sentence about a year after
# its article's date, or with a planning verb, describes a plan.
_ASKS_PLAN = re.compile(r"计划|打算|准备|目标|将要|将会|拟|力争|预计|要[^求]")
_ASKS_DONE = re.compile(r"了|已经|已|去年|曾经|完成")
_PLAN_WORDS = re.compile(r"力争|计划|拟|将要|争取|目标")

_RELATIVE_YEAR = re.compile(r"去年|今年|明年|前年")
_RELATIVE_OFFSET = {"前年": -2, "去年": -1, "今年": 0, "明年": 1}
YEAR_MISMATCH = 0.35  # a figure for another year does not answer a question about this one
UNMATCHED_TERM_FACTOR = 0.7
MIN_GAIN = 0.2  # share of the question's weight a further sentence must add to be included
# A question with almost no content words ("问题？") cannot be well supported by any sentence,
# however fully the sentence contains those few words: coverage is divided by at least this many
# times the weight of a word no article has (about one and a half rare words).
MIN_QUESTION_INFORMATION = 1.5
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
    covered: frozenset[str]  # ... or that its context (title, heading, sentence before) does


def _match(term: str, expansions: list[tuple[str, float]], sentence: str, title: str, context: str) -> float:
    """Credit for one question term in a sentence: the word 1, an expansion its credit (at most
    0.7), most of a long word's bigrams up to 0.6, the word only in the sentence's context
    (its article's title 0.8; the heading or the sentence before 0.5)."""
    if term in sentence:
        return 1.0
    dimension = _DIMENSION_OF.get(term)
    if dimension is not None and dimension.search(sentence):
        return 1.0
    best = max((c for w, c in expansions if w in sentence), default=0.0)
    if best:
        return best
    if len(term) >= 3:
        grams = [term[i : i + 2] for i in range(len(term) - 1)]
        hit = sum(1 for g in grams if g in sentence) / len(grams)
        if hit >= 0.5:
            return 0.6 * hit
    if term in title:
        return 0.8  # the article is about it: a sentence of the article speaks of it
    if term in context:
        return 0.5
    return 0.0


class ExtractiveAnswerer:
    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self._years: dict[int, str | None] = {}
        self._explicit_year: dict[int, bool] = {}
        self._person: dict[int, bool] = {}

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
        """The year a sentence speaks of: the last year written at or before it in its article
        (去年/今年/明年 counted from the article's date), else the article's date year. News
        text states a year once and then stays in it."""
        if sid not in self._years:
            sentence = self.index.sentences[sid]
            rec = self.index.docs[sentence.doc_id]
            dated = int(rec.doc.date[:4]) if rec.doc.date else None
            current, explicit = (str(dated) if dated else None), False
            for other in rec.sentence_ids:
                text = self.index.sentences[other].text
                found = _YEAR.findall(text)
                if found:
                    current, explicit = found[-1][:4], True
                elif dated and (rel := _RELATIVE_YEAR.search(text)):
                    current, explicit = str(dated + _RELATIVE_OFFSET[rel.group(0)]), True
                self._years[other] = current
                self._explicit_year[other] = explicit
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

    def _context(self, sid: int, heading_of: dict[int, str | None]) -> tuple[str, str]:
        """(title, local context: heading and previous sentence) of a sentence, normalised."""
        sentence = self.index.sentences[sid]
        doc = self.index.doc_meta(sentence.doc_id)
        prev = self.index.sentences.get(sid - 1)
        before = prev.text if prev is not None and prev.doc_id == sentence.doc_id else ""
        return normalize(doc.title), normalize(f"{heading_of.get(sid) or ''} {before}")

    def _names_a_person(self, sid: int) -> bool:
        if sid not in self._person:
            self._person[sid] = any(flag == "nr" for _, flag in pseg.lcut(self.index.sentences[sid].text))
        return self._person[sid]

    def score_sentences(self, question: str, retrieval: Retrieval) -> tuple[list[_Scored], Query, dict[str, float]]:
        index = self.index
        query = retrieval.query
        weights = self.term_weights(query)
        unseen_weight = index.idf("\uffff")  # the IDF of a word that no article has
        total = max(sum(weights.values()), MIN_QUESTION_INFORMATION * unseen_weight)
        wants_quantity = bool(_ASKS_QUANTITY.search(question))
        wants_time = bool(_ASKS_TIME.search(question))
        wants_person = bool(_ASKS_PERSON.search(question))
        wants_plan, wants_done = bool(_ASKS_PLAN.search(question)), bool(_ASKS_DONE.search(question))
        unit_pattern = _unit_pattern(question)
        # Each question word the articles lack entirely, with nothing close in meaning either,
        # lowers the support of every sentence: the question is about something else.
        absent = UNMATCHED_TERM_FACTOR ** min(2, len(query.unmatched))
        passages = retrieval.passages[: self.settings.answer_passages]
        top_passage = max((p.score for p in passages), default=0.0) or 1.0

        near: dict[int, float] = {}
        heading_of: dict[int, str | None] = {}
        for p in passages:
            heading = index.chunks[p.chunk_id].heading if p.chunk_id in index.chunks else None
            for sid in p.sentence_ids:
                near[sid] = max(near.get(sid, 0.0), p.score / top_passage)
                heading_of.setdefault(sid, heading)
        # Sentences that match the question best in meaning compete too, even when their chunk
        # ranked low: a paraphrase often shares no words with the chunk around the answer.
        for sid, _ in sorted(retrieval.sentence_cos.items(), key=lambda t: -t[1])[: self.settings.answer_sentences]:
            near.setdefault(sid, 0.0)
        sids = list(near)
        if not sids:
            return [], query, weights
        cos_all = index.sentence_vectors(sids) @ retrieval.query_vector
        out = []
        for sid, cos in zip(sids, cos_all, strict=True):
            text = index.sentences[sid].text
            norm = normalize(text)
            title, context = self._context(sid, heading_of)
            credit = {t: _match(t, query.expansions.get(t, []), norm, title, context) for t in weights}
            coverage = sum(weights[t] * c for t, c in credit.items()) / total
            factor = 1.0
            if wants_quantity and not _HAS_QUANTITY.search(_DATES.sub("", unicodedata.normalize("NFKC", text))):
                factor *= 0.8
            if wants_time and not _HAS_TIME.search(text):
                factor *= 0.85
            if wants_person and not self._names_a_person(sid):
                factor *= 0.8
            if unit_pattern is not None and not unit_pattern.search(unicodedata.normalize("NFKC", text)):
                factor *= 0.8
            year = self.sentence_year(sid)
            if query.years:
                # A sentence that cannot be placed in time is a weaker answer to a dated question;
                # one placed by a year written in the article, in another year, is no answer.
                explicit = self._explicit_year.get(sid, False)
                factor *= 1.0 if year in query.years else 0.85 if year is None else YEAR_MISMATCH if explicit else 0.85
            if wants_plan != wants_done:
                plan = self.is_plan(sid, year)
                factor *= 0.92 if plan is None else 1.0 if plan == wants_plan else 0.85
            cos = float(cos)
            support = (0.45 * cos + 0.55 * coverage) * factor * absent
            score = (0.40 * cos + 0.50 * coverage + 0.10 * near[sid]) * factor
            matched = frozenset(t for t, c in credit.items() if c >= 0.6)
            covered = frozenset(t for t, c in credit.items() if c >= 0.5)  # incl. via its context
            out.append(_Scored(sid, score, support, cos, coverage, matched, covered))
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
        covered = set(best.covered)
        total = sum(weights.values()) or 1.0
        for cand in scored[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if cand.score < 0.7 * best.score:
                break
            gain = sum(weights[t] for t in cand.matched - covered) / total
            if gain >= MIN_GAIN and cand.support >= self.settings.refusal_threshold:
                chosen.append(cand)
                covered |= cand.matched

        # A question about several years ("2022年…2023年…") needs a sentence for each of them.
        if len(retrieval.query.years) > 1:
            for y in sorted(retrieval.query.years):
                if any(self.sentence_year(c.sid) == y for c in chosen):
                    continue
                cand = next((c for c in scored if self.sentence_year(c.sid) == y), None)
                if (
                    cand
                    and cand.support >= self.settings.refusal_threshold
                    and len(chosen) < self.settings.max_answer_sentences
                ):
                    chosen.append(cand)

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
                    **citation_source(doc, sent.start),
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


def _unit_pattern(question: str) -> re.Pattern[str] | None:
    """A pattern for "a number in the unit the question asks for" ("多少家", "多少面积"), or None."""
    q = unicodedata.normalize("NFKC", question)
    m = _ASKED_UNIT.search(q)
    if m:
        unit = m.group(1)
        if unit == "钱":
            return _DIMENSION_OF["钱"]
        units = {unit, *Thesaurus.measure_synonyms(unit)}
        alternatives = "|".join(sorted((re.escape(u) for u in units), key=len, reverse=True))
        return re.compile(_NUMBER_PREFIX + f"(?:{alternatives})")
    if _ASKS_QUANTITY.search(q):
        for word, pattern in _DIMENSION_OF.items():
            if word in q:
                return pattern
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
