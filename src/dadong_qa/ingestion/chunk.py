"""Sentences and chunks.

A sentence is the citation unit: an exact span of the cleaned article. A chunk is the
retrieval unit: a few consecutive sentences of one section, overlapping its neighbours so a
fact near a chunk border is still seen with its context.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from dadong_qa.schema import Chunk, Document, Sentence
from dadong_qa.text import WORDISH

# A sentence ends at a run of terminal punctuation plus any closing quotes or brackets.
_END = re.compile(r"[。！？!?；;…]+[”’」』）)】》\"']*|\n")
MIN_SENTENCE_CHARS = 2  # a piece with fewer content characters ("好。") is glued to the one before


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        _add_span(text, start, m.end(), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    piece = text[start:end]
    too_short = len(WORDISH.findall(piece)) < MIN_SENTENCE_CHARS
    if spans and too_short and "\n" not in text[spans[-1][1] : start]:
        spans[-1] = (spans[-1][0], end)
    elif WORDISH.search(piece):
        spans.append((start, end))


@dataclass(frozen=True)
class ChunkParams:
    sentences: int = 3
    overlap: int = 1
    max_chars: int = 400


def chunk_document(
    doc: Document, first_sid: int, first_cid: int, params: ChunkParams = ChunkParams()
) -> tuple[list[Sentence], list[Chunk]]:
    """Split `doc` into sentences and chunks, numbering them from the given ids."""
    heading_starts = [off for off, _ in doc.headings]
    heading_spans = {(off, off + len(h)) for off, h in doc.headings}

    sentences: list[Sentence] = []
    sections: list[list[Sentence]] = []
    section_heading: list[str | None] = []
    current_heading: str | None = None
    for start, end in split_sentences(doc.text):
        if (start, end) in heading_spans:
            continue
        i = bisect.bisect_right(heading_starts, start) - 1
        heading = doc.headings[i][1] if i >= 0 else None
        s = Sentence(first_sid + len(sentences), doc.doc_id, start, end, doc.text[start:end])
        sentences.append(s)
        if not sections or heading != current_heading:
            sections.append([])
            section_heading.append(heading)
            current_heading = heading
        sections[-1].append(s)

    step = max(1, params.sentences - params.overlap)
    chunks: list[Chunk] = []
    for heading, section in zip(section_heading, sections, strict=True):
        i = 0
        while i < len(section):
            group = [section[i]]
            for s in section[i + 1 : i + params.sentences]:
                if sum(len(g.text) for g in group) + len(s.text) > params.max_chars:
                    break
                group.append(s)
            chunks.append(
                Chunk(
                    cid=first_cid + len(chunks),
                    doc_id=doc.doc_id,
                    sentence_ids=[s.sid for s in group],
                    text=doc.text[group[0].start : group[-1].end],
                    heading=heading,
                )
            )
            if i + len(group) >= len(section):
                break
            i += min(step, len(group))
    return sentences, chunks
