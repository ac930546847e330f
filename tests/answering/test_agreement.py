"""Pooling candidates that give one answer (answering/agreement.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dadong_qa.answering.agreement import answer_key, keys, pooled, sentence_key


def test_a_reprinted_sentence_is_the_same_sentence() -> None:
    assert sentence_key("一般公共预算收入112.1亿元，同比增长15.2%；") == sentence_key(
        "一般公共预算收入112.1亿元,同比增长15.2%;"
    )
    assert sentence_key(" 京东MALL 即将开业。") == sentence_key("京东mall即将开业")  # spaces, case, width
    assert sentence_key("一般公共預算收入112.1億元") == sentence_key("一般公共预算收入112.1亿元")  # traditional
    assert sentence_key("新建学校7所。") != sentence_key("新建学校9所。")


def test_an_answer_key_ignores_punctuation_and_none_is_no_key() -> None:
    assert answer_key("“天润吾悦”") == answer_key("天润吾悦")
    assert answer_key(None) is None and answer_key("") is None and answer_key("……") is None


def test_a_candidate_is_keyed_by_its_sentence_and_its_short_answer() -> None:
    assert keys("新建学校7所。", "7所") == ("s:新建学校7所", "a:7所")
    assert keys("新建学校7所。", None) == ("s:新建学校7所",)


def test_copies_of_one_answer_pool_and_others_keep_their_own() -> None:
    probs = [0.45, 0.40, 0.10]
    k = [("s:x", "a:7所"), ("s:y", "a:7所"), ("s:z", "a:9所")]
    assert pooled(probs, k) == pytest.approx([0.85, 0.85, 0.10])


def test_a_candidate_with_no_keys_pools_with_nothing() -> None:
    assert pooled([0.5, 0.3], [(), ("s:x",)]) == pytest.approx([0.5, 0.3])


@given(st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=6))
def test_pooling_never_lowers_a_probability_nor_passes_one(rows: list[tuple[float, str]]) -> None:
    total = sum(p for p, _ in rows) or 1.0
    probs = [p / total for p, _ in rows]  # a shortlist's probabilities add up to at most one
    out = pooled(probs, [(f"a:{k}",) for _, k in rows])
    assert all(o >= p - 1e-12 for o, p in zip(out, probs, strict=True))
    assert all(o <= 1.0 for o in out)


def test_candidates_said_to_go_together_pool_as_one_answer() -> None:
    # the same quantity for two periods, for a question naming none: each answers it
    probs, k = [0.59, 0.38, 0.02], [("s:a",), ("s:b",), ("s:c",)]
    assert pooled(probs, k, lambda i, j: {i, j} == {0, 1}) == pytest.approx([0.97, 0.97, 0.02])
    assert pooled(probs, k, None) == pytest.approx(probs)
