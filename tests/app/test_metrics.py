"""CMRC 2018 exact match and F1."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dadong_qa.app.metrics import em, f1, normalize_answer, tokens


def test_normalize_drops_punctuation_space_and_case() -> None:
    assert normalize_answer(" 《八篇书》。") == "八篇书"
    assert normalize_answer("UDDI 2.0版") == "uddi2.0版"


def test_tokens_split_cjk_by_character_and_keep_latin_and_number_runs() -> None:
    assert tokens("约2,456.5公斤 ebXML") == ["约", "2,456.5", "公", "斤", "ebxml"]
    assert tokens("“梵语”，") == ["梵", "语"]


def test_em_matches_any_gold_after_normalisation() -> None:
    assert em("940亿元", ["九百四十亿元", "940亿元。"]) == 1.0
    assert em("《八篇书》", ["八篇书"]) == 1.0
    assert em("超46万辆", ["46万辆"]) == 0.0


def test_em_and_f1_of_no_answer_are_zero() -> None:
    assert em(None, ["梵语"]) == 0.0
    assert f1(None, ["梵语"]) == 0.0
    assert f1("，。", ["梵语"]) == 0.0
    assert f1("梵语", []) == 0.0


def test_f1_is_precision_recall_of_the_common_span() -> None:
    # "约8公斤" vs "8公斤": 3 of 4 predicted tokens, all 3 gold tokens.
    assert f1("约8公斤", ["8公斤"]) == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert f1("8公斤", ["约8公斤", "8公斤"]) == 1.0  # best gold counts


def test_f1_uses_the_longest_common_substring_not_subsequence() -> None:
    # CMRC's find_lcs is contiguous: 甲乙丙丁 / 甲丙丁 share 丙丁 (2), not 甲丙丁 (3).
    assert f1("甲乙丙丁", ["甲丙丁"]) == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))


_TEXT = st.text(alphabet=st.sampled_from(list("梵语八篇书约公斤，。《》 abc0123.")), max_size=20)


@given(_TEXT, st.lists(_TEXT, min_size=1, max_size=3))
def test_scores_are_between_zero_and_one_and_em_implies_full_f1(pred: str, golds: list[str]) -> None:
    e, f = em(pred, golds), f1(pred, golds)
    assert 0.0 <= f <= 1.0
    assert e in (0.0, 1.0)
    if e == 1.0 and tokens(pred):
        assert f == pytest.approx(1.0)


@given(_TEXT)
def test_a_prediction_equal_to_the_gold_scores_one(text: str) -> None:
    if tokens(text):
        assert em(text, [text]) == 1.0
        assert f1(text, [text]) == pytest.approx(1.0)
