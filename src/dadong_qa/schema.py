"""Dataclasses passed between pipeline stages.

Every stage takes and returns these plain objects, so a stage can be tested or replaced
without knowing how the others work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Document:
    """A cleaned article, ready to be split into sentences."""

    doc_id: str
    title: str
    text: str  # cleaned body: paragraphs joined by "\n"
    date: str | None = None  # ISO "YYYY-MM-DD" when known
    author: str | None = None
    source: str | None = None
    path: str | None = None  # file name inside the corpus folder
    sha256: str = ""  # hash of the raw file bytes, to detect changes
    headings: list[tuple[int, str]] = field(default_factory=list)  # (char offset, heading)
    pages: list[tuple[int, int]] = field(default_factory=list)  # PDF: (char offset, page from 1) where a page starts
    url: str | None = None  # the web address it was fetched from (add by URL or feed)
    aliases: list[str] = field(default_factory=list)  # other sources of the same story (near-duplicates)
    alias_paths: list[str] = field(default_factory=list)  # their files in the corpus folder


@dataclass
class Sentence:
    """One citation unit: text[start:end] of its document, verbatim."""

    sid: int  # global id, also the sentence's id in the dense sentence index
    doc_id: str
    start: int
    end: int
    text: str


@dataclass
class Chunk:
    """A retrieval unit: consecutive sentences of one document."""

    cid: int  # global id, also the chunk's id in FAISS and BM25
    doc_id: str
    sentence_ids: list[int]
    text: str  # the sentences' text as it stands in the document
    heading: str | None = None  # nearest section heading above the chunk

    @property
    def search_text(self) -> str:
        # The heading tells what the section is about; it helps paraphrased questions
        # without becoming part of any cited sentence.
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass
class Passage:
    """A retrieved chunk with its fused score (higher is better) and score parts."""

    text: str
    doc_id: str
    score: float
    chunk_id: int = -1
    title: str = ""
    date: str | None = None
    dense: float = 0.0
    bm25: float = 0.0
    rerank: float | None = None  # cross-encoder score when a reranker is configured
    sentence_ids: list[int] = field(default_factory=list)


@dataclass
class Citation:
    """A source sentence quoted verbatim, with where it comes from."""

    sentence: str
    doc_id: str
    title: str
    date: str | None
    sentence_id: int = -1
    passage: str = ""  # surrounding chunk text, for showing the sentence in context
    score: float = 0.0
    page: int | None = None  # PDF page (from 1) of the sentence
    url: str | None = None  # the article's web address, when it was added from one
    aliases: list[str] = field(default_factory=list)  # other sources that published the same story
    # The period the sentence's figures cover ("2022年", "2022年1-8月", "时间不详"), when it has any.
    period: str | None = None
    # A neighbour cited so that the answer sentence beside it reads whole (answering/context.py):
    # the cause before a "因此，…", the rest of an explanation. Not itself read as an answer.
    context: bool = False


@dataclass
class Claim:
    """One side of a conflict: a figure as one article gives it."""

    figure: str  # verbatim span ("940亿元")
    citation: int  # its sentence's number in Answer.citations (from 1)
    doc_id: str
    title: str
    date: str | None


@dataclass
class Conflict:
    """Articles giving different figures for the same quantity, place, period and kind."""

    quantity: str  # what both measure ("地区生产总值")
    period: str  # the period both cover, in words ("2022年")
    claims: list[Claim]


@dataclass
class AnswerPart:
    """One part of a multi-part question ("A和B分别是多少"), answered or not on its own."""

    question: str  # the part as a standalone question
    answered: bool
    short: str | None = None
    citations: list[int] = field(default_factory=list)  # numbers in Answer.citations (from 1)
    period: str | None = None  # the period its figure covers, as Answer.period


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    question: str = ""
    rewritten_question: str | None = None  # standalone form of a follow-up question
    # For a factoid question: the span of the first cited sentence that answers it ("940亿元"),
    # verbatim; None for other questions, refusals, or when no span is probable enough.
    short: str | None = None
    # Sources give different figures for the same thing: what and who (falsy when they agree).
    conflict: Conflict | None = None
    # The parts of a multi-part question, each answered or not; empty for a one-part question.
    parts: list[AnswerPart] = field(default_factory=list)
    # The period the short answer's figure covers ("2022年全年"): said when the question names none.
    period: str | None = None
    confidence: float = 0.0  # support score the refusal decision was made on
    notes: list[str] = field(default_factory=list)  # what happened on the way, for the user to see
    generator: str = "extractive"  # what wrote `text`: "extractive", "openai" or "transformers"
    fallback: bool = False  # the configured generator failed and the extractive answer stands in
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChangeReport:
    """What a corpus change did, for the CLI and the UI."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # read, but every paragraph already indexed (notes say where)
    errors: list[str] = field(default_factory=list)  # files or ids that could not be done
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # done, but not as asked: near-copies folded, ids changed
