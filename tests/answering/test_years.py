"""Relative years written out for the reader, and spans mapped back to the verbatim sentence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dadong_qa.answering.years import spell_years


def test_relative_years_are_written_from_the_article_year():
    shown = spell_years("湖滨镇去年接待游客120万人次，比前年多，今年、明年还会增加。", 2023)
    assert shown.text == "湖滨镇2022年接待游客120万人次，比2021年多，2023年、2024年还会增加。"


def test_undated_article_is_left_as_written():
    text = "湖滨镇去年接待游客120万人次。"
    assert spell_years(text, None).text == text


def test_span_in_the_shown_text_maps_back():
    text = "湖滨镇去年接待游客120万人次。"
    shown = spell_years(text, 2023)
    i = shown.text.index("120万人次")
    a, b = shown.original(i, i + len("120万人次"))
    assert text[a:b] == "120万人次"
    # A span over (part of) the written-out year covers the relative word it replaced.
    j = shown.text.index("2022")
    assert text[slice(*shown.original(j + 1, j + 3))] == "去年"
    assert text[slice(*shown.original(0, j + 5))] == "湖滨镇去年"


@given(st.text(alphabet="去年今明前湖镇12。", max_size=30), st.integers(1990, 2030))
def test_mapping_covers_the_text_and_keeps_unchanged_characters(text: str, year: int):
    shown = spell_years(text, year)
    assert shown.original(0, len(shown.text)) == (0, len(text))
    for i in range(len(shown.text)):
        a, b = shown.original(i, i + 1)
        assert 0 <= a < b <= len(text)
        if b - a == 1 and text[a] not in "年":
            assert shown.text[i] == text[a]
