"""Evidence measured on a few sentences in memory: no index, no encoder."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DIM, MemoryStore, make_store
from dadong_qa.answering.evidence import (
    FEATURES,
    EvidenceGatherer,
    SentenceEvidence,
    feature_matrix,
)
from dadong_qa.retrieval.expand import analyze
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Passage

ARTICLES = {
    "a": (
        "清水县社会事业",
        "2022-11-02",
        ["2021年，清水县新建学校5所。", "2022年，清水县新建学校7所，惠及居民1.2万户。"],
    ),
    "b": ("湖滨镇旅游", "2023-05-01", ["湖滨镇去年接待游客120万人次。", "镇长王建国介绍了民宿发展情况。"]),
}


def gather(question: str, store: MemoryStore) -> dict[int, SentenceEvidence]:
    query = analyze(question)
    passages = [
        Passage(text="", doc_id=d, score=1.0 - 0.1 * n, chunk_id=n, sentence_ids=store.doc_sentence_ids(d), bm25=0.5)
        for n, d in enumerate(store.docs)
    ]
    retrieval = Retrieval(passages, np.ones(DIM) / 2, [], query, {})
    return {e.sid: e for e in EvidenceGatherer(store).gather(retrieval)}


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    return make_store(ARTICLES)


def test_every_candidate_is_measured_with_every_feature(store: MemoryStore):
    ev = gather("2022年清水县新建了多少所学校？", store)
    assert set(ev) == set(store.sentences)
    x = feature_matrix(list(ev.values()))
    assert x.shape == (len(store.sentences), len(FEATURES)) and np.isfinite(x).all()


def test_year_hit_and_conflict(store: MemoryStore):
    ev = gather("2022年清水县新建了多少所学校？", store)
    assert ev[1].year_hit == 1 and ev[1].year_conflict == 0
    assert ev[0].year_conflict == 1  # placed in 2021 by the year its article writes


def test_relative_year_is_counted_from_the_article_date(store: MemoryStore):
    ev = gather("2022年湖滨镇接待游客多少人次？", store)
    assert ev[2].year == "2022" and ev[2].year_hit == 1


def test_answer_type_and_unit(store: MemoryStore):
    ev = gather("清水县新建了多少所学校？", store)
    assert ev[1].type_hit == 1 and ev[1].unit_hit == 1
    assert ev[3].type_miss == 1 and ev[3].unit_miss == 1
    ev = gather("谁介绍了民宿发展情况？", store)
    assert ev[3].type_hit == 1  # 王建国 is a person's name


def test_coverage_and_missing_rare_terms(store: MemoryStore):
    ev = gather("清水县新建了多少所学校？", store)
    assert ev[1].coverage > ev[2].coverage
    assert ev[1].missing_rare == 0
    ev = gather("清水县新建了多少座机场？", store)
    assert ev[1].missing_rare > 0  # 机场 is in no article


def test_slot_fit_needs_the_question_words_around_a_gap(store: MemoryStore):
    ev = gather("2022年，清水县新建学校多少所？", store)
    assert ev[1].slot_left > 0 and ev[1].slot_fit == 1
    assert ev[2].slot_fit == 0


def test_relative_features_compare_with_the_best_candidate(store: MemoryStore):
    ev = gather("清水县新建了多少所学校？", store)
    assert max(e.coverage_gap for e in ev.values()) == 0
    assert sorted(e.cos_rank for e in ev.values())[-1] == 1


def test_a_sentence_naming_no_year_is_flagged_for_a_which_year_question(store: MemoryStore):
    ev = gather("清水县哪一年新建学校7所？", store)
    assert not ev[1].year_missing  # "2022年，…"
    assert ev[3].year_missing  # "镇长王建国介绍了民宿发展情况。"
    assert not ev[2].year_missing  # "去年" is a year (the article's date places it)
    assert not any(e.year_missing for e in gather("清水县新建了多少所学校？", store).values())


def test_a_sentence_stating_no_count_is_flagged_for_a_how_many_question(store: MemoryStore):
    ev = gather("湖滨镇有多少家民宿？", store)
    assert ev[3].count_missing  # "镇长王建国介绍了民宿发展情况。"
    assert not ev[2].count_missing and not ev[0].count_missing  # 120万人次, 5所
    assert not any(e.count_missing for e in gather("清水县哪一年新建学校7所？", store).values())


def test_a_sentence_giving_the_asked_thing_another_ordinal_is_flagged():
    store = make_store(
        {"c": ("超级碗", None, ["野马队赢得第33届超级碗。", "爱国者队赢得第49届超级碗，第33届超级碗由野马队赢得。"])}
    )
    ev = gather("谁赢得了第49届超级碗？", store)
    assert ev[0].ordinal_other and not ev[1].ordinal_other
    assert not any(e.ordinal_other for e in gather("谁赢得了超级碗？", store).values())


def test_a_sentence_about_another_place_is_flagged(store: MemoryStore):
    ev = gather("平安县2022年新建了多少所学校？", store)  # no article names 平安县
    assert ev[1].place_other and ev[0].place_other
    ev = gather("清水县2022年新建了多少所学校？", store)
    assert not ev[0].place_other and not ev[1].place_other
    assert ev[2].place_other and ev[3].place_other  # 湖滨镇's article never names 清水县
