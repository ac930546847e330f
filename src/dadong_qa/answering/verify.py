"""Check a generated answer against the numbered passages it was given.

A language model can cite the wrong passage, invent a number or follow an instruction hidden
in an article. Nothing it writes is trusted. The answer is cut into sentences (claims), and
each `[n]` in a claim is checked against passage n: some sentence of passage n must share
enough of the claim's (or of the clause right before the marker's) characters (weighted
character-bigram overlap, since the model paraphrases), about as much as the best sentence of
any passage does (else the model cited the wrong passage), and must not itself be an
instruction aimed at a model. A claim is kept only if at least one of its citations holds and
every number in it appears in a cited sentence: the best one, or another sentence of a cited
passage that is also about the claim (then cited as well; news text often states the year once,
sentences before), or, for a year, the article's date.
Kept claims are re-numbered so that `[k]` points at `citations[k-1]`, whose `sentence` is the
source sentence itself, verbatim. What was dropped and why is reported for `Answer.notes`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dadong_qa.schema import Citation, Passage, Sentence
from dadong_qa.text import CJK, normalize

# [1], [1][2], [1, 2], 【1】, ［1］, [资料1]: what models actually write for "cite passage 1".
_MARKER = re.compile(r"[\[【［]\s*(?:资料|来源|passage\s*)?\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]", re.I)
_SENTENCE_END = "。！？!?；;\n"
_CLAUSE_END = "，,、：:；;"
# "1. ", "2、", "- ": list bullets are layout, not claims; their numbers are not checked.
_BULLET = re.compile(r"^\s*(?:\d{1,2}[.、)）]|[-*•·])\s*")
_CONTENT = re.compile(f"[{CJK}a-z0-9]")
# Function characters a paraphrase adds or drops freely ("新建了" for "新建").
_FUNCTION_CHARS = str.maketrans("", "", "的了是在着过也都将已其这那")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# How models open an answer; not part of what the claim says.
_PREAMBLE = re.compile(r"^(?:根据|依据|据|从)?(?:以上|上述)?(?:资料|材料|报道)(?:显示|来看|可知|所述|中)?[，,：:]?\s*")
# A cited passage must support the claim about as well as the best of all passages does:
# a claim copied from passage 2 but marked [1] is a wrong citation even if [1] shares its topic.
_RELATIVE = 0.75
_REFUSAL = re.compile(
    r"没有(?:找到)?(?:与之|与此)?相关(?:的)?信息|资料中没有|资料(?:中)?未(?:提及|提到)|无法根据资料回答"
)
# Sentences that address a model rather than a reader. An article may contain one (by accident
# or as an attack); it is never accepted as support, so obeying it cannot pass verification.
_INSTRUCTION = re.compile(
    r"忽略(?:以上|上述|之前|前面|先前|此前|所有|一切)?.{0,8}(?:指令|指示|提示|要求|规则|设定)"
    r"|(?:系统|system)\s*(?:提示|prompt)"
    r"|ignore\s+(?:all\s+|the\s+|any\s+)?(?:previous|above|prior|earlier)\s+(?:instructions?|prompts?|rules?)",
    re.I,
)


@dataclass
class Source:
    """Passage number n as numbered in the prompt, with its sentences in document order."""

    number: int
    passage: Passage
    sentences: list[Sentence]


@dataclass
class Segment:
    """Text of a claim up to a run of markers, and the passage numbers in that run."""

    text: str
    refs: list[int] = field(default_factory=list)


@dataclass
class Claim:
    """One sentence of the answer: its segments in order (the last may cite nothing)."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(seg.text for seg in self.segments)

    @property
    def refs(self) -> list[int]:
        out: list[int] = []
        for seg in self.segments:
            out.extend(r for r in seg.refs if r not in out)
        return out


@dataclass
class Verification:
    text: str  # the kept claims, markers re-numbered to index `citations`
    citations: list[Citation]
    dropped: list[str]  # one reason per dropped claim or citation
    refused: bool  # the model said the passages do not answer, and claimed nothing else

    @property
    def ok(self) -> bool:
        return bool(self.citations)


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CONTENT.findall(normalize(text)))
    chars = chars.translate(_FUNCTION_CHARS)
    return {chars[i : i + 2] for i in range(len(chars) - 1)} or ({chars} if chars else set())


def bigram_weights(texts: Sequence[str]) -> dict[str, float]:
    """Weight 1/(1+df) of each bigram over `texts`: words every passage shares (the district's
    name, the topic) say little about which passage supports a claim. Unseen bigrams weigh 1."""
    df: dict[str, int] = {}
    for text in texts:
        for g in _bigrams(text):
            df[g] = df.get(g, 0) + 1
    return {g: 1.0 / (1 + n) for g, n in df.items()}


