"""The place a question names against the place a sentence speaks of.

News about one district gives that district's figures without naming it in every sentence
("一般公共预算收入112.1亿元，同比增长15.2%；" under a headline about 大东区). Neither the answer
policy nor the reader, trained on encyclopedia paragraphs whose questions name their own article's
subject, tell a question about another place from one about this one: on the seed articles,
"和平区一般公共预算收入是多少？" was answered with 大东区's 112.1亿元 at p 0.97, and 6 of 8 such
questions (other districts, the city, the province) got 大东区's figures. A sentence speaks of
another place than the question's, and is ruled out (policy.ruled_out), when neither it nor the
sentence before it names a place the question names, and
- the article never names that place (nor its name without the suffix, "大连" for 大连市), or
- for a figure question, the article's headline is about a more specific place the question does
  not name (沈阳市 asked, the headline's 大东区 answers: a district's figure is not the city's).
Of the 15,827 questions of CMRC 2018 train + trial, DRCD and XQuAD, 433 name a place; the rule
rules out none of their gold sentences (in their own article, with its title), once generic words
(行政区, 大洋区, 郊区) are not read as places.
"""

from __future__ import annotations

from functools import lru_cache

from dadong_qa.answering.figures import place_names
from dadong_qa.text import normalize

# Administrative levels by suffix, broadest first: the headline's most specific place is its subject.
LEVEL = {"省": 1, "市": 2, "州": 2, "盟": 2, "区": 3, "县": 3, "旗": 3, "镇": 4, "乡": 4}


def named_places(text: str) -> list[str]:
    """The administrative places `text` names, in search form."""
    return [name for _, name in place_names(normalize(text))]


def mentioned(place: str, text: str) -> bool:
    """Whether `text` (search form) names `place` at all: itself, its name without the suffix
    ("大连" for 大连市, which a text may write alone; a one-character stem is no name), or the
    place it ends with ("大东区" of "沈阳大东区", which jieba reads as one word)."""
    if place in text or (len(place) >= 3 and place[:-1] in text):
        return True
    return any(place[i:] in text for i in range(1, len(place) - 2))


@lru_cache(maxsize=4096)  # one headline serves every candidate sentence of its article
def subject(title: str) -> str | None:
    """The most specific place a headline names ("沈阳市大东区：…" -> 大东区), or None."""
    places = named_places(title)
    return max(places, key=lambda p: LEVEL.get(p[-1], 0)) if places else None


def other_place(asked: list[str], question: str, context: str, title: str, article: str, figure_question: bool) -> bool:
    """Whether the sentence (with the sentence before it, `context`) speaks of another place than
    the `asked` places (`named_places(question)`) the question names; texts in search form
    (`normalize`), `article` with its title."""
    if not asked or any(p in context for p in asked):
        return False
    if any(not mentioned(p, article) for p in asked):
        return True
    main = subject(title) if figure_question else None
    return main is not None and not mentioned(main, question)
