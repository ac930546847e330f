"""Short answers: the exact span of an answer sentence that answers a factoid question.

Candidates come from `spans.candidates`; each gets named evidence (`SpanEvidence`: does its kind
fit the question word, does it repeat the question, does it sit where the question's wh-word
sits, how long is it, ...), plus how it compares with the sentence's other candidates
(`relative`). Boosted trees learned from the gold spans of the public CMRC 2018 trial and DRCD
sets (bench/train_short.py; shipped as JSON in models/short_answer.json, read by short_model.py)
turn the features into a probability. The most probable span is the short answer when it clears
the threshold; why/how questions get none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

# The model classes and loader live in short_model.py; these names stay importable from here.
from dadong_qa.answering.short_model import MODEL_FILE as MODEL_FILE
from dadong_qa.answering.short_model import ShortModel as ShortModel
from dadong_qa.answering.short_model import ShortTrees as ShortTrees
from dadong_qa.answering.short_model import SpanModel, load_model
from dadong_qa.answering.short_model import parse_model as parse_model
from dadong_qa.answering.spans import (
    CLAUSE_END,
    KINDS,
    PUNCT,
    QUALIFIER,
    Question,
    Span,
    Word,
    candidates,
    read_question,
    sentence_words,
)
from dadong_qa.config import Settings
from dadong_qa.text import STOPWORDS, normalize

MAX_CONTEXT_MATCH = 8  # characters of question context compared around a span
NEAR_CHARS = 8  # a question word this close to a span counts as "right before/after" it
WINDOW_CHARS = 15  # question words counted on each side of a span
_FUNCTION_CHARS = frozenset("的了是在和与及或等也都就而把被对从到为以于之其这那着过并且则由向给跟让将")
# Function characters a question shares with any sentence: they say nothing about overlap.
_STOP_CHARS = frozenset(w for w in STOPWORDS if len(w) == 1) | _FUNCTION_CHARS
_LENGTH_BUCKETS = (1, 2, 4, 8, 16, 32)
_TERMINAL = re.compile(r"[。！？!?；;…]+$")


@dataclass(frozen=True)
class ShortAnswer:
    """`text` is `sentence[start:end]`, verbatim."""

    text: str
    start: int
    end: int
    kind: str  # the most specific kind of span (see spans.KINDS)
    probability: float


@dataclass(frozen=True)
class SpanEvidence:
    """Why a span might be the answer; `features()` turns it into model inputs."""

    answer_type: str  # what the question asks for
    kinds: frozenset[str]  # what produced the span
    type_match: bool  # the span's kind is the kind of answer the question asks for
    unit_match: bool  # "多少人" and the span ends in 人
    question_overlap: float  # share of the span's characters that are in the question
    repeats_question: bool  # the span contains a content word of the question
    question_distance: int  # characters between the span and the nearest question word in the sentence
    left_match: int  # characters of the question just before its wh-word found just before the span
    right_match: int  # ... just after the wh-word found just after the span
    left_word_near: bool  # the question's word before the wh-word occurs just before the span
    right_word_near: bool  # the question's word after the wh-word occurs just after the span
    chars: int
    words: int
    first_pos: str  # coarse jieba flag of the span's first word ("" when the span cuts a word)
    last_pos: str
    context_overlap: float  # share of the characters around the span (NEAR_CHARS each side) in the question
    head_suffix: bool  # the span ends with that whole noun ("哪一种疾病" -> "心血管疾病")
    clause_overlap: float  # share of the question's words in the rest of the span's clause
    window_left: float  # share of the question's words found in the WINDOW_CHARS before the span
    window_right: float  # ... after it
    head_match: bool  # the span ends in a character of the noun after the wh-word ("哪一门语言" -> "…梵语")
    last_char: str  # the span's last character ("市", "年", "人": what kind of thing it names)
    prev_word: str  # the word right before the span when it is a short function word ("位于", "为", "是"), else ""
    prev_pos: str  # coarse flag of the word right before the span ("^" at the sentence start)
    next_pos: str  # ... right after it ("$" at the end)
    verbs: int  # verbs inside the span (answers are mostly noun phrases)
    cuts_word: bool  # the span starts or ends inside a jieba word
    position: float  # start / sentence length
    coverage: float  # span length / sentence length
    left_boundary: bool  # sentence start or punctuation right before the span
    right_boundary: bool
    starts_function: bool  # starts with a function character (的, 是, 在 ...)
    ends_function: bool
    title_overlap: float  # share of the span's characters in the article title
    question_found: float  # share of the question's words found in the sentence (same for all spans)
    wh_position: float  # where the wh-word stands in the question, 0 (start) .. 1 (end)


def _coarse(flag: str) -> str:
    if flag in ("nr", "nrt", "nrfg", "ns", "nt", "nz", "eng", "m", "q", "t", "x"):
        return flag[:2] if flag.startswith("nr") else flag
    return flag[:1] if flag else ""


def _type_match(answer_type: str, kinds: frozenset[str]) -> bool:
    wanted = {
        "number": {"number"},
        "date": {"date"},
        "person": {"person", "name"},
        "place": {"place", "org", "name"},
        "title": {"title", "quote"},
        "noun": {"title", "quote", "person", "place", "org", "name"},
    }.get(answer_type, set())
    return bool(wanted & kinds)


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b), MAX_CONTEXT_MATCH) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b), MAX_CONTEXT_MATCH) and a[n] == b[n]:
        n += 1
    return n


def _edge_word(text: str, last: bool) -> str:
    """The content word of `text` nearest its end (last) or start."""
    found = [w.text for w in sentence_words(text) if w.text not in STOPWORDS and not PUNCT.fullmatch(w.text)]
    return (found[-1] if last else found[0]) if found else ""


def _head_noun(right: str) -> str:
    """The noun the wh-word asks about: "哪一门语言撰写" -> "语言" (last of the first run of nouns)."""
    head = ""
    for i, w in enumerate(sentence_words(right)):
        if w.flag.startswith("n") and not PUNCT.fullmatch(w.text):
            head = w.text
        elif head or i >= 2:
            break
    return head


def _right_match(question: Question, head: str, after: str) -> int:
    """Characters of the question after its wh-word (or after the noun it asks about) starting `after`."""
    rest = question.right[question.right.find(head) + len(head) :] if head else ""
    return max(_common_prefix(question.right, after), _common_prefix(rest, after))


def _clause_share(words: frozenset[str], sentence: str, span: Span) -> float:
    """Question words in the span's clause outside the span: "总值完成125亿元" vs "，同比增长6%"."""
    start = max((m.end() for m in CLAUSE_END.finditer(sentence, 0, span.start)), default=0)
    end = next((m.start() for m in CLAUSE_END.finditer(sentence, span.end)), len(sentence))
    return _window_share(words, sentence[start : span.start] + " " + sentence[span.end : end])


