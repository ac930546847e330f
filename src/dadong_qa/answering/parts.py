"""Split a multi-part question into standalone sub-questions.

"大东区2022年地区生产总值和一般公共预算收入分别是多少？" asks two things; answered as one
question, the sentence that covers one part wins and the other part is dropped without a word.
Each part keeps the shared context (place, year, "是多少"), so it can be retrieved and
answered on its own:

- "A和B分别是多少" / "A、B各是多少"            -> "A是多少", "B是多少"
- "2022年和2023年的X分别是多少" / "…X是多少"   -> "2022年的X是多少", "2023年的X是多少"
- "大东区2022年A和B是多少" (two quantities)  -> "大东区2022年A是多少", "大东区2022年B是多少"
- "A是多少，B呢" / "X2022年是多少，2023年呢"   -> "A是多少", "B是多少" / "X2023年是多少"
- "A是多少？B有几个？"                       -> each question, the second with the first's place/year

A question that merely contains 和 ("中国和美国的关系是什么", "A和B一共有多少") stays whole:
without 分别/各 it is split only when it names two years, or asks a quantity of two things
with no comparing or totalling word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jieba

from dadong_qa.answering.figures import place_names
from dadong_qa.answering.periods import TIME
from dadong_qa.answering.spans import COUNTING
from dadong_qa.retrieval.rewrite import rewrite

_RESPECTIVELY = re.compile(r"分别|各自|各(?=是|为|有|多少|几|达|占|在|增长|下降|增加|减少|需要|要)")
_CONJUNCTIONS = frozenset({"和", "与", "及", "以及", "、", "跟", "同", "还有"})
# Where the asking starts ("是多少", "增长了多少", "有几个", "是什么").
_PREDICATE = re.compile(
    r"(?:分别|各自|各)?(?:是|为|有|达到|达|约为|共有|增长了?|下降了?|增加了?|减少了?|占|在|排名|排)?"
    r"(?:多少|几|什么|哪|多大|多高|多长|多远|怎样|如何|怎么|第几)"
)
# A piece that ends with its asking: the question word and a unit or noun after it ("多少公顷", "多少个老旧小区").
_ASK_AT_END = re.compile(
    r"(?:多少|几(?![十百千万])|什么|哪[个些里儿一]?|多大|多高|多长|多远|怎样|如何|怎么样?|第几)[^，,；;？?]{0,6}$"
)
_ASKS_QUANTITY = re.compile(r"多少|几|多大|多高|多长|多远|第几|增速|增幅")
# Words that make "A和B" one question: a comparison, a relation, a total.
_ONE_QUESTION = re.compile(
    r"相比|比较|对比|之间|关系|区别|差距|差别|差异|相差|哪个|哪一个|哪家|哪项|更|谁|总和|之和|合计|一共|总共|共计|"
    r"加起来|合起来|合作|联系|共同|一起|同时|相同|不同|异同|(?<![同环占])比(?![例重率])"
)
_FOLLOW_UP = re.compile(
    r"^(?P<a>.+?)[，,；;。？?！!]\s*(?:那么?|还有|以及|另外)?(?P<b>[^，,；;。？?！!]+?)呢\s*(?P<end>[？?]?)\s*$"
)
_QUOTED = re.compile(r"《[^》]*》|“[^”]*”|「[^」]*」|\"[^\"]*\"")
# "多少座" at the end of a question, and "多少座口袋公园" (a measure word, if any, then the noun counted).
_COUNT_AT_END = re.compile(rf"(?:多少|几)(?P<unit>{COUNTING})?$")
_COUNTED = re.compile(rf"(?:多少|几)(?P<unit>{COUNTING})?(?P<noun>[\u4e00-\u9fff]{{2,8}})$")
_ENDS = "？?。！!，,；; \u3000"


@dataclass(frozen=True)
class _Item:
    kind: str  # "time" | "place"
    text: str


def split_question(question: str) -> list[str]:
    """Standalone sub-questions of `question`; `[question]` when it asks one thing."""
    parts = _split(question.strip())
    parts = [p for p in parts if p.strip(_ENDS)]
    return parts if len(parts) > 1 else [question]


def _split(q: str) -> list[str]:
    if not q:
        return [q]
    if (parts := _split_questions(q)) is not None:
        return parts
    if (parts := _split_follow_up(q)) is not None:
        return parts
    return _split_list(q) or [q]


def _split_questions(q: str) -> list[str] | None:
    """ "A是多少？B有几个？", "A改造了多少个，B多少公顷？": several questions, each asking something.
    A later one that leans on the first ("增长了多少？") is made standalone as a follow-up would be."""
    pieces = [p for p in re.split(r"(?<=[？?])", q) if p.strip(_ENDS)]
    between_commas = len(pieces) < 2
    if between_commas:
        pieces = [p.rstrip(_ENDS) + "？" for p in re.split(r"(?<=[，,；;])", q) if p.strip(_ENDS)]
    if len(pieces) < 2 or not all(_PREDICATE.search(p) for p in pieces):
        return None
    # Between commas only when each piece ends with its asking and each later one is a follow-up
    # of the first ("…改造了多少个，新增绿地多少公顷？"): of the 15,827 public questions none splits so
    # ("在…几百年中，…哪一个国家?", "…有多少集，多少碟片？" stay whole).
    if between_commas and not all(_ASK_AT_END.search(p.rstrip(_ENDS)) for p in pieces):
        return None
    first = pieces[0].strip()
    later = [rewrite(p.strip(), first) for p in pieces[1:]]
    if between_commas and not all(later):
        return None
    first_items, _ = _leading_items(first)
    out: list[str] = []
    for n, (piece, standalone) in enumerate(zip(pieces, [None, *later], strict=True)):
        piece = piece.strip()
        if standalone is None:
            own, _ = _leading_items(piece)
            kinds = {it.kind for it in own} | {it.kind for it in _items_anywhere(piece)}
            standalone = "".join(it.text for it in first_items if it.kind not in kinds) + piece
        out.extend(_split(_with_counted_noun(standalone, first) if n else standalone))
    return out


def _with_counted_noun(later: str, first: str) -> str:
    """A later question that stops at its count ("…，2023年又计划建设多少座？") counts what the
    first one did, with the same measure word ("…新建了多少座口袋公园"): that noun is added, or
    the part is asked about nothing ("大东区2023年又计划建设多少座" found no answer)."""
    ends = _COUNT_AT_END.search(later.rstrip(_ENDS))
    counted = _COUNTED.search(first.rstrip(_ENDS))
    if ends is None or counted is None or ends.group("unit") != counted.group("unit"):
        return later
    whole = later.rstrip(_ENDS) + counted.group("noun") + "？"
    return later if whole.rstrip(_ENDS) == first.rstrip(_ENDS) else whole


def _split_follow_up(q: str) -> list[str] | None:
    """ "A是多少，B呢？": B asked the way A is."""
    m = _FOLLOW_UP.match(q)
    if not m or not _PREDICATE.search(m.group("a")):
        return None
    first, other = m.group("a").strip(), m.group("b").strip()
    end = m.group("end") or "？"
    items, rest = _leading_items(other)
    if items and not rest:
        second = _replace_items(first, items)  # "…2022年…，2023年呢": the same question for 2023
    else:
        context, _ = _leading_items(first)
        predicate = _PREDICATE.search(first)
        assert predicate is not None
        kinds = {it.kind for it in items}
        shared = "".join(it.text for it in context if it.kind not in kinds)
        second = shared + other + first[predicate.start() :].rstrip(_ENDS)
    first_parts = _split(first + end)
    return [*first_parts, *_split(second + end)]


def _split_list(q: str) -> list[str] | None:
    """ "A和B分别是多少", "2022年和2023年的X是多少", "大东区A和B是多少"."""
    found = _subject_and_predicate(q)
    if found is None:
        return None
    subject, predicate, respectively = found
    elements = _list_elements(subject)
    if len(elements) < 2:
        return None
    first_items, first_rest = _leading_items(elements[0])
    if not first_rest:  # a list of years or places, sharing what follows the last one
        return _split_context_list(elements, predicate)
    if not respectively and not _ASKS_QUANTITY.search(predicate) and not _names_two_years(elements):
        return None  # "A和B是什么": two things asked without 分别 only for a figure
    head, owner = _shared_head(elements), _shared_owner(elements)
    headed = [e + head for e in elements[:-1]] + elements[-1:]
    return [_element_question(i, e, elements[0], first_items, owner, predicate) for i, e in enumerate(headed)]


def _subject_and_predicate(q: str) -> tuple[str, str, bool] | None:
    """(what is listed, what is asked of each, whether 分别/各 says so), or None for one question."""
    signal = _RESPECTIVELY.search(q)
    if signal:
        return q[: signal.start()], q[signal.end() :], True
    m = _PREDICATE.search(q)
    if not m or _ONE_QUESTION.search(q):
        return None
    return q[: m.start()], q[m.start() :], False


def _element_question(i: int, element: str, first: str, first_items: list[_Item], owner: str, predicate: str) -> str:
    """The standalone question for the i-th listed element."""
    items, rest = _leading_items(element)
    if i and items and not rest:  # "X在2022年和2023年": replace the year inside the first
        return _replace_items(first, items) + predicate
    if i and owner and not items:  # "某公司的员工人数、营业收入": 某公司的营业收入
        return owner + element + predicate
    kinds = {it.kind for it in items}
    shared = "" if i == 0 else "".join(it.text for it in first_items if it.kind not in kinds)
    # "…可容纳多少位顾客和人均消费分别是多少": the first element asks already; no "是多少" after it
    return shared + element + ("？" if _ASKS_QUANTITY.search(element) else predicate)


def _split_context_list(elements: list[str], predicate: str) -> list[str] | None:
    """ "大东区2022年和2023年的X": the list is of years (or places); the shared noun follows the last."""
    last_items, tail = _leading_items(elements[-1])
    if not last_items:
        return None
    list_kind = last_items[0].kind
    first_items, _ = _leading_items(elements[0])
    shared = "".join(it.text for it in first_items if it.kind != list_kind)
    out = []
    for i, element in enumerate(elements[:-1]):
        items, rest = _leading_items(element)
        if rest:
            return None
        # The first element may start with shared context ("大东区2022年"): keep only its listed part.
        own = "".join(it.text for it in items if i or it.kind == list_kind)
        out.append(shared + own + tail + predicate)
    return [*out, shared + elements[-1] + predicate]


def _shared_head(elements: list[str]) -> str:
    """ "A和B的作者": the last element's "的X" belongs to every element (when no other has a 的)."""
    bare = [_QUOTED.sub("", e) for e in elements]
    if "的" not in bare[-1] or any("的" in e for e in bare[:-1]):
        return ""
    return elements[-1][elements[-1].rindex("的") :]