def overlap(claim: str, sentence: str, weights: Mapping[str, float] | None = None) -> float:
    """Weighted share of the claim's character bigrams found in the sentence (0..1)."""
    want = _bigrams(claim)
    if not want:
        return 0.0
    w = weights or {}
    total = sum(w.get(g, 1.0) for g in want)
    return sum(w.get(g, 1.0) for g in want & _bigrams(sentence)) / total


def numbers(text: str) -> set[str]:
    """Numbers written with digits, normalised: full-width digits, thousands separators, 5.0 -> 5."""
    norm = unicodedata.normalize("NFKC", text)
    norm = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", norm)
    out = set()
    for n in _NUMBER.findall(norm):
        whole, _, frac = n.partition(".")
        frac = frac.rstrip("0")
        out.add((whole.lstrip("0") or "0") + (f".{frac}" if frac else ""))
    return out


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(unicodedata.normalize("NFKC", sentence)))


def split_claims(text: str) -> list[Claim]:
    """Cut `text` into sentences; each keeps the `[n]` runs where the model wrote them."""
    claims: list[Claim] = []
    cur = Claim([Segment("")])
    pos = 0
    for m in [*_MARKER.finditer(text), None]:
        chunk = text[pos : m.start() if m else len(text)]
        for ch in chunk:
            cur.segments[-1].text += ch
            if ch in _SENTENCE_END:
                claims.append(cur)
                cur = Claim([Segment("")])
        if m is None:
            break
        refs = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        target = cur
        # "……。[1]": a marker right after a sentence end belongs to that sentence.
        if not _CONTENT.search(cur.text) and claims:
            target = claims[-1]
        last = target.segments[-1]
        last.refs.extend(r for r in refs if r not in last.refs)
        if target is cur:
            cur.segments.append(Segment(""))
        pos = m.end()
    claims.append(cur)
    for claim in claims:
        claim.segments = [seg for seg in claim.segments if seg.text or seg.refs]
    return [c for c in claims if c.segments]


def _best_sentences(
    texts: list[str], source: Source, min_overlap: float, best_anywhere: float, weights: Mapping[str, float]
) -> tuple[list[tuple[Sentence, float]], str]:
    """The sentence of one passage that best supports the claim (scored on each of `texts`,
    the claim and the clause its marker closes), or an empty list and the reason."""

    def score(sentence: str) -> float:
        return max(overlap(t, sentence, weights) for t in texts)

    usable = [s for s in source.sentences if not is_instruction(s.text)]
    scored = sorted(((score(s.text), s) for s in usable), key=lambda t: (-t[0], t[1].sid))
    if not scored or scored[0][0] < min_overlap:
        if any(is_instruction(s.text) and score(s.text) >= min_overlap for s in source.sentences):
            return [], f"[{source.number}] 所依据的句子是写给模型的指令，不能作为出处"
        return [], f"[{source.number}] 中没有支持这句话的句子"
    if scored[0][0] < _RELATIVE * best_anywhere:
        return [], f"[{source.number}] 引错了资料，支持这句话的句子在另一条资料中"
    return [(scored[0][1], scored[0][0])], ""


def _complete_numbers(
    claim: str, support: list[tuple[Sentence, float, Source]], min_overlap: float, weights: Mapping[str, float]
) -> set[str]:
    """Add sentences of the cited passages that hold the claim's other numbers; return those still missing."""
    missing = numbers(claim) - set().union(*(numbers(s.text) for s, _, _ in support))
    chosen = {s.sid for s, _, _ in support}
    for source in list({src.number: src for _, _, src in support}.values()):
        for s in source.sentences:
            if not missing:
                return missing
            found = missing & numbers(s.text)
            if s.sid in chosen or not found or is_instruction(s.text):
                continue
            # Only from a sentence about the claim: news text states a year once, sentences before.
            score = overlap(claim, s.text, weights)
            if score >= min_overlap / 2:
                support.append((s, score, source))
                chosen.add(s.sid)
                missing -= numbers(s.text)
    dates = {src.passage.date[:4] for _, _, src in support if src.passage.date}
    return {n for n in missing if n not in dates}


def verify(text: str, sources: Sequence[Source], min_overlap: float = 0.3) -> Verification:
    """Keep the claims of `text` that its citations support; see the module docstring."""
    checker = _Checker(sources, min_overlap)
    parts: list[str] = []
    refused = False
    for claim in split_claims(text):
        prefix, body = _prefix_and_body(claim.text)
        if not _CONTENT.search(body):
            continue
        if not claim.refs:
            if _REFUSAL.search(body):
                refused = True
            else:
                checker.dropped.append(f"没有标注出处：“{_short(body)}”")
            continue
        sentence = checker.check(claim, body)
        if sentence is not None:
            parts.append((("\n" if parts else "") + prefix + " " if prefix else "") + sentence)
    result = "".join(parts).strip()
    if result and result[-1] in _CLAUSE_END:
        result = result[:-1] + "。"
    return Verification(
        text=result, citations=checker.citations, dropped=checker.dropped, refused=refused and not checker.citations
    )