def _window_share(words: frozenset[str], window: str) -> float:
    return sum(w in window for w in words) / len(words) if words else 0.0


def _occurrences(sentence: str, words: frozenset[str]) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for w in words for m in re.finditer(re.escape(w), sentence)]


def _distance(span: Span, hits: list[tuple[int, int]], sentence_len: int) -> int:
    gaps = [max(s - span.end, span.start - e, 0) for s, e in hits if e <= span.start or s >= span.end]
    return min(gaps, default=sentence_len)


def _char_share(text: str, chars: set[str]) -> float:
    content = [c for c in text if not PUNCT.fullmatch(c) and c not in _STOP_CHARS]
    return sum(c in chars for c in content) / len(content) if content else 0.0


def evidence(question: Question, sentence: str, span: Span, *, title: str = "") -> SpanEvidence:
    """The evidence for `span` of `sentence` answering `question` (sentence normalised by the caller)."""
    words = sentence_words(sentence)
    inner = [words[i] for i in range(span.first_word, span.last_word + 1)] if span.first_word >= 0 else []
    content = _strip(span.text)
    return SpanEvidence(
        answer_type=question.answer_type,
        kinds=frozenset(span.kinds),
        type_match=_type_match(question.answer_type, frozenset(span.kinds)),
        unit_match=bool(question.asked_unit) and content.endswith(question.asked_unit),
        **_question_fit(question, sentence, span, content, title),
        **_shape(sentence, span, content, words, inner),
    )


