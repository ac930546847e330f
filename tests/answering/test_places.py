"""Which place a question names against which place a sentence speaks of (answering/places.py)."""

from __future__ import annotations

import pytest

from dadong_qa.answering.places import mentioned, named_places, other_place, subject
from dadong_qa.text import normalize

ARTICLE = normalize("大东区经济运行情况\n2022年，沈阳市大东区一般公共预算收入112.1亿元。开行沈阳东-大连港专列。")
TITLE = normalize("大东区经济运行情况")


def _other(question: str, context: str = "一般公共预算收入112.1亿元。", figure: bool = True) -> bool:
    q = normalize(question)
    return other_place(named_places(q), q, normalize(context), TITLE, ARTICLE, figure)


def test_places_are_names_with_an_administrative_suffix() -> None:
    assert named_places("和平区一般公共预算收入是多少？") == ["和平区"]
    assert named_places("大东区城镇新增就业多少人？") == ["大东区"]  # not "大东区城镇"
    assert named_places("台湾哪一行政区的气温最高？") == []  # 行政区 names no place
    assert named_places("规上工业增加值是多少？") == []


def test_a_place_is_mentioned_by_its_name_its_stem_or_the_place_it_ends_with() -> None:
    assert mentioned("大连市", ARTICLE)  # 大连港
    assert mentioned("沈阳大东区", ARTICLE)  # jieba reads 沈阳大东区 as one word
    assert not mentioned("和平区", ARTICLE)
    assert not mentioned("东区", normalize("华东地区"))  # a one-character stem is no name


def test_a_headline_is_about_its_most_specific_place() -> None:
    assert subject("沈阳市大东区：奋力争创国家先进制造示范区") == "大东区"
    assert subject("辽宁省经济简报") == "辽宁省"
    assert subject("东关街") is None


@pytest.mark.parametrize("question", ["和平区一般公共预算收入是多少？", "和平区在哪里？"])
def test_a_place_the_article_never_names_is_another_place(question: str) -> None:
    assert _other(question, figure=question.endswith("多少？"))


def test_a_figure_under_a_headline_about_a_more_specific_place_is_not_the_broader_ones() -> None:
    assert _other("沈阳市一般公共预算收入是多少？")
    assert _other("大连市开行专列多少趟？")  # the article says 大连港, its figures are 大东区's
    assert not _other("沈阳市大东区一般公共预算收入是多少？")
    assert not _other("沈阳市在哪个省？", figure=False)  # not a figure question: the headline decides nothing


def test_the_sentence_or_the_one_before_naming_the_place_answers() -> None:
    assert not _other("沈阳市一般公共预算收入是多少？", context="2022年，沈阳市大东区一般公共预算收入112.1亿元。")
    assert not _other("大东区一般公共预算收入是多少？")
    assert not _other("一般公共预算收入是多少？")  # no place asked
