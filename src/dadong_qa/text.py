"""Text normalisation and tokenisation shared by indexing and querying.

Indexing and querying must see text the same way, so both call these functions. Source text
itself is never changed: normalisation only feeds search, citations stay verbatim.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba
import opencc

jieba.setLogLevel(logging.WARNING)
_T2S = opencc.OpenCC("t2s")

# The one definition of "Chinese character" (a regex class body, for use inside [...]): the CJK
# Unified Ideographs, Extension A and the compatibility ideographs. Every module builds its
# patterns from it, so no module counts a character as Chinese that another does not.
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_RUN = re.compile(f"[{CJK}]+")
# A character that makes a string a word rather than punctuation or space.
WORDISH = re.compile(f"[{CJK}A-Za-z0-9]")

# Function words and question words: they say nothing about which passage answers.
STOPWORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 等 也 都 就 而 把 被 对 从 到 为 以 于 上 下 中 之 其 这 那 个 着 过
    吗 呢 吧 啊 呀 么 嘛 哪 哪些 哪个 哪里 哪儿 什么 怎么 怎样 如何 为何 为什么 多少 几 多 多大 多久
    谁 是否 有没有 有 没有 请问 请 一下 一共 共 总共 分别 各 每 该 此 我 你 他 她 它 我们 你们 他们
    将 会 能 可以 已 已经 还 又 并 及其 以及 有关 关于 情况 方面 一些 这些 那些 一个 之一
    """.split()
)


@lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """Every character at which OpenCC's t2s can change a text: where an entry's key differs from
    (one of) its values, or every character of a key whose value has another length. A text with
    none of them converts to itself, so it need not go through OpenCC's pure-Python matcher, which
    was half of a question's time at 100k chunks (2.6 of 4.8 s over 40 questions)."""
    _T2S.convert("")  # loads the dictionaries
    found: set[str] = set()
    for group in _T2S._dict_chain_data:
        for *_, table in group:  # (longest key, shortest key, entries)
            for key, value in table.items():
                for option in value.split(" "):
                    if len(option) != len(key):
                        found.update(key)
                    else:
                        found.update(k for k, v in zip(key, option, strict=True) if k != v)
    return frozenset(found)


# A year written in Chinese digits ("二〇二二年", "一九九七年"): four of them before 年.
_CN_YEAR = re.compile(r"(?<![〇零一二三四五六七八九十百千万])[〇零一二三四五六七八九]{4}(?=年)")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")


def arabic_years(text: str) -> str:
    """`text` with its years in Chinese digits written in Arabic ones, character for character
    ("二〇二二年" -> "2022年"), so offsets carry over. The reader knows years as digits: a question
    naming one in Chinese digits lost 2.8 of the answer sentence's logit (35 DRCD questions)."""
    return _CN_YEAR.sub(lambda m: m.group().translate(_CN_DIGITS), text) if "年" in text else text


@lru_cache(maxsize=65536)
def simplified(text: str) -> str:
    """`text` in simplified characters, character for character: the result has the same length,
    so an offset in one is an offset in the other (a text whose conversion would change its length
    stays as it is). For a reader trained on simplified text."""
    converted = _t2s(text)
    return converted if len(converted) == len(text) else text


# Full-width digits and Latin letters to ASCII, one character for one ("ＧＤＰ" -> "GDP", "２０２２年" ->
# "2022年"); Chinese punctuation stays as typed.
_HALF_WIDTH = {c: unicodedata.normalize("NFKC", chr(c)) for c in range(0xFF10, 0xFF5B) if chr(c).isalnum()}


def half_width(text: str) -> str:
    """`text` with full-width digits and letters in ASCII, offset for offset."""
    return text.translate(_HALF_WIDTH)


def as_written(text: str) -> str:
    """`text` in the form articles and training questions write it, offset for offset: simplified
    characters, years in Arabic digits. What the question's rules and the reader read."""
    return arabic_years(simplified(text))


@lru_cache(maxsize=65536)  # the same sentences and titles are normalised for many questions
def normalize(text: str) -> str:
    """Search form of `text`: NFKC (full-width -> half-width), simplified, lower case."""
    return _t2s(unicodedata.normalize("NFKC", text)).lower()


def _t2s(text: str) -> str:
    """OpenCC's t2s of `text`. OpenCC converts the pieces between its separators one by one; only
    pieces that hold a character it can change go through it (a whole article otherwise: 2.4 of
    4.3 s at 100k)."""
    if _traditional().isdisjoint(text):
        return text
    pieces = _T2S.split_chars_re.split(text)
    return "".join(p if i % 2 or _traditional().isdisjoint(p) else _T2S.convert(p) for i, p in enumerate(pieces))


@lru_cache(maxsize=4096)
def _cut(text: str) -> tuple[str, ...]:
    return tuple(jieba.lcut_for_search(text))


def words(text: str) -> list[str]:
    """jieba words of normalised `text`, without punctuation and stop words."""
    return [w for w in _cut(normalize(text)) if WORDISH.search(w) and w not in STOPWORDS]


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba words plus CJK character bigrams.

    Bigrams recover matches that word segmentation splits differently in question and
    article (e.g. a compound cut one way in one and another way in the other).
    """
    norm = normalize(text)
    tokens = [w for w in _cut(norm) if WORDISH.search(w) and w not in STOPWORDS]
    for run in _CJK_RUN.findall(norm):
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def vocab_words(text: str) -> set[str]:
    """Content words of two or more characters, for the corpus vocabulary."""
    return {w for w in _cut(normalize(text)) if len(w) >= 2 and _CJK_RUN.search(w) and w not in STOPWORDS}


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first question."""
    jieba.initialize()