def _question_fit(question: Question, sentence: str, span: Span, content: str, title: str) -> dict[str, Any]:
    """How the span and the words around it relate to the question's words."""
    hits = _occurrences(sentence, question.words)
    left_word = _edge_word(question.left, last=True)
    right_word = _edge_word(question.right, last=False)
    before = sentence[max(0, span.start - NEAR_CHARS - len(left_word)) : span.start]
    after = sentence[span.end : span.end + NEAR_CHARS + len(right_word)]
    qchars = set(question.text)
    head = _head_noun(question.right)
    near = sentence[max(0, span.start - NEAR_CHARS) : span.start] + sentence[span.end : span.end + NEAR_CHARS]
    found = sum(w in sentence for w in question.words) / len(question.words) if question.words else 0.0
    return {
        "question_overlap": _char_share(span.text, qchars),
        "repeats_question": any(w in span.text for w in question.words if len(w) >= 2),
        "question_distance": _distance(span, hits, len(sentence)),
        "left_match": _common_suffix(question.left, sentence[: span.start]),
        "right_match": _right_match(question, head, sentence[span.end :]),
        "left_word_near": bool(left_word) and left_word in before,
        "right_word_near": bool(right_word) and right_word in after,
        "context_overlap": _char_share(near, qchars),
        "head_suffix": bool(head) and content.endswith(head) and len(content) > len(head),
        "clause_overlap": _clause_share(question.words, sentence, span),
        "window_left": _window_share(question.words, sentence[max(0, span.start - WINDOW_CHARS) : span.start]),
        "window_right": _window_share(question.words, sentence[span.end : span.end + WINDOW_CHARS]),
        "head_match": bool(head) and bool(content) and content[-1] in head,
        "title_overlap": _char_share(span.text, set(normalize(title))) if title else 0.0,
        "question_found": found,
        "wh_position": len(question.left) / max(1, len(question.left) + len(question.right)),
    }


def _shape(sentence: str, span: Span, content: str, words: tuple[Word, ...], inner: list[Word]) -> dict[str, Any]:
    """The span's own form: length, words, parts of speech, where it starts and ends."""
    return {
        "chars": len(content),
        "words": len(inner),
        "first_pos": _coarse(words[span.first_word].flag) if span.first_word >= 0 else "",
        "last_pos": _coarse(words[span.last_word].flag) if span.last_word >= 0 else "",
        "last_char": content[-1:] if content else "",
        "prev_word": _prev_function_word(words, span.start),
        "prev_pos": _neighbour_pos(words, span.start, before=True),
        "next_pos": _neighbour_pos(words, span.end, before=False),
        "verbs": sum(w.flag.startswith("v") for w in inner),
        "cuts_word": span.first_word < 0 or span.last_word < 0,
        "position": span.start / max(1, len(sentence)),
        "coverage": len(content) / max(1, len(_strip(sentence))),
        "left_boundary": span.start == 0 or bool(PUNCT.fullmatch(sentence[span.start - 1])),
        "right_boundary": span.end == len(sentence) or bool(PUNCT.fullmatch(sentence[span.end])),
        "starts_function": bool(content) and content[0] in _FUNCTION_CHARS,
        "ends_function": bool(content) and content[-1] in _FUNCTION_CHARS,
    }


def _prev_function_word(words: tuple[Word, ...], offset: int) -> str:
    for w in words:
        if w.end == offset:
            return w.text if len(w.text) <= 2 and w.flag[:1] in ("p", "v", "u", "c", "d") else ""
    return ""


