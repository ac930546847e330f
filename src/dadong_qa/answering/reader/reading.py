"""What the reader is given and gives back, and the arithmetic of its decision, without torch.

Importing the package loads only this module: torch (1.4 s of the CLI's 3.2 s start-up) is
imported when the reader is first loaded (`load_reader`), so `dadong-qa status`, `list`, `build`,
`add` and `remove`, which never read, do not pay for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class E5Error(RuntimeError):
    """The e5 weights file is missing or not in the expected format."""


class ReaderError(RuntimeError):
    """The reader's weights cannot be used; the message names the file and says why."""


@dataclass(frozen=True)
class ReaderInput:
    """What the reader reads for one candidate sentence."""

    question: str
    sentence: str
    before: str = ""  # the sentence before it in its article ("" for the first)
    title: str = ""


def listwise(scores: list[float]) -> list[float]:
    """Softmax over a shortlist's scores and "none of them" (score 0), as the reader was trained."""
    top = max(0.0, *scores)
    exps = [math.exp(s - top) for s in scores]
    total = math.exp(-top) + sum(exps)
    return [e / total for e in exps]


def log_odds(p: float) -> float:
    """A probability (clipped to 1e-4..1-1e-4) as a logit, to add to the reader's."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Blend:
    """What the softmax over a shortlist reads for each sentence: the reader's logit, plus
    `policy_weight` times the answer policy's log-odds, plus `span_weight` times the best span's
    score counted from `span_center` (nothing when the span head found no span)."""

    policy_weight: float = 1.0
    span_weight: float = 0.0
    span_center: float = 0.0

    def score(self, logit: float, policy: float, span: float | None) -> float:
        score = logit + (self.policy_weight * log_odds(policy) if self.policy_weight else 0.0)
        if self.span_weight and span is not None:
            score += self.span_weight * (span - self.span_center)
        return score


@dataclass(frozen=True)
class SpanGuess:
    start: int  # character offsets in the sentence
    end: int
    score: float  # start + end logit


@dataclass(frozen=True)
class Reading:
    logit: float
    probability: float  # P(this sentence is the answer), listwise
    spans: tuple[SpanGuess, ...]  # best first; start <= end, inside the sentence