def _shared_owner(elements: list[str]) -> str:
    """ "某公司的A、B": the first element's "X的" belongs to every element (when no other has a 的)."""
    bare = [_QUOTED.sub("", e) for e in elements]
    if "的" not in bare[0] or any("的" in e for e in bare[1:]):
        return ""
    return elements[0][: elements[0].rindex("的") + 1]


def _names_two_years(elements: list[str]) -> bool:
    return sum(1 for e in elements if any(m.group("year") for m in TIME.finditer(e))) >= 2


def _list_elements(subject: str) -> list[str]:
    """The subject cut at its top-level conjunctions (not inside 《》 or quotes), by jieba words
    so that 和 inside a name ("共和国", "和平区") is no conjunction."""
    protected = _QUOTED.sub(lambda m: "\0" * len(m.group(0)), subject)
    elements, current, pos = [], "", 0
    for word in jieba.lcut(protected):
        original = subject[pos : pos + len(word)]
        pos += len(word)
        if word in _CONJUNCTIONS:
            elements.append(current)
            current = ""
        else:
            current += original
    elements.append(current)
    elements = [e.strip(" ，,") for e in elements]
    return elements if all(elements) else []


def _leading_items(text: str) -> tuple[list[_Item], str]:
    """Places and time expressions at the start of `text`, and the rest."""
    places = {pos: word for pos, word in place_names(text)}
    items: list[_Item] = []
    pos = 0
    while pos < len(text):
        if pos in places:
            items.append(_Item("place", places[pos]))
            pos += len(places[pos])
            continue
        m = TIME.match(text, pos)
        if m and not m.group("skip"):
            items.append(_Item("time", m.group(0)))
            pos = m.end()
            continue
        if text[pos] in "在 ":
            pos += 1
            continue
        break
    return items, text[pos:]


