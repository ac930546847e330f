"""The neighbours a why / how / which-ones answer cannot be read without, cited beside it.

Such a question's explanation or list seldom fits in the one sentence the reader chose:
- a sentence that opens by pointing back ("因此，…被列为易制毒化学品", "在此背景下，…", "但…",
  "此时…") states a consequence whose cause, or a turn whose first half, is the sentence before:
  asked "为什么…受到严格管制？", the reason is there;
- the sentence after it carries the explanation on where it opens with a word that continues
  ("此外，…", "由于…", "然而…", "二是…") or speaks of what was asked (holds `MIN_TERMS` of the
  question's terms and `MIN_SHARE` of their weight: a news paragraph's next sentence is often
  another matter);
- so do the pieces after a semicolon, up to the full stop, and all of them where the answer piece
  opens a list with a colon ("其职能有四个方面：一是…；"). News writes parallel clauses of one
  sentence about different things ("…一应俱全；在…施工现场…；在各大产业园区…"): those stay out.
A factoid question's answer stands alone: on CMRC trial, neighbours for every kind of question
lengthened 207 of 453 answers (mean 64.7 -> 81.7 characters) and made 4 of them right.
Only neighbours in the same paragraph join, and only beside the first answer sentence. They are
cited verbatim like any other, marked `context`, and decide nothing: whether to answer, and with
which sentence, is answer.py's. A why answer whose sentence points back has no short answer: a span
of the consequence is not the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dadong_qa.answering.evidence import SentenceStore
from dadong_qa.retrieval.query import Query
from dadong_qa.text import normalize

_OPENING_MARKS = "“‘「『（(【《\"' \u3000"
# Words that open a sentence by pointing at the one before it: consequence, contrast, sequence.
BACK_REFERENCE = re.compile(
    r"(?:因此|因而|所以|于是|故而|由此|为此|在此|对此|鉴于此|此后|此时|这时|那时|随后|结果|"
    r"但|然而|不过|可是|后来|最终|最后|同时|而)"
)
# Words that open a sentence carrying on the one before it: cause, addition, contrast, sequence,
# example, the next item of a list.
CARRIES_ON = re.compile(
    r"(?:由于|因为|因此|所以|因而|另外|此外|另一|除此之外|同时|而且|并且|不久|随后|之后|此后|最终|最后|"
    r"然而|但|不过|相反|其中|例如|比如|包括|尤其|特别是|"
    r"[二三四五六七八九十]是|其[二三四五六七八九十]|第[二三四五六七八九十])"
)
_SEMICOLON = re.compile(r"[；;]\s*$")
_COLON = re.compile(r"[：:]")
MAX_PIECES = 4  # pieces of one written sentence that may follow a semicolon
# What a next sentence must hold of the question's terms to carry an explanation on: a share of
# their IDF weight ("大东区为什么要建设口袋公园？"'s next sentence holds 0.09, through 建设) and more
# than one of them (the subject alone is no explanation: "华晨宝马有哪些新车型上市？" drew in the next
# sentence's 37 projects at 宝马's supplier park).
MIN_SHARE = 0.15
MIN_TERMS = 2


@dataclass(frozen=True)
class Context:
    """The neighbours to cite with an answer sentence, in the article's order."""

    before: tuple[int, ...] = ()
    after: tuple[int, ...] = ()

    def cited(self, chosen: list[int]) -> list[int]:
        """The sentences to cite: the first chosen one amid its neighbours, then the other chosen
        ones (a neighbour that was chosen anyway is cited where it stands, as an answer)."""
        order = [*self.before, chosen[0], *self.after]
        return order + [s for s in chosen if s not in order]


def _opens_with(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.match(text.lstrip(_OPENING_MARKS)) is not None


def _speaks_of(text: str, weights: Mapping[str, float]) -> bool:
    """Whether `text` holds `MIN_TERMS` of the question's terms and `MIN_SHARE` of their weight."""
    total = sum(weights.values())
    plain = normalize(text)
    held = [w for t, w in weights.items() if t in plain]
    return total > 0 and len(held) >= MIN_TERMS and sum(held) / total >= MIN_SHARE


class ContextFinder:
    """Finds an answer sentence's neighbours in its paragraph (`SentenceStore`)."""

    def __init__(self, store: SentenceStore) -> None:
        self.store = store

    def around(self, query: Query, sid: int, weights: Mapping[str, float]) -> Context:
        """`weights`: the question's terms by IDF weight (EvidenceGatherer.term_weights)."""
        if not (query.asks_reason or query.asks_list):
            return Context()
        paragraph = self._paragraph(sid)
        at = paragraph.index(sid)
        texts = [self.store.sentences[s].text for s in paragraph]
        before = (paragraph[at - 1],) if at > 0 and _opens_with(BACK_REFERENCE, texts[at]) else ()
        lists = _COLON.search(texts[at]) is not None
        after: list[int] = []
        end = at
        while end + 1 < len(paragraph) and len(after) < MAX_PIECES:
            cut = _SEMICOLON.search(texts[end]) is not None
            nxt = texts[end + 1]
            if not ((cut and lists) or _opens_with(CARRIES_ON, nxt) or _speaks_of(nxt, weights)):
                break
            end += 1
            after.append(paragraph[end])
            if not cut:  # one sentence after the full stop, no more
                break
        return Context(before, tuple(after))

    def _paragraph(self, sid: int) -> list[int]:
        """The ids of the sentences in `sid`'s paragraph (no line break between them), in order."""
        sentence = self.store.sentences[sid]
        doc = self.store.doc_meta(sentence.doc_id)
        ids = self.store.doc_sentence_ids(sentence.doc_id)
        at = ids.index(sid)
        first, last = at, at
        while first > 0 and not self._broken(doc.text, ids[first - 1], ids[first]):
            first -= 1
        while last + 1 < len(ids) and not self._broken(doc.text, ids[last], ids[last + 1]):
            last += 1
        return ids[first : last + 1]

    def _broken(self, text: str, left: int, right: int) -> bool:
        """Whether a line break (a paragraph's end) stands between two consecutive sentences."""
        return "\n" in text[self.store.sentences[left].end : self.store.sentences[right].start]
