"""The build pipeline: articles -> sentences and chunks -> vectors and BM25 term counts -> one segment.

Nothing here touches disk or the live index: `build_segment` returns what `Index.with_documents`
adds, so a failure on the way leaves the index as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dadong_qa.embed import Embedder, pooled
from dadong_qa.ingestion.chunk import ChunkParams, chunk_document
from dadong_qa.ingestion.near_dup import signature
from dadong_qa.schema import Chunk, Document, Sentence
from dadong_qa.text import normalize, tokenize, vocab_words

from .backends import SegmentRows
from .keyword import KeywordSegment
from .records import DocRecord, Progress, Segment, paragraph_hashes, segment_name

# (article, paragraphs dropped as duplicates[, hashed keys of those paragraphs])
NewDocument = tuple[Document, int] | tuple[Document, int, frozenset[int]]


@dataclass
class SegmentBatch:
    """One new segment with everything the index adds for it."""

    segment: Segment
    records: dict[str, DocRecord]
    sentences: list[Sentence]
    chunks: list[Chunk]
    rows: SegmentRows | None  # vectors for the backend; set to None once handed over (memory at 100k)
    next_sid: int
    next_cid: int


def build_segment(
    docs: Sequence[NewDocument],
    embedder: Embedder,
    params: ChunkParams,
    next_sid: int,
    next_cid: int,
    known_words: set[str],
    progress: Progress | None = None,
) -> SegmentBatch:
    """Chunk, embed and tokenise `docs` as one segment; ids start at `next_sid` / `next_cid`."""
    name = segment_name()
    records, sentences, chunks = _chunk_documents(docs, name, params, next_sid, next_cid)
    chunk_texts = [normalize(c.search_text) for c in chunks]
    cvec, svec = _embed(chunks, sentences, embedder, progress)
    found: set[str] = set()
    keywords = KeywordSegment.from_tokens(_tokens(chunks, sentences, found, progress))
    if progress:
        progress("index", 0, 1)
    words, word_vectors = _new_words(found, known_words, embedder)
    chunk_ids = np.array([c.cid for c in chunks], dtype=np.int64)
    sentence_ids = np.array([s.sid for s in sentences], dtype=np.int64)
    rows = SegmentRows(
        chunk_ids=chunk_ids,
        chunk_vectors=cvec,
        chunk_texts=chunk_texts,
        chunk_doc_ids=[c.doc_id for c in chunks],
        sentence_ids=sentence_ids,
        sentence_vectors=svec,
        sentence_doc_ids=[s.doc_id for s in sentences],
    )
    del cvec, svec, chunk_texts  # `rows` holds them now; a backend may release them (memory at 100k)
    segment = Segment(name, chunk_ids, sentence_ids, keywords, words=words, word_vectors=word_vectors)
    return SegmentBatch(segment, records, sentences, chunks, rows, next_sid + len(sentences), next_cid + len(chunks))


def _chunk_documents(
    docs: Sequence[NewDocument], seg_name: str, params: ChunkParams, next_sid: int, next_cid: int
) -> tuple[dict[str, DocRecord], list[Sentence], list[Chunk]]:
    """Sentences and chunks of every article, numbered on from the given ids, and their records."""
    all_sentences: list[Sentence] = []
    all_chunks: list[Chunk] = []
    records = {}
    for item in docs:
        doc, dropped = item[0], item[1]
        dropped_keys = item[2] if len(item) > 2 else (frozenset() if not dropped else None)
        sentences, chunks = chunk_document(doc, next_sid, next_cid, params)
        next_sid += len(sentences)
        next_cid += len(chunks)
        records[doc.doc_id] = DocRecord(
            doc,
            [s.sid for s in sentences],
            [c.cid for c in chunks],
            dropped,
            seg_name,
            paragraph_hashes(doc),
            dropped_keys,
            signature(doc.text),
        )
        all_sentences += sentences
        all_chunks += chunks
    return records, all_sentences, all_chunks


def _embed(
    chunks: list[Chunk], sentences: list[Sentence], embedder: Embedder, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence vectors: the sentences (and section headings) go through the encoder, each
    distinct text once; a chunk's vector is the normalised mean of its sentences' (and heading's).

    Encoding the chunks as well was more than half of the encoder's work (overlapping chunks hold
    1.25-1.5 times the sentences' text) and gave no better retrieval: on the open-domain sets and the dev set the
    mean of the sentence vectors scored the same or better (docs/benchmarks.md, "Chunk vectors").
    """
    texts = [normalize(s.text) for s in sentences]
    headings = sorted({normalize(c.heading) for c in chunks if c.heading})
    distinct = list(dict.fromkeys([*texts, *headings]))  # a repeated sentence is encoded once
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embed", done, len(distinct))

    table = _without_gc(embedder.encode, distinct, progress=step)
    row = {t: i for i, t in enumerate(distinct)}
    of_sentence = {s.sid: row[t] for s, t in zip(sentences, texts, strict=True)}
    svec = table[[of_sentence[s.sid] for s in sentences]] if sentences else table[:0]
    groups = [
        [of_sentence[sid] for sid in c.sentence_ids] + ([row[normalize(c.heading)]] if c.heading else [])
        for c in chunks
    ]
    return pooled(table, groups), svec


def _without_gc(fn: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    """`fn` with Python's cyclic garbage collector paused: encoding allocates many short-lived
    arrays, and each collection walks every object of a large build (measured below)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def _tokens(
    chunks: list[Chunk], sentences: list[Sentence], words: set[str], progress: Progress | None
) -> Iterator[list[str]]:
    """BM25 tokens of each chunk, in order, from one jieba cut per sentence; the article words
    (for the vocabulary) are collected into `words` from the same cut.

    A chunk's tokens are its heading's and its sentences' (the same counts as cutting the chunk's
    text: checked on 16,576 CMRC, DRCD, seed and synthetic chunks). Overlapping chunks share
    sentences, which were cut twice, and the vocabulary cut every sentence once more.
    """
    text_of = {s.sid: s.text for s in sentences}
    recent: dict[int, list[str]] = {}  # the previous chunk's sentences: chunks overlap, in order
    for i, c in enumerate(chunks):
        own = {sid: recent.get(sid) or _sentence_tokens(text_of[sid], words) for sid in c.sentence_ids}
        yield (tokenize(c.heading) if c.heading else []) + [t for sid in c.sentence_ids for t in own[sid]]
        recent = own
        if progress and (i % 256 == 255 or i == len(chunks) - 1):
            progress("tokenize", i + 1, len(chunks))


def _sentence_tokens(text: str, words: set[str]) -> list[str]:
    tokens = tokenize(text)
    words |= vocab_words(text)  # the same normalised text and jieba cut: both cached
    return tokens


def _new_words(found: set[str], known_words: set[str], embedder: Embedder) -> tuple[list[str], np.ndarray]:
    """Article words the index has not seen yet, with their vectors (float16, for query expansion)."""
    words = sorted(found - known_words)
    if not words:
        return words, np.zeros((0, embedder.dim), dtype=np.float16)
    return words, _without_gc(embedder.encode, words).astype(np.float16)