def _prefix_and_body(raw: str) -> tuple[str, str]:
    """A claim's list bullet ("1." or "", kept as layout) and its text without bullet and preamble."""
    bullet = _BULLET.match(raw)
    prefix = bullet.group(0).strip() if bullet else ""
    return prefix, _PREAMBLE.sub("", raw[bullet.end() if bullet else 0 :].strip())


def _short(body: str) -> str:
    """The claim as quoted in a note: its first 30 characters."""
    return body if len(body) <= 30 else body[:30] + "……"


Support = list[tuple[Sentence, float, Source]]  # (sentence, overlap, the passage it is from)


class _Checker:
    """Checks claims one by one against `sources`; collects the citations and the reasons for drops."""

    def __init__(self, sources: Sequence[Source], min_overlap: float) -> None:
        self.sources = sources
        self.by_number = {s.number: s for s in sources}
        self.min_overlap = min_overlap
        self.weights = bigram_weights([s.passage.text for s in sources])
        self.usable = [x.text for src in sources for x in src.sentences if not is_instruction(x.text)]
        self.citations: list[Citation] = []
        self.cited: dict[int, int] = {}  # sentence id -> citation number
        self.dropped: list[str] = []

    def check(self, claim: Claim, body: str) -> str | None:
        """The claim with its markers re-numbered, or None (and a note) when it is not supported."""
        support, per_ref = self._support(claim, body)
        if not support:
            return None
        first_extra = len(support)
        missing = _complete_numbers(body, support, self.min_overlap, self.weights)
        if missing:
            self.dropped.append(f"数字 {'、'.join(sorted(missing))} 不在所引用的句子中：“{_short(body)}”")
            return None
        for s, _, source in support[first_extra:]:
            per_ref.setdefault(source.number, []).append(s)
        self._cite(support)
        return self._render(claim, per_ref)

    def _support(self, claim: Claim, body: str) -> tuple[Support, dict[int, list[Sentence]]]:
        """The best sentence of each cited passage that supports the claim (or the clause its marker closes)."""
        best_anywhere = max((overlap(body, t, self.weights) for t in self.usable), default=0.0)
        support: Support = []
        per_ref: dict[int, list[Sentence]] = {}
        for seg in claim.segments:
            clause = _PREAMBLE.sub("", _BULLET.sub("", seg.text).strip())
            texts = [body, clause] if _CONTENT.search(clause) and clause != body else [body]
            for n in seg.refs:
                if n in per_ref:
                    continue
                chosen = self._check_ref(n, texts, best_anywhere, body)
                if chosen:
                    per_ref[n] = [s for s, _ in chosen]
                    support.extend((s, score, self.by_number[n]) for s, score in chosen)
        return support, per_ref

    def _check_ref(self, n: int, texts: list[str], best_anywhere: float, body: str) -> list[tuple[Sentence, float]]:
        """Passage n's supporting sentence, or [] with a note saying why not."""
        source = self.by_number.get(n)
        if source is None:
            self.dropped.append(f"[{n}] 不是检索到的资料编号（共 {len(self.sources)} 条）：“{_short(body)}”")
            return []
        chosen, reason = _best_sentences(texts, source, self.min_overlap, best_anywhere, self.weights)
        if not chosen:
            self.dropped.append(f"{reason}：“{_short(body)}”")
        return chosen

    def _cite(self, support: Support) -> None:
        """Number the supporting sentences not cited yet."""
        for s, score, source in support:
            if s.sid not in self.cited:
                self.citations.append(
                    Citation(
                        sentence=s.text,
                        doc_id=s.doc_id,
                        title=source.passage.title,
                        date=source.passage.date,
                        sentence_id=s.sid,
                        passage=source.passage.text,
                        score=round(score, 4),
                    )
                )
                self.cited[s.sid] = len(self.citations)

    def _render(self, claim: Claim, per_ref: dict[int, list[Sentence]]) -> str:
        """The claim's text with each marker run replaced by the citation numbers it holds."""
        out = []
        for i, seg in enumerate(claim.segments):
            seg_text = _BULLET.sub("", seg.text, count=1).lstrip() if i == 0 else seg.text
            markers = dict.fromkeys(f"[{self.cited[s.sid]}]" for n in seg.refs for s in per_ref.get(n, []))
            stripped = seg_text.rstrip(_SENTENCE_END + _CLAUSE_END + " ")
            out.append(stripped + "".join(markers) + seg_text[len(stripped) :].strip(" "))
        return "".join(out).strip()
