"""CMRC's character-level exact match and F1."""

from __future__ import annotations

import pytest

from dadong_qa.metrics import em, f1, normalize_answer


def test_normalisation_drops_punctuation_space_and_case():
    assert normalize_answer(" 《红楼梦》, ABC ") == "红楼梦abc"


def test_exact_match_against_any_gold():
    assert em("4分钟", ["四分钟", "4分钟"]) == 1.0
    assert em("4分钟内", ["4分钟"]) == 0.0


def test_f1_is_longest_common_substring_precision_and_recall():
    # prediction 4 chars, gold 2 chars, common 2: precision 0.5, recall 1 -> F1 2/3
    assert f1("踢爆对手", ["踢爆"]) == pytest.approx(2 / 3)
    assert f1("无关", ["踢爆"]) == 0.0
    assert f1("踢爆", ["别的", "踢爆"]) == 1.0
