"""ingestion/header.py: titles without site names, dates before a search result's text."""

from __future__ import annotations

import pytest

from dadong_qa.ingestion.header import clean_title, dated_lead


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("硫_百度百科", ("硫", "百度百科")),
        ("故宫 - 维基百科，自由的百科全书", ("故宫", "维基百科，自由的百科全书")),
        ("怎么学编程？ - 知乎", ("怎么学编程？", "知乎")),
        ("知乎", ("知乎", None)),  # a site name alone is the title
        ("大东区-新闻", ("大东区-新闻", None)),  # "新闻" alone is no site name
        ("沙特雷-大堂站", ("沙特雷-大堂站", None)),  # a short title keeps a news-site-like ending
    ],
)
def test_clean_title_strips_search_result_sites(title: str, expected: tuple[str, str | None]):
    assert clean_title(title) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019年3月5日 - ...旧称紫禁城", ("2019-03-05", len("2019年3月5日 - "))),
        ("2020-05-01 — 香港人口七百万", ("2020-05-01", len("2020-05-01 — "))),
        ("1945年8月15日—9月2日，日本投降", None),  # a range is text
        ("2019年3月5日，大会开幕", None),  # a date in a sentence is not a result's date
        ("大会于2019年3月5日 - 开幕", None),
    ],
)
def test_dated_lead(text: str, expected: tuple[str, int] | None):
    assert dated_lead(text) == expected