def _neighbour_pos(words: tuple[Word, ...], offset: int, *, before: bool) -> str:
    for w in words:
        if before and w.end == offset:
            return "x" if PUNCT.fullmatch(w.text) else _coarse(w.flag)
        if not before and w.start == offset:
            return "x" if PUNCT.fullmatch(w.text) else _coarse(w.flag)
    if offset == 0 and before:
        return "^"
    if not before and offset >= (words[-1].end if words else 0):
        return "$"
    return "cut"


def _strip(text: str) -> str:
    return PUNCT.sub("", text)


def _bucket(chars: int) -> str:
    return str(next((b for b in _LENGTH_BUCKETS if chars <= b), "more"))


def features(ev: SpanEvidence) -> dict[str, float]:
    """Model inputs of `ev`: numbers scaled to about 0..1, categories one-hot, a few crosses."""
    qt = f"q:{ev.answer_type}"
    length = _bucket(ev.chars)
    out: dict[str, float] = {
        qt: 1.0,
        "type_match": float(ev.type_match),
        f"{qt}&type_match": float(ev.type_match),
        "unit_match": float(ev.unit_match),
        "question_overlap": ev.question_overlap,
        "no_question_overlap": float(ev.question_overlap == 0),
        "repeats_question": float(ev.repeats_question),
        "question_distance": math.log1p(ev.question_distance) / 5,
        "adjacent_question": float(ev.question_distance == 0),
        "left_match": ev.left_match / MAX_CONTEXT_MATCH,
        "right_match": ev.right_match / MAX_CONTEXT_MATCH,
        "left_word_near": float(ev.left_word_near),
        "context_overlap": ev.context_overlap,
        "head_match": float(ev.head_match),
        "head_suffix": float(ev.head_suffix),
        f"{qt}&head_suffix": float(ev.head_suffix),
        "clause_overlap": ev.clause_overlap,
        f"{qt}&clause_overlap": ev.clause_overlap,
        "window_left": ev.window_left,
        "window_right": ev.window_right,
        "window_both": min(ev.window_left, ev.window_right),
        f"{qt}&head_match": float(ev.head_match),
        "right_word_near": float(ev.right_word_near),
        "chars": math.log1p(ev.chars) / 5,
        "words": min(ev.words, 10) / 10,
        f"len:{length}": 1.0,
        f"{qt}&len:{length}": 1.0,
        f"first:{ev.first_pos}": 1.0,
        f"last:{ev.last_pos}": 1.0,
        f"{qt}&last:{ev.last_pos}": 1.0,
        f"{qt}&first:{ev.first_pos}": 1.0,
        f"prev:{ev.prev_pos}": 1.0,
        f"next:{ev.next_pos}": 1.0,
        f"{qt}&prev:{ev.prev_pos}": 1.0,
        f"{qt}&next:{ev.next_pos}": 1.0,
        f"{qt}&last_char:{ev.last_char}": 1.0,
        f"prev_word:{ev.prev_word}": 1.0,
        f"{qt}&prev_word:{ev.prev_word}": 1.0,
        "verbs": min(ev.verbs, 3) / 3,
        "no_verb": float(ev.verbs == 0),
        "cuts_word": float(ev.cuts_word),
        "position": ev.position,
        "coverage": ev.coverage,
        "left_boundary": float(ev.left_boundary),
        "right_boundary": float(ev.right_boundary),
        "both_boundaries": float(ev.left_boundary and ev.right_boundary),
        "starts_function": float(ev.starts_function),
        "ends_function": float(ev.ends_function),
        "title_overlap": ev.title_overlap,
        "question_found": ev.question_found,
        "wh_position": ev.wh_position,
    }
    for kind in ev.kinds:
        out[f"k:{kind}"] = 1.0
        out[f"{qt}&k:{kind}"] = 1.0
    return out


