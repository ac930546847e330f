"""Evidence: one record of named measurements per candidate answer sentence.

Nothing here decides anything. `gather` measures how each candidate sentence relates to the
question (meaning, which question words it and its article contain, whether the question's
words stand around a gap the answer could fill, the kind of fact asked for, year and plan,
retrieval scores); `policy.AnswerPolicy` turns a record into the probability that the sentence
answers the question. The records are also the training rows of that policy
(bench/train_answerer.py), so production and training measure the same way.

The answer stage reads only what it is handed: the `Retrieval` and a `SentenceStore` (the
index implements it), so it can be tested on a few sentences in memory.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Protocol

import jieba.posseg as pseg
import numpy as np

from dadong_qa.answering.figures import PLAN_WORDS
from dadong_qa.answering.places import named_places, other_place
from dadong_qa.answering.sourced import FigureReader, PeriodFit
from dadong_qa.answering.spans import Ordinal, has_count, ordinals, other_ordinal
from dadong_qa.answering.wording import CJK_RUN, longest_common_run, longest_edge, match_credit, slot_fit
from dadong_qa.answering.years import RELATIVE_OFFSET, RELATIVE_YEAR
from dadong_qa.retrieval.query import WH_WORD, WRITTEN_YEAR, Query
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Document, Sentence
from dadong_qa.text import normalize

# What a sentence holds: a figure (dates removed first, they are not the asked-for figure), a
# time, a planning word.
_HAS_QUANTITY = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+[个家项所座名次年倍成%]|第[一二三四五六七八九十]")
_HAS_TIME = re.compile(r"\d{1,2}月|\d{1,2}日|\d{3,4}年|年底|年初|上半年|下半年|今年|明年|去年|世纪|朝|代")
_DATES = re.compile(r"\d{4}年|\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}[日号]")
# Any way a sentence may say which year: a number of years (2016年, 民国42年, 正德十三年), 元年, a
# relative year (同年, 次年) or a span of years; a question asking which year has an answer only
# in a sentence with one (the sentence before may hold the year of "同年", so those count too).
ANY_YEAR = re.compile(r"[\d〇零一二三四五六七八九十百千两]+\s*年|元年|[同次翌前去今明当该是此本]年|年间|年代")
_PERSON_TAGS = {"nr", "nrfg", "nrt"}
_PLACE_TAGS = {"ns", "nsf"}
MAX_DOC_SENTENCES = 30  # articles up to this long join the candidates whole
SINGLE_CHAR_WEIGHT = 0.3  # a lone Chinese character carries little meaning on its own


class SentenceStore(Protocol):
    """What answering reads from an index."""

    sentences: Mapping[int, Sentence]

    def doc_meta(self, doc_id: str) -> Document: ...
    def doc_sentence_ids(self, doc_id: str) -> list[int]: ...
    def chunk_heading(self, cid: int) -> str | None: ...
    def sentence_vectors(self, sids: list[int]) -> np.ndarray: ...
    def idf(self, term: str) -> float: ...


@dataclass
class SentenceEvidence:
    """Measurements of one candidate sentence; every float field is a policy feature."""

    sid: int
    # meaning
    cos: float  # cosine of question and sentence vectors
    cos_gap: float  # cos minus the best candidate's cos (0 for the best)
    cos_rank: float  # 1 / (1 + rank by cos among the candidates)
    # question words
    coverage: float  # IDF-weighted share of question terms in the sentence itself
    coverage_ctx: float  # ... or in its context (title, heading, sentence before)
    coverage_gap: float  # coverage_ctx minus the best candidate's
    bigram_overlap: float  # IDF-weighted share of the question's character bigrams in the sentence
    bigram_gap: float
    common_run: float  # longest run of question characters in the sentence / question length
    doc_coverage: float  # IDF-weighted share of question terms anywhere in the article
    missing_rare: float  # rarest question term found nowhere in the article (its IDF / the maximum)
    title_match: float  # IDF-weighted share of question terms in the article's title
    unmatched: float  # question words no article uses, with nothing close in meaning (0, 0.5, 1)
    # where the answer would stand
    slot_left: float  # longest end of the words before the question word found in the sentence / 8
    slot_right: float  # longest start of the words after it found in the sentence / 8
    slot_fit: float  # 1 when both sides (or the one there is) frame a gap the answer can fill
    # kind of fact
    type_hit: float  # the question asks for a figure / time / person / place and the sentence has one
    type_miss: float  # ... and the sentence has none
    unit_hit: float
    unit_miss: float
    year_hit: float  # the question names a year and the sentence is placed in it
    year_unknown: float  # ... the sentence cannot be placed in time
    year_conflict: float  # ... the sentence is placed in another year by a year its article writes
    plan_hit: float  # planned vs done, as asked
    plan_conflict: float
    # retrieval
    passage_score: float  # fused score of its best passage / the top passage's
    passage_rank: float  # 1 / (1 + rank of its best passage); 0 when found another way
    top_doc: float  # 1 when it belongs to the article of the top passage
    doc_rank: float  # 1 / (1 + rank of its article among the top passages' articles); 0 if none
    first_sentence: float  # 1 for an article's first sentence (encyclopedia text defines there)
    bm25: float  # its best passage's BM25, relative to the query's best
    # shape
    length: float  # log of the sentence length in characters
    novelty: float  # share of the sentence's characters the question does not have
    n_terms: float  # log(1 + question content terms)
    question_length: float  # log(1 + characters of the question)
    asks_reason: float  # why / how questions: their answers seldom fit in one sentence
    asks_list: float  # which-ones questions
    # The support score of the hand-tuned answerer this policy replaced (meaning and coverage,
    # times its factors for kind, unit, year, plan and unknown words), tuned on news questions:
    # the encyclopedia training data teaches little about news paraphrases, years and plans.
    support: float = 0.0
    # not features: what the answer is built from
    matched: frozenset[str] = field(default=frozenset(), compare=False)  # terms the sentence has
    covered: frozenset[str] = field(default=frozenset(), compare=False)  # ... or its context has
    year: str | None = field(default=None, compare=False)
    # How its figures fit the year a figure question asks about (sourced.PeriodFit); the policy
    # applies it as a rule, as the training questions seldom ask about a period.
    period_fit: PeriodFit = field(default="none", compare=False)
    # Whether it speaks of another place than the question names (places.py); a rule, as above.
    place_other: bool = field(default=False, compare=False)
    # Whether it names no year at all while the question asks which year; a rule, as above.
    year_missing: bool = field(default=False, compare=False)
    # Whether it states no count or amount while the question asks how many; a rule, as above.
    count_missing: bool = field(default=False, compare=False)
    # Whether it gives a thing the question names by its ordinal another one (第33届 for 第49届).
    ordinal_other: bool = field(default=False, compare=False)


# Every float field but the id; the fields kept out of comparisons (what the answer is built from,
# what the rules read) are no features either.
FEATURES: tuple[str, ...] = tuple(f.name for f in fields(SentenceEvidence) if f.compare and f.name != "sid")


def feature_matrix(records: list[SentenceEvidence]) -> np.ndarray:
    return np.array([[getattr(r, name) for name in FEATURES] for r in records], dtype=np.float64).reshape(
        len(records), len(FEATURES)
    )


class Timeline:
    """The year each sentence speaks of, and whether it is a plan; cached per index version."""

    def __init__(self, store: SentenceStore) -> None:
        self.store = store
        self._years: dict[int, tuple[str | None, bool]] = {}

    def year(self, sid: int) -> tuple[str | None, bool]:
        """(year, placed by a year written in its paragraph) of a sentence: the last year written at or
        before it in its article (去年/今年/明年 counted from the article's date), else the
        article's date year. News text states a year once and then stays in it."""
        if sid not in self._years:
            sentence = self.store.sentences[sid]
            doc = self.store.doc_meta(sentence.doc_id)
            dated = int(doc.date[:4]) if doc.date else None
            current, explicit = (str(dated) if dated else None), False
            end = 0
            for other in self.store.doc_sentence_ids(sentence.doc_id):
                s = self.store.sentences[other]
                if "\n" in doc.text[end : s.start]:
                    # A year written in an earlier paragraph still places the sentence, but only
                    # weakly: a new paragraph often turns to another time without naming it.
                    explicit = False
                end = s.end
                found = WRITTEN_YEAR.findall(s.text)
                if found:
                    current, explicit = found[-1], True
                elif dated and (rel := RELATIVE_YEAR.search(s.text)):
                    current, explicit = str(dated + RELATIVE_OFFSET[rel.group(0)]), True
                self._years[other] = (current, explicit)
        return self._years.get(sid, (None, False))

    def is_plan(self, sid: int, year: str | None) -> bool | None:
        """True for a plan or target, False for a reported fact, None when it cannot be told."""
        sentence = self.store.sentences[sid]
        if PLAN_WORDS.search(sentence.text):
            return True
        date = self.store.doc_meta(sentence.doc_id).date
        if year and date:
            return year > date[:4]
        return None


@dataclass
class _Pool:
    """The candidate sentences of one question (never shared between questions)."""

    near: dict[int, float] = field(default_factory=dict)  # best passage score / top passage score
    rank_of: dict[int, int] = field(default_factory=dict)
    heading_of: dict[int, str | None] = field(default_factory=dict)
    bm25: dict[int, float] = field(default_factory=dict)
    top_doc: str | None = None
    docs: list[str] = field(default_factory=list)  # articles of the top passages, best first


@dataclass(frozen=True)
class _Asked:
    """What every candidate of one question is measured against."""

    query: Query
    weights: dict[str, float]  # IDF weight per question term
    total: float
    bigrams: dict[str, float]
    text: str  # the question's content characters
    places: list[str]  # the administrative places it names (places.py)
    ordinals: frozenset[Ordinal]  # the ordinals of things it names ("第49届超级碗", spans.py)


class EvidenceGatherer:
    """Measures candidate sentences of one index version; caches what does not depend on the question."""

    def __init__(
        self, store: SentenceStore, answer_passages: int = 8, answer_sentences: int = 10, answer_docs: int = 2
    ) -> None:
        self.store = store
        self.answer_passages = answer_passages
        self.answer_sentences = answer_sentences
        self.answer_docs = answer_docs
        self.timeline = Timeline(store)
        self.figures = FigureReader(store)
        self._flags: dict[int, frozenset[str]] = {}
        self._doc_text: dict[str, str] = {}

    def gather(self, retrieval: Retrieval) -> list[SentenceEvidence]:
        """Evidence for the sentences of the top passages and those nearest the question in meaning."""
        pool = self._candidates(retrieval)
        if not pool.near:
            return []
        sids = list(pool.near)
        cos_all = [float(c) for c in self.store.sentence_vectors(sids) @ retrieval.query_vector]
        asked = self._asked(retrieval.query)
        out = [self._measure(asked, pool, sid, cos) for sid, cos in zip(sids, cos_all, strict=True)]
        _relative(out)
        for r in out:  # the old score reads the finished record
            r.support = legacy_support(r)
        return out

    def _asked(self, query: Query) -> _Asked:
        weights = self.term_weights(query)
        total = sum(weights.values()) or 1.0
        return _Asked(
            query,
            weights,
            total,
            self._bigram_weights(query),
            _content(query),
            named_places(query.text),
            ordinals(query.text),
        )

    def _measure(self, asked: _Asked, pool: _Pool, sid: int, cos: float) -> SentenceEvidence:
        """The record of one candidate sentence."""
        query = asked.query
        sentence = self.store.sentences[sid]
        norm = normalize(sentence.text)
        credit, own = self._credits(asked, pool, sid, norm)
        year, explicit = self.timeline.year(sid)
        n_left = longest_edge(query.slot_left, norm, from_end=True)
        n_right = longest_edge(query.slot_right, norm, from_end=False)
        return SentenceEvidence(
            sid=sid,
            cos=cos,
            cos_gap=0.0,
            cos_rank=0.0,
            **self._words(asked, sentence.doc_id, norm, credit, own),
            slot_left=min(n_left, 8) / 8,
            slot_right=min(n_right, 8) / 8,
            slot_fit=slot_fit(query.slot_left, query.slot_right, norm, n_left, n_right),
            **self._kind(query, sid, sentence.text),
            **_years(query, year, explicit),
            **self._plan(query, sid, year),
            **self._retrieval_fields(pool, sid, sentence.doc_id),
            length=math.log(1 + len(norm)),
            novelty=sum(1 for ch in norm if ch not in asked.text) / max(1, len(norm)),
            n_terms=math.log(1 + len(asked.weights)),
            question_length=math.log(1 + len(query.text)),
            asks_reason=float(query.asks_reason),
            asks_list=float(query.asks_list),
            matched=frozenset(t for t, c in credit.items() if c >= 0.6),
            covered=frozenset(t for t, c in credit.items() if c >= 0.5),
            year=year,
            place_other=self._other_place(asked, sid),
            year_missing=query.asks_year and not ANY_YEAR.search(sentence.text),
            count_missing=query.asks_count and not has_count(sentence.text),
            ordinal_other=other_ordinal(asked.ordinals, sentence.text),
        )

    def _other_place(self, asked: _Asked, sid: int) -> bool:
        """Whether the sentence speaks of another place than the question names (places.py)."""
        if not asked.places:
            return False
        sentence = self.store.sentences[sid]
        title = normalize(self.store.doc_meta(sentence.doc_id).title)
        figure = asked.query.answer_type == "quantity"
        return other_place(
            asked.places,
            normalize(asked.query.text),
            normalize(self._before(sid) + sentence.text),
            title,
            self._doc(sentence.doc_id),
            figure,
        )

    def _before(self, sid: int) -> str:
        """The sentence before `sid` in its article ("" for the first)."""
        prev = self.store.sentences.get(sid - 1)
        return prev.text if prev is not None and prev.doc_id == self.store.sentences[sid].doc_id else ""

    def _credits(self, asked: _Asked, pool: _Pool, sid: int, norm: str) -> tuple[dict[str, float], dict[str, float]]:
        """Each question term's credit in the sentence with its context, and in the sentence alone."""
        sentence = self.store.sentences[sid]
        title = normalize(self.store.doc_meta(sentence.doc_id).title)
        context = normalize(f"{pool.heading_of.get(sid) or ''} {self._before(sid)}")
        expansions = asked.query.expansions
        own = {t: match_credit(t, expansions.get(t, []), norm, "", "") for t in asked.weights}
        credit = {t: match_credit(t, expansions.get(t, []), norm, title, context) for t in asked.weights}
        return credit, own

    def _words(
        self, asked: _Asked, doc_id: str, norm: str, credit: dict[str, float], own: dict[str, float]
    ) -> dict[str, float]:
        """The question-word fields: which of its words the sentence, its context and article have."""
        weights, total = asked.weights, asked.total
        doc_text = self._doc(doc_id)
        title = normalize(self.store.doc_meta(doc_id).title)
        missing = [t for t in weights if credit[t] == 0 and t not in doc_text]
        return {
            "coverage": sum(weights[t] * c for t, c in own.items()) / total,
            "coverage_ctx": sum(weights[t] * c for t, c in credit.items()) / total,
            "coverage_gap": 0.0,
            "bigram_overlap": _share(asked.bigrams, norm),
            "bigram_gap": 0.0,
            "common_run": longest_common_run(asked.text, norm) / max(1, len(asked.text)),
            "doc_coverage": sum(w for t, w in weights.items() if credit[t] > 0 or t in doc_text) / total,
            "missing_rare": max((self._rarity(t) for t in missing), default=0.0),
            "title_match": sum(w for t, w in weights.items() if t in title) / total,
            "unmatched": min(2, len(asked.query.unmatched)) / 2,
        }

    def _retrieval_fields(self, pool: _Pool, sid: int, doc_id: str) -> dict[str, float]:
        p_rank = pool.rank_of.get(sid)
        return {
            "passage_score": pool.near[sid],
            "passage_rank": 1.0 / (1 + p_rank) if p_rank is not None else 0.0,
            "top_doc": float(doc_id == pool.top_doc),
            "doc_rank": 1.0 / (1 + pool.docs.index(doc_id)) if doc_id in pool.docs else 0.0,
            "first_sentence": float(self.store.doc_sentence_ids(doc_id)[:1] == [sid]),
            "bm25": pool.bm25.get(sid, 0.0),
        }

    # ---------------------------------------------------------------- parts

    def _candidates(self, retrieval: Retrieval) -> _Pool:
        """Candidate sentences with their best passage's relative score, rank, heading and BM25."""
        passages = retrieval.passages[: self.answer_passages]
        top = max((p.score for p in passages), default=0.0) or 1.0
        pool = _Pool()
        near = pool.near
        for rank, p in enumerate(passages):
            heading = self.store.chunk_heading(p.chunk_id)
            for sid in p.sentence_ids:
                near[sid] = max(near.get(sid, 0.0), p.score / top)
                pool.rank_of.setdefault(sid, rank)
                pool.heading_of.setdefault(sid, heading)
                pool.bm25[sid] = max(pool.bm25.get(sid, 0.0), p.bm25)
        # Sentences nearest the question in meaning compete too, even when their chunk ranked
        # low: a paraphrase often shares no words with the chunk around the answer.
        nearest = sorted(retrieval.sentence_cos.items(), key=lambda t: -t[1])[: self.answer_sentences]
        for sid, _ in nearest:
            if sid in self.store.sentences:
                near.setdefault(sid, 0.0)
        # So do the other sentences of the top articles when they are short: an answer often
        # names its subject by a pronoun or "本鱼" and shares no words with the question (CMRC
        # trial: 17 of 45 wrong answers had no gold sentence among the candidates). In a long
        # news article the other sentences are about other things: dev accuracy fell 0.84 -> 0.82.
        pool.docs = list(dict.fromkeys(p.doc_id for p in passages))
        pool.top_doc = pool.docs[0] if pool.docs else None
        for doc_id in pool.docs[: self.answer_docs]:
            sids = self.store.doc_sentence_ids(doc_id)
            if len(sids) <= MAX_DOC_SENTENCES:
                for sid in sids:
                    near.setdefault(sid, 0.0)
        return pool

    def term_weights(self, query: Query) -> dict[str, float]:
        """IDF weight per question term: rare words say most about what is asked; a word
        missing from every article weighs most."""
        weights = {}
        for t in query.terms:
            w = self.store.idf(t)
            weights[t] = w * SINGLE_CHAR_WEIGHT if len(t) == 1 and not t.isascii() else w
        return weights

    def _bigram_weights(self, query: Query) -> dict[str, float]:
        runs = CJK_RUN.findall(WH_WORD.sub(" ", normalize(query.text)))
        grams = {r[i : i + 2] for r in runs if not r.isascii() for i in range(len(r) - 1)}
        return {g: self.store.idf(g) for g in grams}

    def _rarity(self, term: str) -> float:
        return self.store.idf(term) / max(1e-9, self.store.idf("\uffff"))  # the IDF of a word no article has

    def _doc(self, doc_id: str) -> str:
        if doc_id not in self._doc_text:
            doc = self.store.doc_meta(doc_id)
            self._doc_text[doc_id] = normalize(f"{doc.title}\n{doc.text}")
        return self._doc_text[doc_id]

    def _pos(self, sid: int) -> frozenset[str]:
        if sid not in self._flags:
            self._flags[sid] = frozenset(flag for _, flag in pseg.lcut(self.store.sentences[sid].text))
        return self._flags[sid]

    def _kind(self, query: Query, sid: int, text: str) -> dict[str, float]:
        """Whether the sentence holds the kind of fact, and the unit, the question asks for."""
        plain = unicodedata.normalize("NFKC", text)
        has = None
        if query.answer_type == "quantity":
            has = bool(_HAS_QUANTITY.search(_DATES.sub("", plain)))
        elif query.answer_type == "time":
            has = bool(_HAS_TIME.search(plain))
        elif query.answer_type == "person":
            has = bool(self._pos(sid) & _PERSON_TAGS)
        elif query.answer_type == "place":
            has = bool(self._pos(sid) & _PLACE_TAGS)
        unit = None if query.unit is None else bool(query.unit.search(plain))
        return {
            "type_hit": float(has is True),
            "type_miss": float(has is False),
            "unit_hit": float(unit is True),
            "unit_miss": float(unit is False),
        }

    def _plan(self, query: Query, sid: int, year: str | None) -> dict[str, float]:
        if query.wants_plan == query.wants_done:
            return {"plan_hit": 0.0, "plan_conflict": 0.0}
        plan = self.timeline.is_plan(sid, year)
        return {
            "plan_hit": float(plan is not None and plan == query.wants_plan),
            "plan_conflict": float(plan is not None and plan != query.wants_plan),
        }


def _years(query: Query, year: str | None, explicit: bool) -> dict[str, float]:
    if not query.years:
        return {"year_hit": 0.0, "year_unknown": 0.0, "year_conflict": 0.0}
    return {
        "year_hit": float(year in query.years),
        "year_unknown": float(year is None or (year not in query.years and not explicit)),
        "year_conflict": float(year is not None and year not in query.years and explicit),
    }


def _content(query: Query) -> str:
    """The question's characters without its question word and punctuation."""
    return "".join(CJK_RUN.findall(WH_WORD.sub(" ", normalize(query.text))))


def _share(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    return sum(w for g, w in weights.items() if g in text) / total if total else 0.0


def legacy_support(e: SentenceEvidence) -> float:
    """The replaced answerer's support score (meaning and coverage times its factors)."""
    factor = 0.8 ** (e.type_miss + e.unit_miss) * 0.35**e.year_conflict * 0.85**e.year_unknown
    factor *= 0.85**e.plan_conflict * 0.7 ** round(2 * e.unmatched)
    return (0.45 * e.cos + 0.55 * e.coverage_ctx) * factor


def _relative(records: list[SentenceEvidence]) -> None:
    """Fill the features that compare a candidate with the others of the same question."""
    if not records:
        return
    best_cos = max(r.cos for r in records)
    best_cov = max(r.coverage_ctx for r in records)
    best_bigram = max(r.bigram_overlap for r in records)
    order = sorted(range(len(records)), key=lambda i: -records[i].cos)
    for rank, i in enumerate(order):
        r = records[i]
        r.cos_gap = r.cos - best_cos
        r.cos_rank = 1.0 / (1 + rank)
        r.coverage_gap = r.coverage_ctx - best_cov
        r.bigram_gap = r.bigram_overlap - best_bigram