def _items_anywhere(text: str) -> list[_Item]:
    times = [_Item("time", m.group(0)) for m in TIME.finditer(text) if m.group("year") or m.group("rel")]
    return times + [_Item("place", word) for _, word in place_names(text)]


def _time_class(m: re.Match[str]) -> str:
    return "year" if m.group("year") or m.group("rel") else "part"


def _spans(text: str) -> list[tuple[str, int, int]]:
    """(class, start, end) of the years, parts of years and places in `text`."""
    spans = [(_time_class(m), m.start(), m.end()) for m in TIME.finditer(text) if not m.group("skip")]
    return spans + [("place", p, p + len(w)) for p, w in place_names(text)]


def _replace_items(question: str, items: list[_Item]) -> str:
    """`question` with its year, part of year or place replaced by `items`' ("X2022年是多少" and
    "2023年" -> "X2023年是多少"); an item with nothing to replace is put in front."""
    out = question
    for item in items:
        spans = _spans(item.text)
        cls = spans[0][0] if spans else item.kind
        same = [(a, b) for c, a, b in _spans(out) if c == cls]
        if same:
            start, end = same[0]
            out = out[:start] + item.text + out[end:]
        elif cls == "part" and (years := [(a, b) for c, a, b in _spans(out) if c == "year"]):
            out = out[: years[0][1]] + item.text + out[years[0][1] :]
        else:
            out = item.text + out
    return out
