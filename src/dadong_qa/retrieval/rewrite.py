"""Follow-up questions -> standalone questions for retrieval.

In a conversation people leave out what was already said: after "X区2022年的产值是多少？"
they ask "那2023年呢？" or "它的人口有多少？". Retrieval sees one question at a time, so the
follow-up is rewritten from the recent user turns with general rules of Chinese ellipsis:

- a fragment ("那2023年的目标呢？", "那Y区呢？": no question word, ends in 呢 or is only a time or
  place) takes the previous question and swaps in what the fragment names: its time
  expressions replace the previous ones, a place or organisation replaces one of the same
  kind, other words are added before the question word;
- a question that opens with a pronoun (它/其/该/这…) gets the previous subject in its place;
- a question that opens with a connective (那/那么/还有/另外…) or names no subject of its own
  gets the previous subject (and time, unless it has its own) in front.

A question that names its own subject and opens with no connective is a new topic and is
left alone. Rewriting only feeds retrieval and answering; the user's words are kept as asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jieba.posseg as pseg

from dadong_qa.retrieval.query import WH_WORD
from dadong_qa.retrieval.thesaurus import short_forms
from dadong_qa.text import STOPWORDS, half_width

# Time expressions: years with optional parts of the year, months/days, relative years,
# quarters and five-year-plan periods.
_TIME = re.compile(
    r"(?:(?:19|20)\d{2}|[一二〇零两]{4})年(?:度)?(?:[上下]半年|年?[底初末中])?(?:第?[一二三四1-4]季度)?"
    r"(?:\d{1,2}(?:月份?|至\d{1,2}月))?(?:\d{1,2}[日号])?"
    r"|\d{1,2}(?:至\d{1,2})?月份?(?:\d{1,2}[日号])?"
    r"|[今去明前后]年(?:[上下]半年|[底初末])?"
    r"|[上下]半年|第?[一二三四1-4]季度|年[底初末]"
    r"|[“\"]?十[一二三四五六七八九]五[”\"]?(?:期间|时期|规划)?"
)
_YEAR = re.compile(r"(?:(?:19|20)\d{2}|[一二〇零两]{4}|[今去明前后])年")
# Discourse connectives that only say "about what we were discussing": dropped.
_LEAD = re.compile(r"^(?:那么|那(?![些个里儿样])|所以|然后|另外|此外|同时|以及|好的?|嗯|哦)[，,、\s]*")
# Connectives that carry meaning ("还有哪些…"): kept, but mark the question as a follow-up.
_CONTINUE = re.compile(r"^(?:还有|还|再|又|也|其他|其余)")
# Pronouns standing for the previous subject.
_PRONOUN = re.compile(
    r"^(?:它们的|它们|它的|它|其中|其(?![他余实次])|该(?:区|市|县|镇|省|地|公司|企业|项目)?(?![怎如])"
    r"|这里|这个|这些|这项|那里|那个|那些|他们的|他们|她们)"
)
_ASK_VERBS = "是|有|为|达到|达|在"  # the verb right before a question word ("是多少", "有几个")
_QWORD_LEAD = re.compile(rf"(?:{_ASK_VERBS})?$")
_FRAGMENT_END = re.compile(r"呢\s*$")
_TRAIL_PUNCT = re.compile(r"[\s？?。！!，,；;]+$")
_EDGE = re.compile(r"^[的之、，,\s]+|[的之、，,\s]+$")

# jieba part-of-speech tags of names: places, organisations, other proper names, people.
_PLACE_ORG = {"ns", "nt"}
# First letters of tags that can be part of a noun phrase: nouns (n*), adjectives, distinguishing
# and state words, abbreviations, idioms, place words, foreign words (eng); verbs only as
# verbal nouns (vn: "服务").
_PHRASE = set("nabzjilsge")
_JOINERS = {"-", "·", "—"}
_ADMIN = re.compile(r"[省市区县镇乡村旗州]$")


@dataclass(frozen=True)
class _Token:
    word: str
    flag: str
    start: int


def _tokens(text: str) -> list[_Token]:
    out = []
    pos = 0
    for pair in pseg.lcut(text):
        start = text.find(pair.word, pos)
        if start < 0:
            continue
        out.append(_Token(pair.word, pair.flag, start))
        pos = start + len(pair.word)
    return out


def _clean(text: str) -> str:
    """Full-width digits and letters in ASCII ("２０２３年" is a time like "2023年"), spaces collapsed."""
    return " ".join(half_width(text).split())


def _nounish(flag: str) -> bool:
    return flag == "vn" or flag[:1] in _PHRASE


def _subject(question: str) -> str:
    """What the question is about: its leading noun phrase ("" if it opens with a verb).

    Chinese drops the subject when it carries over ("新建了多少…"), so an empty result marks
    a question that leans on the previous one. The phrase ends at the first verb, particle,
    number, time or question word; a place name ending in an administrative unit (区, 市…)
    also ends it, since what follows is usually the asked attribute ("X区GDP").
    """
    toks = _tokens(question)
    i = 0
    while i < len(toks) and (_TIME.fullmatch(toks[i].word) or toks[i].flag in {"m", "t", "x", "c"}):
        i += 1  # leading time ("2022年X区…") or punctuation
    begin = i
    while i < len(toks):
        t = toks[i]
        joined = i > begin and t.word in _JOINERS and i + 1 < len(toks) and _nounish(toks[i + 1].flag)
        if not joined and (not _nounish(t.flag) or t.word in STOPWORDS or _TIME.fullmatch(t.word)):
            break
        i += 1
        if _ADMIN.search(t.word) and t.flag == "ns" and not (i < len(toks) and _ADMIN.search(toks[i].word)):
            break  # "沈阳市大东区" continues, "大东区GDP" stops after 大东区
    if i > begin and i < len(toks) and toks[i].word in {"了", "过", "着"}:
        i -= 1  # "新建了…": a word followed by an aspect particle was a verb
    if i == begin:
        return ""
    return question[toks[begin].start : toks[i - 1].start + len(toks[i - 1].word)]


def _names(text: str, flags: set[str]) -> list[_Token]:
    return [t for t in _tokens(text) if t.flag in flags and len(t.word) > 1]


def _insert_before_question_word(question: str, extra: str) -> str:
    body = _TRAIL_PUNCT.sub("", question)
    tail = question[len(body) :]
    m = WH_WORD.search(body)
    if not m:
        return body + extra + tail
    head = body[: m.start()]
    lead = _QWORD_LEAD.search(head)
    cut = lead.start() if lead else len(head)
    return body[:cut] + extra + body[cut:] + tail


def _swap_times(question: str, times: list[str], subject: str) -> str:
    old = list(_TIME.finditer(question))
    new = "".join(times)
    year = _YEAR.match(old[0].group(0)) if old else None
    if year and not any(_YEAR.match(t) for t in times):
        new = year.group(0) + new  # "上半年" after "2022年…" means 2022's first half
    if old:
        first = old[0]
        out = question[: first.start()] + new + question[first.end() :]
        for m in old[1:]:
            out = out.replace(m.group(0), "", 1)
        return out
    if subject and subject in question:
        i = question.index(subject) + len(subject)
        return question[:i] + new + question[i:]
    return new + question


def _fragment(body: str) -> bool:
    """True if `body` (connective removed) names things but asks nothing by itself."""
    if WH_WORD.search(_FRAGMENT_END.sub("", body)):
        return False
    if _FRAGMENT_END.search(body):
        return True
    rest = _TIME.sub("", body)
    for t in _names(rest, _PLACE_ORG):
        rest = rest.replace(t.word, "")
    return not _EDGE.sub("", rest)


def _from_fragment(fragment: str, previous: str) -> str:
    frag = _FRAGMENT_END.sub("", fragment)
    pronoun = _PRONOUN.match(frag)
    if pronoun:
        frag = frag[pronoun.end() :]  # "那它的X呢": 它 is the previous subject
    frag = _EDGE.sub("", frag)
    times = [m.group(0) for m in _TIME.finditer(frag)]
    rest = _TIME.sub("", frag)
    out = previous
    if times:
        out = _swap_times(out, times, _subject(previous))
    prev_names = _names(previous, _PLACE_ORG)
    for name in _names(rest, _PLACE_ORG):
        same_kind = next((p for p in prev_names if p.flag == name.flag and p.word not in frag), None)
        if same_kind is not None:
            out = out.replace(same_kind.word, name.word, 1)
            rest = rest.replace(name.word, "", 1)
    extra = _EDGE.sub("", rest)
    if extra and extra not in out and extra not in STOPWORDS:
        asked = _attribute(previous)
        if (len(extra) >= NEW_ATTRIBUTE or short_forms(extra)) and asked and asked in out:
            out = out.replace(asked, extra, 1)  # "社会消费品零售总额呢？": another quantity of the same subject
        else:
            out = _insert_before_question_word(out, extra)  # "那2022年的目标呢？": the target of it
    return out


# A fragment's noun phrase of this many characters names another thing asked about ("税收收入呢？",
# "GDP呢？") and replaces the previous one, as does a short form ("社零呢？"); a shorter one ("目标",
# "增速") is an aspect of it and joins.
NEW_ATTRIBUTE = 3


def _attribute(question: str) -> str:
    """What a question asks about, less its subject and time ("和平区2021年财政收入是多少？" -> 财政收入)."""
    topic = _TIME.sub("", _topic(question))
    subject = _subject(question)
    if subject and topic.startswith(subject):
        topic = topic[len(subject) :]
    return _EDGE.sub("", topic)


def _own_subject(body: str, previous_subject: str) -> bool:
    return bool(previous_subject and previous_subject in body) or bool(_subject(body))


def rewrite(question: str, previous: str | None) -> str | None:
    """`question` made standalone using the previous (standalone) question, or None if it already is."""
    if not previous:
        return None
    q = _clean(question)
    prev = _clean(previous)
    if not q or q == prev:
        return None
    punct = "？" if re.search(r"[？?]\s*$", q) else ""
    body = _TRAIL_PUNCT.sub("", q)
    connective = _LEAD.match(body)
    if connective:
        body = body[connective.end() :]
    if not body:
        return None
    if _fragment(body):
        return _from_fragment(body, prev)
    out = _with_previous_subject(body, prev, bool(connective))
    if out is None:
        return None
    out += punct
    return out if out != q else None


def _with_previous_subject(body: str, prev: str, connective: bool) -> str | None:
    """A follow-up with the previous subject (or a pronoun's referent) and time put in; None for a new question."""
    subject = _subject(prev)
    pronoun = _PRONOUN.match(body)
    if pronoun:
        body = body[pronoun.end() :].lstrip("的")
    if not pronoun and _asks_only(body):
        topic = _topic(prev)  # "增长了多少？" asks about the whole previous topic, not its place alone
        return topic + body if topic else None
    if not pronoun and _own_subject(body, subject) and not (connective or _CONTINUE.match(body)):
        return None  # a new, complete question
    context = _context(body, prev, subject)
    if not context or not body:
        return None
    joint = "的" if pronoun and pronoun.group(0).endswith("的") else ""
    return context + joint + body


# What a question asks with, besides its question word: the change words ("同比增长", "比去年增加")
# and the verbs before a question word ("是", "有", "达到", "约").
_ASKING_WORDS = re.compile(r"同比|环比|比(?:去年|上年|上月|同期)|增长|增加|下降|减少|提高|降低|了|占|比")
_ASKING_TAIL = re.compile(rf"(?:{_ASKING_WORDS.pattern}|{_ASK_VERBS}|约|大约|共|一共|总共|的)+$")


def _asks_only(body: str) -> bool:
    """A follow-up that only asks ("增长了多少", "排第几", "同比增长多少"): besides its question word it
    names nothing (no noun), so it asks about what the previous question asked about."""
    m = WH_WORD.search(body)
    if not m:
        return False
    rest = _ASKING_WORDS.sub("", body[: m.start()] + body[m.end() :])
    return not any(_nounish(t.flag) and t.word not in STOPWORDS for t in _tokens(rest))


def _topic(question: str) -> str:
    """A question without its question part: what it asks about, time included
    ("和平区2021年财政收入是多少？" -> "和平区2021年财政收入"); "" when that is no noun phrase."""
    body = _TRAIL_PUNCT.sub("", question)
    m = WH_WORD.search(body)
    head = _ASKING_TAIL.sub("", body[: m.start()] if m else body)  # "是", "增长了": its own asking
    return head if _subject(head) else ""


def _context(body: str, prev: str, subject: str) -> str:
    """What a follow-up carries over: the previous subject unless it names its own place or
    organisation, and the previous time expressions unless it has its own."""
    named = bool(subject and subject in body) or bool(_names(_subject(body), _PLACE_ORG))
    times = "" if _TIME.search(body) else "".join(m.group(0) for m in _TIME.finditer(prev))
    return times if named else subject + times


def user_questions(history: Iterable[Any] | None) -> list[str]:
    """The user's questions in a chat history, oldest first.

    Accepts messages ({"role": "user", "content": ...}, content as text or as a list of
    parts, as Gradio gives it) and (question, answer) pairs.
    """
    out: list[str] = []
    for turn in history or []:
        if isinstance(turn, dict):
            if turn.get("role") != "user":
                continue
            text = _content_text(turn.get("content"))
        elif isinstance(turn, list | tuple) and turn:
            text = _content_text(turn[0])
        else:
            raise TypeError(
                "history must be a list of {'role', 'content'} messages or (question, answer) pairs, "
                f"not {type(turn).__name__}"
            )
        if text and text.strip():
            out.append(text.strip())
    return out


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list | tuple):
        return "".join(_content_text(part) for part in content)
    return ""


def stands_alone(question: str) -> bool:
    """Whether a question may be asked as it is although a rewrite gave it the previous subject:
    it asks with a question word and names something of its own ("给企业发了多少上云补贴？"), with no
    connective, pronoun or fragment that points back ("那2023年呢？", "它的人口…", "增长了多少？")."""
    body = _TRAIL_PUNCT.sub("", _clean(question))
    if not body or WH_WORD.search(body) is None:
        return False
    points_back = _LEAD.match(body) or _CONTINUE.match(body) or _PRONOUN.match(body)
    return not (points_back or _fragment(body) or _asks_only(body))


def standalone_question(question: str, history: Sequence[Any] | None, turns: int = 3) -> str | None:
    """`question` rewritten with the last `turns` user questions of `history`, or None if unchanged.

    Earlier follow-ups are made standalone first, so a chain of them keeps its topic.
    """
    previous = user_questions(history)[-turns:] if turns > 0 else []
    context: str | None = None
    for earlier in previous:
        context = rewrite(earlier, context) or _clean(earlier)
    return rewrite(question, context)
