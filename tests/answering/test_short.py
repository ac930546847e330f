"""Short answers: span evidence, the shipped model, thresholds and verbatim spans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.short import (
    ShortModel,
    _type_match,
    evidence,
    extract_short,
    features,
    load_model,
    parse_model,
    relative,
    score_spans,
)
from dadong_qa.answering.spans import candidates, read_question
from dadong_qa.config import Settings


def _evidence(question: str, sentence: str, text: str, title: str = ""):
    q = read_question(question)
    span = next(s for s in candidates(q, sentence) if s.text == text)
    return evidence(q, sentence, span, title=title)


def test_type_match_pairs_question_words_with_span_kinds() -> None:
    assert _type_match("number", frozenset({"number"}))
    assert _type_match("date", frozenset({"date", "generic"}))
    assert _type_match("person", frozenset({"person"}))
    assert _type_match("place", frozenset({"place"}))
    assert _type_match("title", frozenset({"title"}))
    assert not _type_match("person", frozenset({"number"}))
    assert not _type_match("other", frozenset({"number"}))


def test_unit_match_when_the_figure_carries_the_asked_measure_word() -> None:
    sentence = "图书馆今年新增自助借还机6台，开设阅读课堂3个。"
    assert _evidence("新增自助借还机多少台？", sentence, "6台").unit_match
    assert not _evidence("新增自助借还机多少台？", sentence, "3个").unit_match


def test_a_span_repeating_the_question_is_marked() -> None:
    sentence = "示例县图书馆自3月起每天开放至晚上9点。"
    ev = _evidence("示例县图书馆每天开放到几点？", sentence, "示例县图书馆")
    assert ev.repeats_question and ev.question_overlap == 1.0
    other = _evidence("示例县图书馆每天开放到几点？", sentence, "9点")
    assert not other.repeats_question


def test_distance_to_the_nearest_question_word() -> None:
    sentence = "苹果节期间，示例县共接待游客12万人次，比去年多两成。"
    near = _evidence("苹果节接待游客多少人次？", sentence, "12万人次")
    far = _evidence("苹果节接待游客多少人次？", sentence, "两成")
    assert near.question_distance == 0 < far.question_distance


def test_wh_position_context_matches_before_and_after_the_span() -> None:
    sentence = "华晨宝马大东工厂位于沈阳市大东区。"
    ev = _evidence("华晨宝马大东工厂位于哪个城市？", sentence, "沈阳市")
    assert ev.left_match >= 2  # "位于" ends both the question's left context and the text before the span
    assert ev.left_word_near
    assert _evidence("哪个城市有华晨宝马大东工厂？", "沈阳市有华晨宝马大东工厂。", "沈阳市").right_match >= 3


def test_head_noun_of_the_question_matches_the_end_of_the_span() -> None:
    sentence = "印度教的最早宗教文本以吠陀梵语撰写。"
    assert _evidence("最早宗教文本以哪一门语言撰写？", sentence, "吠陀梵语").head_match


def test_clause_overlap_and_question_word_windows() -> None:
    sentence = "示例县去年地区生产总值完成125亿元，同比增长6%。"
    question = "示例县去年地区生产总值是多少？"
    total, growth = _evidence(question, sentence, "125亿元"), _evidence(question, sentence, "6%")
    assert total.clause_overlap > growth.clause_overlap == 0.0
    assert total.window_left > growth.window_left


def test_last_character_and_the_function_word_before_the_span() -> None:
    ev = _evidence("工厂在哪个城市？", "华晨宝马工厂位于沈阳市。", "沈阳市")
    assert (ev.last_char, ev.prev_word, ev.prev_pos, ev.next_pos) == ("市", "位于", "v", "x")
    assert _evidence("工厂在哪个城市？", "华晨宝马工厂位于沈阳市。", "华晨宝马工厂").prev_word == ""


def test_length_position_boundaries_and_word_cuts() -> None:
    sentence = "工厂产量超46万辆，占全市八成。"
    ev = _evidence("工厂产量是多少？", sentence, "超46万辆")
    assert ev.chars == 5 and ev.right_boundary and not ev.left_boundary
    assert 0 < ev.position < 0.5 and 0 < ev.coverage < 1
    clause = _evidence("工厂产量是多少？", sentence, "工厂产量超46万辆")
    assert clause.left_boundary and clause.right_boundary and "clause" in clause.kinds


def test_function_characters_and_title_overlap() -> None:
    sentence = "这座灯塔由英国工程师设计。"
    ev = _evidence("灯塔由谁设计？", sentence, "由英国工程师", title="英国灯塔")
    assert ev.starts_function and not ev.ends_function
    assert ev.title_overlap > 0


def test_features_are_named_bounded_and_crossed_with_the_question_type() -> None:
    feats = features(_evidence("工厂产量是多少？", "工厂产量超46万辆，占全市八成。", "46万辆"))
    assert feats["q:number"] == 1.0 and feats["q:number&k:number"] == 1.0 and feats["type_match"] == 1.0
    assert all(0.0 <= v <= 1.0 for v in feats.values())


def test_model_json_round_trips_and_bad_files_are_refused(tmp_path: Path) -> None:
    model = ShortModel({"k:number": 2.0, "chars": -1.0}, -0.5, {"note": "made up"})
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model.to_json()), encoding="utf-8")
    assert load_model(path) == model
    with pytest.raises(ValueError, match="coefficients"):
        parse_model({"features": ["a", "b"], "coefficients": [1.0], "intercept": 0})
    with pytest.raises(ValueError, match="malformed"):
        parse_model({"features": ["a"]})


# A made-up model that only likes figures: its choices follow from the weights alone.
_FIGURES = ShortModel({"k:number": 6.0, "len:1": -3.0}, -3.0, {})
_SENTENCE = "示例县苹果节共接待游客12万人次，比去年多两成。"


def test_threshold_decides_between_an_answer_and_none() -> None:
    best = score_spans("接待游客多少人次？", _SENTENCE, model=_FIGURES)[0]
    assert best.kind == "number"
    assert extract_short("接待游客多少人次？", _SENTENCE, model=_FIGURES, threshold=best.probability) is not None
    assert extract_short("接待游客多少人次？", _SENTENCE, model=_FIGURES, threshold=best.probability + 0.01) is None


def test_default_threshold_comes_from_settings() -> None:
    assert extract_short.__kwdefaults__["threshold"] == Settings().short_answer_threshold


def test_a_figure_keeps_its_qualifier() -> None:
    answer = extract_short("接待游客多少人次？", "苹果节共接待游客超12万人次。", model=_FIGURES, threshold=0.0)
    assert answer is not None and answer.text == "超12万人次"


@pytest.mark.parametrize("question", ["为什么苹果节游客多？", "苹果节办得怎么样？", "请介绍苹果节", "", "   "])
def test_no_short_answer_for_non_factoid_or_empty_questions(question: str) -> None:
    assert extract_short(question, _SENTENCE, threshold=0.0) is None


def test_no_short_answer_from_an_empty_sentence() -> None:
    assert extract_short("接待游客多少人次？", "  ", threshold=0.0) is None


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("示例县去年地区生产总值是多少？", "示例县去年地区生产总值完成125亿元，同比增长6%。", "125亿元"),
        ("示例县图书馆每天开放到几点？", "为方便读者，示例县图书馆自3月起每天开放至晚上9点，周末照常开放。", "9点"),
        ("他写了哪本书？", "他在1990年出版了《城南旧事》一书。", "《城南旧事》"),
    ],
)
def test_shipped_model_finds_the_figure_date_or_title(question: str, sentence: str, expected: str) -> None:
    answer = extract_short(question, sentence, threshold=0.0)
    assert answer is not None and answer.text == expected


def test_full_width_text_is_quoted_as_written() -> None:
    sentence = "示例县去年地区生产总值完成１２５亿元。"
    answer = extract_short("示例县去年地区生产总值是多少？", sentence, threshold=0.0)
    assert answer is not None and answer.text == "１２５亿元" == sentence[answer.start : answer.end]


_CHARS = list("示例县年月亿元万辆约超《》“”，。的是在0123456789%人沈阳市ＡＢ１２")
_TEXT = st.text(alphabet=st.sampled_from(_CHARS), max_size=40)


@settings(max_examples=100, deadline=None)
@given(_TEXT, st.sampled_from(["多少？", "哪一年成立？", "是谁？", "叫什么？", "在哪里？", "有几个？"]))
def test_short_answers_are_always_verbatim_slices(sentence: str, question: str) -> None:
    answer = extract_short(question, sentence, threshold=0.0)
    if answer is not None:
        assert sentence[answer.start : answer.end] == answer.text
        assert 0.0 <= answer.probability <= 1.0


def test_a_figure_the_question_states_is_not_its_answer() -> None:
    # "2022年" stands in both; the question asks for the figure it does not know.
    sentence = "2022年，清水县地区生产总值320亿元，同比增长5%。"
    span = extract_short("清水县2022年地区生产总值是多少？", sentence, title="清水县2022年经济")
    assert span is not None and "2022" not in span.text


def test_wh_position_says_where_the_question_word_stands() -> None:
    sentence = "沈阳市有华晨宝马大东工厂。"
    assert _evidence("哪个城市有华晨宝马大东工厂？", sentence, "沈阳市").wh_position == 0.0
    assert _evidence("华晨宝马大东工厂在哪个城市？", "华晨宝马大东工厂在沈阳市。", "沈阳市").wh_position > 0.5


def test_relative_features_compare_a_span_with_the_sentence_other_candidates() -> None:
    question, sentence = "示例馆是哪一年开放的？", "示例馆1990年动工，1995年开放，2020年翻修。"
    q = read_question(question)
    spans = candidates(q, sentence)
    feats = relative([features(evidence(q, sentence, s)) for s in spans])
    by_text = {s.text: f for s, f in zip(spans, feats, strict=True)}
    assert by_text["1990年"]["first_typed"] == 1.0 and "first_typed" in by_text["1995年"]
    assert by_text["1995年"]["first_typed"] == 0.0
    assert by_text["1995年"]["typed_count"] == by_text["动工"]["typed_count"] >= 0.3
    assert "nearest_typed" not in by_text["动工"]  # only spans of the asked kind compete on nearness
    assert by_text["1995年"]["best_window_both"] in (0.0, 1.0)
    assert relative([]) == []
