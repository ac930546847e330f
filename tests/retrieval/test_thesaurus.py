"""Abbreviations and short forms of statistical quantities, and their one full name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dadong_qa.retrieval.thesaurus import ABBREVIATIONS, SHORT_FORMS, canonical_name, short_forms


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("规上工业增加值", "规模以上工业增加值"),
        ("社零额", "社会消费品零售总额"),
        ("地方财政收入", "地方一般公共预算收入"),
        ("公共预算收入", "一般公共预算收入"),
        ("国内生产总值", "地区生产总值"),
        ("gdp增速", "地区生产总值增速"),
        ("政府性基金预算收入", "政府性基金预算收入"),  # another budget: no short form in it
        ("法规上", "法规上"),
    ],
)
def test_a_name_gets_its_one_full_name(name: str, full: str) -> None:
    assert canonical_name(name) == full


FULL_NAMES = [names[0] for _, names in SHORT_FORMS] + [names[0] for names in ABBREVIATIONS.values()]


@given(st.sampled_from(FULL_NAMES), st.text(alphabet="区县市年的总额增速同比", max_size=4))
def test_a_full_name_is_its_own_and_naming_twice_changes_nothing(full: str, rest: str) -> None:
    assert canonical_name(full + rest).startswith(full)
    assert canonical_name(canonical_name(rest + full)) == canonical_name(rest + full)
    assert short_forms(full) == []


def test_short_forms_are_found_in_order() -> None:
    found = short_forms("清水县社零总额和规上工业增加值")
    assert [(a, b) for a, b, _ in found] == [(3, 7), (8, 10)]
