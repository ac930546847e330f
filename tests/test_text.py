"""text.py: the one view of text that indexing and querying share."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dadong_qa.text import (
    CJK,
    CJK_CHAR,
    STOPWORDS,
    WORDISH,
    arabic_years,
    half_width,
    normalize,
    simplified,
    tokenize,
    vocab_words,
    words,
)


def test_normalize_folds_width_script_and_case() -> None:
    assert normalize("ＧＤＰ２０２３年") == "gdp2023年"  # full-width -> half-width, lower case
    assert normalize("臺灣經濟發展") == "台湾经济发展"  # traditional -> simplified
    assert normalize("ＡＢＣ，") == "abc,"


def test_simplified_keeps_every_offset() -> None:
    assert simplified("臺灣鐵路全長約1065公里，ＡＢＣ。") == "台湾铁路全长约1065公里，ＡＢＣ。"  # width is left alone
    assert simplified("大东区2022年") == "大东区2022年"


def test_arabic_years_are_digit_for_digit() -> None:
    assert arabic_years("二〇二二年GDP，一九九七年七月") == "2022年GDP，1997年七月"
    assert arabic_years("二零二三年上半年") == "2023年上半年"
    for kept in ("十二年", "三十二年", "一二三四五年", "去年", "二〇二二"):  # not a year in four digits
        assert arabic_years(kept) == kept


def test_half_width_turns_letters_and_digits_only_offset_for_offset() -> None:
    assert half_width("大东区ＧＤＰ２０２２年，ｘ？") == "大东区GDP2022年，x？"  # Chinese punctuation stays


@given(st.text(max_size=30))
def test_half_width_keeps_the_length(text: str) -> None:
    assert len(half_width(text)) == len(text)


@given(st.text(alphabet="臺灣鐵路長發髮乾隆後面著個们的了a1，。 ", max_size=30))
def test_simplified_has_the_same_length(text: str) -> None:
    assert len(simplified(text)) == len(text)


@given(st.text(max_size=40))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("char", "chinese"),
    [
        ("中", True),  # CJK Unified Ideographs
        ("㐀", True),  # Extension A (U+3400)
        ("䶵", True),  # Extension A, last assigned
        ("豈", True),  # compatibility ideograph (U+F900)
        ("鿿", True),  # U+9FFF, end of the unified block
        ("䷀", False),  # Yijing hexagram (U+4DC0), between Extension A and the unified block
        ("。", False),
        ("Ａ", False),
        ("a", False),
        ("あ", False),
        ("한", False),
    ],
)
def test_cjk_class_is_chinese_characters_only(char: str, chinese: bool) -> None:
    assert bool(CJK_CHAR.fullmatch(char)) is chinese
    assert bool(re.fullmatch(f"[{CJK}]", char)) is chinese


def test_wordish_is_chinese_letters_and_digits() -> None:
    assert all(WORDISH.search(c) for c in "中aZ09㐀")
    assert not any(WORDISH.search(c) for c in "，。、 -_()（）【】\n…")


def test_words_drop_stop_words_and_punctuation() -> None:
    got = words("大东区的地区生产总值是多少？")
    assert "大东区" in got and "生产总值" in got
    assert not set(got) & {"的", "是", "多少", "？", "?"}
    assert all(w not in STOPWORDS and WORDISH.search(w) for w in got)


def test_words_see_normalised_text() -> None:
    assert words("ＧＤＰ增長") == words("gdp增长")


def test_tokenize_adds_character_bigrams_of_chinese_runs() -> None:
    tokens = tokenize("新建公园")
    for bigram in ("新建", "建公", "公园"):
        assert bigram in tokens
    assert "建公" not in words("新建公园")  # bigrams are BM25 tokens only, not words


def test_tokenize_question_and_article_meet_on_bigrams() -> None:
    """A compound segmented differently in question and article still shares tokens."""
    question, article = set(tokenize("中欧班列开行多少列")), set(tokenize("全年开行中欧班列600列"))
    assert {"中欧", "班列"} <= question & article


def test_tokenize_keeps_latin_words_and_numbers_lowercased() -> None:
    tokens = tokenize("GDP达到940亿元")
    assert "gdp" in tokens and "940" in tokens
    assert not any(t.isupper() for t in tokens)


def test_tokenize_of_punctuation_only_is_empty() -> None:
    assert tokenize("，。？！……") == []
    assert tokenize("") == []


def test_vocab_words_are_content_words_of_two_or_more_characters() -> None:
    got = vocab_words("大东区新建了3个口袋公园。")
    assert {"大东区", "公园"} <= got
    assert all(len(w) >= 2 and CJK_CHAR.search(w) and w not in STOPWORDS for w in got)
    assert "3" not in got  # numbers alone are not vocabulary


@pytest.mark.parametrize(
    "text",
    ["這是一個測試", "乾隆皇帝", "一目瞭然", "干燥的天气", "后来他头发白了", "２０２２年ＧＤＰ", "Tom's", "著名學者"],
)
def test_normalize_is_opencc_t2s_whether_or_not_it_is_skipped(text: str):
    import unicodedata

    import opencc

    from dadong_qa.text import _traditional

    expected = opencc.OpenCC("t2s").convert(unicodedata.normalize("NFKC", text)).lower()
    assert normalize(text) == expected
    assert _traditional().isdisjoint("后来他头发白了")  # plain simplified text skips the converter