def relative(feats: list[dict[str, float]]) -> list[dict[str, float]]:
    """Each candidate's features plus how it compares with the sentence's other candidates.

    A sentence often holds several spans of the asked kind (two dates, three names): which one
    stands nearest the question's words, or first, or best between the words around the wh-word.
    """
    typed = [f for f in feats if f.get("type_match")]
    nearest = min((f["question_distance"] for f in typed), default=None)
    first = min((f["position"] for f in typed), default=None)
    best = {name: max((f[name] for f in feats), default=0.0) for name in _RELATIVE}
    out = []
    for f in feats:
        extra = {f"best_{name}": float(f[name] == best[name] > 0) for name in _RELATIVE}
        if f.get("type_match"):
            extra["nearest_typed"] = float(f["question_distance"] == nearest)
            extra["first_typed"] = float(f["position"] == first)
        extra["typed_count"] = min(len(typed), 10) / 10
        out.append({**f, **extra})
    return out


_RELATIVE = ("left_match", "right_match", "window_both", "clause_overlap", "context_overlap")
_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


def _main_kind(kinds: set[str]) -> str:
    return min(kinds, key=lambda k: _KIND_ORDER.get(k, len(KINDS)))


def score_spans(question: str, sentence: str, *, title: str = "", model: SpanModel | None = None) -> list[ShortAnswer]:
    """Every candidate span of `sentence` with its probability, most probable first."""
    model = model or load_model()
    q = read_question(question)
    norm = normalize(sentence)
    if len(norm) != len(sentence):  # NFKC can change lengths (rare ligatures): offsets must stay valid
        norm = sentence
    spans = candidates(q, norm)
    probs = model.probabilities(relative([features(evidence(q, norm, span, title=title)) for span in spans]))
    scored = [
        ShortAnswer(sentence[span.start : span.end], span.start, span.end, _main_kind(span.kinds), float(p))
        for span, p in zip(spans, probs, strict=True)
    ]
    return sorted(scored, key=lambda a: (-a.probability, a.start, a.end))


def extract_short(
    question: str,
    sentence: str,
    *,
    title: str = "",
    threshold: float = Settings.short_answer_threshold,
    model: SpanModel | None = None,
) -> ShortAnswer | None:
    """The span of `sentence` that answers `question`, or None.

    None when the question is not a factoid one (why / how / describe) or no span is probable
    enough. The text is always `sentence[start:end]`, the source's own characters.
    """
    if not question.strip() or not sentence.strip() or not read_question(question).factoid:
        return None
    # A figure the question itself states ("2022年" in "…2022年…是多少") is its context, not its answer.
    scored = [s for s in score_spans(question, sentence, title=title, model=model) if not _stated(s, question)]
    if not scored or scored[0].probability < threshold:
        return None
    return _with_qualifier(scored[0], scored)


def _stated(span: ShortAnswer, question: str) -> bool:
    return span.kind == "number" and normalize(span.text) in normalize(question)


def _with_qualifier(best: ShortAnswer, scored: list[ShortAnswer]) -> ShortAnswer:
    """A figure keeps the qualifier written before it ("超46万辆", not "46万辆"), a title its 《》.

    The gold spans often leave qualifiers out, so the model prefers the bare figure; but
    "46万辆" alone states more than the source does. Measured (2 folds by article, gold
    sentence): the rule changes 12 of 861 CMRC and 25 of 3,257 DRCD answers, EM +0.005 / -0.004.
    """
    if best.kind in ("title", "quote"):
        marked = next((o for o in scored if o.start == best.start - 1 and o.end == best.end + 1), None)
        return ShortAnswer(marked.text, marked.start, marked.end, best.kind, best.probability) if marked else best
    if best.kind != "number":
        return best
    for other in scored:
        qualifier = other.text[: len(other.text) - len(best.text)]
        if other.end == best.end and other.start < best.start and QUALIFIER.fullmatch(qualifier):
            return ShortAnswer(other.text, other.start, other.end, best.kind, best.probability)
    return best
