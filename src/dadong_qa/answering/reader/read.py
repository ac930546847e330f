"""The reader at question time: a shortlist of candidate sentences in, a reading of each out.

`Reader.read` encodes the question with each candidate (title, sentence before, sentence), runs
the network once over the batch and returns, per candidate, its answer logit, its probability of
being *the* answer (a softmax over the shortlist plus "none of them", as it was trained: the
probabilities of the candidates and of "none" add up to one), and the best short-answer spans the
span head finds inside the sentence.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import torch

from dadong_qa.answering.reader.e5 import Tokenizer, load_file
from dadong_qa.answering.reader.model import (
    Batch,
    Limits,
    ReaderNet,
    Row,
    best_span,
    encode,
    fast_math,
)
from dadong_qa.answering.reader.reading import ReaderInput, Reading, SpanGuess, listwise
from dadong_qa.answering.reader.weights import MODEL_DIR, load_reader

N_SPANS = 5  # spans kept per candidate, for the short answer's type check to choose among


class Reader:
    def __init__(self, net: ReaderNet, meta: dict, source: Path) -> None:
        self.net = net
        self.meta = meta
        self.source = source
        self.tokenizer = Tokenizer(load_file())
        config = meta.get("config", {})
        self.limits = Limits(max_len=int(config.get("max_len", Limits.max_len)))
        self.max_pieces = int(config.get("max_pieces", 24))
        # Threads share the network read-only; torch's intra-op pool serves one batch at a time.
        self._lock = threading.Lock()

    def read(self, items: list[ReaderInput], long_spans: bool = False) -> list[Reading]:
        """One reading per item, in order; the items are one question's shortlist. `long_spans`
        lets a span run the whole sentence, for why / how questions: on the gold sentence the
        uncapped span's F1 is 0.58 (DRCD) / 0.75 (CMRC trial) against 0.61 / 0.65 capped at
        `max_pieces`, which suits factoid answers."""
        if not items:
            return []
        rows = [encode(self.tokenizer, item, self.limits) for item in items]
        with self._lock, torch.inference_mode(), fast_math():
            answer, start, end = (t.float() for t in self.net(Batch.of(rows)))
        logits = [float(x) for x in answer]
        probs = listwise(logits)
        cap = self.limits.max_len if long_spans else self.max_pieces
        return [Reading(logits[i], probs[i], self._spans(start[i], end[i], rows[i], cap)) for i in range(len(rows))]

    def _spans(self, start: torch.Tensor, end: torch.Tensor, row: Row, max_pieces: int) -> tuple[SpanGuess, ...]:
        """The N_SPANS best spans: the best pair, then the best pair left once each found one is
        ruled out (masking its start), so alternatives start elsewhere in the sentence."""
        if not row.spans:
            return ()
        out, start = [], start.clone()
        for _ in range(min(N_SPANS, len(row.spans))):
            pick = best_span(start, end, row, max_pieces)
            if pick.score == float("-inf"):
                break
            out.append(SpanGuess(pick.start, pick.end, pick.score))
            start[row.first + pick.first] = float("-inf")
        return tuple(out)


def load(folder: str = "", threads: int = 0) -> Reader:
    """The reader whose weights are in `folder` ("" = the shipped ones), loaded once per process.
    `threads` > 0 sets torch's intra-op threads (for the whole process: the reader is its only
    torch user at question time)."""
    if threads > 0:
        torch.set_num_threads(threads)
    return _load(folder)


@lru_cache(maxsize=4)
def _load(folder: str) -> Reader:
    path = Path(folder) if folder else MODEL_DIR
    net, meta = load_reader(path)
    return Reader(net, meta, path)
