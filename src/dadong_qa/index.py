"""The index: articles, sentences and chunks, their vectors and a BM25 keyword index.

Layout of `index/`:

    CURRENT              name of the live version folder (replaced atomically)
    .lock                writers hold an exclusive lock on it
    v-<time>-<rand>/     one complete version:
        manifest.json    schema, embedder, chunking, backend, segments, removed ids, per-file sha256
        seg-<id>/        one immutable segment: the articles added by one change
            docs.jsonl   articles: metadata, cleaned text, sentence spans, chunks
            ids.npz      chunk and sentence ids, in row order
            tf.npz, vocab.json        BM25 term counts per chunk (the stored tokens)
            chunks.faiss, sentences.faiss   vectors (FAISS backend only)

A change adds one segment (the new articles only: nothing old is embedded or tokenised again)
and records removed chunk and sentence ids; a new version folder hard-links the unchanged
segment files of the previous version, so its cost does not grow with the corpus, and the
manifest carries their checksums over. Small segments are merged once there are more than
`MAX_SEGMENTS`, and all segments once removed rows pass `MAX_DEAD_SHARE`. CURRENT is swapped
last, so a reader sees the old index or the new one, never a mix, and a crash or an interrupted
build leaves the old one intact. Nothing is pickled: JSON, numpy (allow_pickle=False), FAISS.

With the Milvus backend the vectors and the BM25 index live in Milvus collections instead of
the FAISS files; everything else stays here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .backends import SegmentRows, VectorBackend, load_backend, new_backend
from .chunk import ChunkParams, chunk_document
from .embed import Embedder
from .ingest import shared_keys
from .keyword import KeywordSegment, KeywordStats, length_norms, score
from .near_dup import signature
from .schema import Chunk, Document, Sentence
from .text import normalize, tokenize, vocab_words

SCHEMA_VERSION = 2
POINTER = "CURRENT"
LOCK = ".lock"
REBUILD_HINT = "Rebuild it with: dadong-qa build"
MAX_SEGMENTS = 8  # more than this: merge all but the largest
MAX_DEAD_SHARE = 0.25  # removed rows above this share of all rows: merge everything
DENSE_SLACK = 8  # extra neighbours fetched, as a backend may hold rows newer than this version


class IndexStoreError(RuntimeError):
    """The index is missing, damaged, locked or does not match the settings."""


class IndexMissingError(IndexStoreError):
    pass


class IndexMismatchError(IndexStoreError):
    pass


class IndexCorruptError(IndexStoreError):
    pass


class IndexLockedError(IndexStoreError):
    pass


Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class DocRecord:
    doc: Document
    sentence_ids: list[int]
    chunk_ids: list[int]
    dropped_shared: int = 0  # paragraphs left out because another article has them
    segment: str = ""  # the segment holding it
    para_keys: frozenset[int] | None = None  # hashed shared_keys(doc), stored so no update recomputes them
    dropped_keys: frozenset[int] | None = None  # hashed keys of the dropped paragraphs (None: unknown)
    signature: np.ndarray | None = None  # MinHash of the text, for near-duplicates (None: not stored)


def _hash_key(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def paragraph_hashes(doc: Document) -> frozenset[int]:
    return frozenset(_hash_key(k) for k in shared_keys(doc))


class ParagraphKeys:
    """Paragraph keys of many articles as 63-bit hashes; usable as the `seen` set of `dedupe_across`.

    Building the set of every article's paragraph keys costs seconds at 100k chunks (each
    paragraph normalised again); the hashes are computed once, when an article is added.
    """

    def __init__(self, hashes: Iterable[int] = ()) -> None:
        self._hashes = set(hashes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _hash_key(key) in self._hashes

    def __ior__(self, keys: Iterable[str]) -> ParagraphKeys:
        self._hashes.update(_hash_key(k) for k in keys)
        return self

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def hashes(self) -> frozenset[int]:
        return frozenset(self._hashes)


@dataclass(eq=False)
class Segment:
    """Articles added together, with the term counts of their chunks; never changed once made."""

    name: str
    chunk_ids: np.ndarray  # keyword rows, in order
    sentence_ids: np.ndarray
    keywords: KeywordSegment
    files: dict[str, str] = field(default_factory=dict)  # written files (relative) -> sha256
    # Corpus words first seen in this segment, with their vectors (for query expansion).
    words: list[str] = field(default_factory=list)
    word_vectors: np.ndarray | None = None  # float16, one row per word

    def vectors_of_words(self, dim: int) -> np.ndarray:
        if self.word_vectors is None or not len(self.words):
            return np.zeros((0, dim), dtype=np.float16)
        return self.word_vectors


@dataclass
class Index:
    """One immutable version of the index, in memory. Changes return a new `Index`."""

    embedder_name: str
    dim: int
    params: ChunkParams
    docs: dict[str, DocRecord] = field(default_factory=dict)
    sentences: dict[int, Sentence] = field(default_factory=dict)
    chunks: dict[int, Chunk] = field(default_factory=dict)
    backend: VectorBackend | None = None
    segments: list[Segment] = field(default_factory=list)
    stats: KeywordStats = field(default_factory=KeywordStats)
    dead_chunks: frozenset[int] = frozenset()
    dead_sentences: frozenset[int] = frozenset()
    next_sid: int = 0
    next_cid: int = 0
    built_at: str = ""
    updated_at: str = ""
    version: str = ""
    # Words of the articles with their vectors, to find corpus words close in meaning to a
    # question word the articles never use ("绿化" -> "绿地"). Stored per segment.
    vocab: list[str] = field(default_factory=list)
    vocab_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float16))
    _vocab32: np.ndarray | None = field(default=None, repr=False)
    _rows: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _norms: list[np.ndarray] | None = field(default=None, repr=False)

    # ------------------------------------------------------------ queries

    @property
    def n_docs(self) -> int:
        return len(self.docs)

    @property
    def backend_kind(self) -> str:
        return self.backend.kind if self.backend is not None else "faiss"

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = False) -> list[tuple[int, float]]:
        """(id, cosine) of the `k` nearest chunks (or sentences)."""
        live = self.sentences if sentences else self.chunks
        if self.backend is None or not live or k <= 0:
            return []
        hits = self.backend.search(np.asarray(vector, dtype=np.float32), k + DENSE_SLACK, sentences)
        return [(i, s) for i, s in hits if i in live][:k]

    def bm25_scores(self, query_tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 scores); a chunk left out, or with score 0, matches no query token.

        FAISS backend: every live chunk, scored here. Milvus: Milvus's own BM25 (jieba analyzer)
        top hits only.
        """
        if self.backend is not None and self.chunks:
            found = self.backend.keyword_search(" ".join(query_tokens), limit=max(200, 4 * len(query_tokens)))
            if found is not None:
                ids, scores = found
                keep = np.array([int(i) in self.chunks for i in ids], dtype=bool)
                return ids[keep] if len(ids) else ids, scores[keep] if len(ids) else scores
        ids, alive = self._row_ids()
        if not len(ids):
            return ids, np.zeros(0, dtype=np.float32)
        segments = [s.keywords for s in self.segments]
        if self._norms is None:
            self._norms = length_norms(segments, self.stats)
        parts = score(query_tokens, segments, self.stats, self._norms)
        return ids[alive], np.concatenate(parts)[alive]

    def _row_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk id of every keyword row across segments, and which rows are live."""
        if self._rows is None:
            ids = np.concatenate([s.chunk_ids for s in self.segments]) if self.segments else np.zeros(0, dtype=np.int64)
            dead = np.fromiter(self.dead_chunks, dtype=np.int64, count=len(self.dead_chunks))
            self._rows = (ids, ~np.isin(ids, dead))
        return self._rows

    def has_term(self, term: str) -> bool:
        """Whether a BM25 token (word or character bigram) occurs in any chunk."""
        return term in self.stats.df

    def neighbours(self, vectors: np.ndarray, k: int = 5, min_cos: float = 0.6) -> list[list[tuple[str, float]]]:
        """For each query vector, up to `k` article words with cosine >= `min_cos`, best first."""
        if not len(self.vocab) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        if self._vocab32 is None:
            self._vocab32 = self.vocab_vectors.astype(np.float32)
        sims = np.asarray(vectors, dtype=np.float32) @ self._vocab32.T
        out = []
        for row in sims:
            top = np.argpartition(-row, min(k, len(row) - 1))[:k]
            out.append(sorted(((self.vocab[i], float(row[i])) for i in top if row[i] >= min_cos), key=lambda t: -t[1]))
        return out

    def idf(self, term: str) -> float:
        """Inverse chunk frequency of a BM25 token; unseen terms get the maximum."""
        return self.stats.idf(term)

    def sentence_vectors(self, sids: list[int]) -> np.ndarray:
        """Stored vectors of these sentences, one row each."""
        if not sids or self.backend is None:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.backend.vectors([int(s) for s in sids], sentences=True)

    def chunk_vectors(self, cids: list[int]) -> np.ndarray:
        """Stored vectors of these chunks, one row each."""
        if not cids or self.backend is None:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.backend.vectors([int(c) for c in cids], sentences=False)

    def doc_meta(self, doc_id: str) -> Document:
        return self.docs[doc_id].doc

    def doc_sentence_ids(self, doc_id: str) -> list[int]:
        return self.docs[doc_id].sentence_ids

    def chunk_heading(self, cid: int) -> str | None:
        chunk = self.chunks.get(cid)
        return chunk.heading if chunk is not None else None

    def signature_of(self, doc_id: str) -> np.ndarray:
        """The article's MinHash signature (computed once for indexes written before they were stored)."""
        rec = self.docs[doc_id]
        if rec.signature is None:
            rec.signature = signature(rec.doc.text)
        return rec.signature

    def paragraph_keys(self, exclude: Iterable[str] = ()) -> ParagraphKeys:
        """The shared-paragraph keys of all articles but `exclude`, for cross-article de-duplication."""
        skip = set(exclude)
        out = ParagraphKeys()
        for doc_id, rec in self.docs.items():
            if doc_id not in skip:
                if rec.para_keys is None:  # written by an older version of this program
                    rec.para_keys = paragraph_hashes(rec.doc)
                out._hashes.update(rec.para_keys)
        return out

    def chunks_of_sentence(self, sid: int) -> list[int]:
        """Ids of the chunks that contain sentence `sid` (without scanning every chunk)."""
        sentence = self.sentences.get(sid)
        if sentence is None:
            return []
        rec = self.docs[sentence.doc_id]
        return [c for c in rec.chunk_ids if sid in self.chunks[c].sentence_ids]

    # ------------------------------------------------------------ changes

    @classmethod
    def empty(
        cls,
        embedder: Embedder,
        params: ChunkParams,
        backend: str = "faiss",
        uri: str = "",
        index_dir: str | Path = "index",
    ) -> Index:
        now = _now()
        return cls(
            embedder_name=embedder.name,
            dim=embedder.dim,
            params=params,
            backend=new_backend(backend, embedder.dim, uri, Path(index_dir)),
            built_at=now,
            updated_at=now,
        )

    def with_documents(
        self,
        docs: Sequence[tuple[Document, int] | tuple[Document, int, frozenset[int]]],
        embedder: Embedder,
        progress: Progress | None = None,
    ) -> Index:
        """A new index with `docs` added as one segment; an article with an existing doc_id is replaced.

        Each item is (article, paragraphs dropped as duplicates[, hashed keys of those paragraphs]).
        """
        self._check_embedder(embedder)
        new = self._without({item[0].doc_id for item in docs})
        if not docs:
            new.updated_at = _now()
            return new
        seg_name = _segment_name()
        all_sentences: list[Sentence] = []
        all_chunks: list[Chunk] = []
        records = {}
        for item in docs:
            doc, dropped = item[0], item[1]
            dropped_keys = item[2] if len(item) > 2 else (frozenset() if not dropped else None)
            sentences, chunks = chunk_document(doc, new.next_sid, new.next_cid, self.params)
            new.next_sid += len(sentences)
            new.next_cid += len(chunks)
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
        total = len(all_sentences) + len(all_chunks)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("embed", done, total)

        chunk_texts = [normalize(c.search_text) for c in all_chunks]
        cvec = embedder.encode(chunk_texts, progress=step)
        svec = embedder.encode([normalize(s.text) for s in all_sentences], progress=step)

        def tokens() -> Iterator[list[str]]:
            for i, c in enumerate(all_chunks):
                yield tokenize(c.search_text)
                if progress and (i % 256 == 255 or i == len(all_chunks) - 1):
                    progress("tokenize", i + 1, len(all_chunks))

        keywords = KeywordSegment.from_tokens(tokens())
        if progress:
            progress("index", 0, 1)
        known = set(self.vocab)
        words = sorted({w for s in all_sentences for w in vocab_words(s.text)} - known)
        word_vectors = embedder.encode(words).astype(np.float16) if words else np.zeros((0, self.dim), dtype=np.float16)
        chunk_ids = np.array([c.cid for c in all_chunks], dtype=np.int64)
        sentence_ids = np.array([s.sid for s in all_sentences], dtype=np.int64)
        rows = SegmentRows(
            chunk_ids=chunk_ids,
            chunk_vectors=cvec,
            chunk_texts=chunk_texts,
            chunk_doc_ids=[c.doc_id for c in all_chunks],
            sentence_ids=sentence_ids,
            sentence_vectors=svec,
            sentence_doc_ids=[s.doc_id for s in all_sentences],
        )
        del cvec, svec, chunk_texts  # `rows` holds them now; a backend may release them (memory at 100k)
        new.backend = new.backend.with_segment(seg_name, rows)
        del rows
        new.segments = [
            *new.segments,
            Segment(seg_name, chunk_ids, sentence_ids, keywords, words=words, word_vectors=word_vectors),
        ]
        new._set_vocab()
        new.stats = new.stats.plus(keywords.doc_freq(), len(all_chunks), float(keywords.lengths.sum()))
        new.docs.update(records)
        new.sentences.update((s.sid, s) for s in all_sentences)
        new.chunks.update((c.cid, c) for c in all_chunks)
        new._rows = None
        new._norms = None
        new = new._compacted()
        if progress:
            progress("index", 1, 1)
        new.updated_at = _now()
        return new

    def without(self, doc_ids: set[str]) -> Index:
        """A new index without these articles."""
        new = self._without(doc_ids)._compacted()
        new.updated_at = _now()
        return new

    def _without(self, doc_ids: set[str]) -> Index:
        gone = [self.docs[d] for d in doc_ids if d in self.docs]
        drop_c = {c for r in gone for c in r.chunk_ids}
        drop_s = {s for r in gone for s in r.sentence_ids}
        stats = self.stats
        if drop_c:
            # The removed chunks' stored term counts say what to subtract: nothing is re-tokenised.
            drop = np.array(sorted(drop_c), dtype=np.int64)
            for seg in self.segments:
                rows = np.flatnonzero(np.isin(seg.chunk_ids, drop))
                if len(rows):
                    length = float(seg.keywords.lengths[rows].sum())
                    stats = stats.plus(seg.keywords.doc_freq(rows), len(rows), length, sign=-1)
        backend = self.backend.without(drop_c, drop_s) if gone and self.backend is not None else self.backend
        return replace(
            self,
            docs={k: v for k, v in self.docs.items() if k not in doc_ids} if gone else dict(self.docs),
            sentences={k: v for k, v in self.sentences.items() if k not in drop_s} if gone else dict(self.sentences),
            chunks={k: v for k, v in self.chunks.items() if k not in drop_c} if gone else dict(self.chunks),
            backend=backend,
            segments=list(self.segments),
            stats=stats,
            dead_chunks=self.dead_chunks | drop_c,
            dead_sentences=self.dead_sentences | drop_s,
            version="",
            _rows=None,
            _norms=None,
        )

    def _compacted(self) -> Index:
        """Merge segments when there are too many, or too many removed rows in them."""
        rows = sum(len(s.chunk_ids) for s in self.segments)
        if rows and len(self.dead_chunks) > MAX_DEAD_SHARE * rows:
            return self._merged([s.name for s in self.segments])
        if len(self.segments) > MAX_SEGMENTS:
            largest = max(self.segments, key=lambda s: len(s.chunk_ids))
            return self._merged([s.name for s in self.segments if s is not largest])
        return self

    def _merged(self, names: list[str]) -> Index:
        """The live rows of segments `names` as one new segment (vectors and counts reused)."""
        chosen = [s for s in self.segments if s.name in names]
        dead = np.fromiter(self.dead_chunks, dtype=np.int64, count=len(self.dead_chunks))
        parts, cids, sids = [], [], []
        for seg in chosen:
            keep = np.flatnonzero(~np.isin(seg.chunk_ids, dead))
            parts.append(seg.keywords.select(keep))
            cids.append(seg.chunk_ids[keep])
            sids.append(seg.sentence_ids[[int(s) in self.sentences for s in seg.sentence_ids]])
        name = _segment_name()
        merged = Segment(
            name,
            np.concatenate(cids),
            np.concatenate(sids),
            KeywordSegment.concat(parts),
            words=[w for seg in chosen for w in seg.words],
            word_vectors=np.vstack([seg.vectors_of_words(self.dim) for seg in chosen]),
        )
        old_c = {int(c) for s in chosen for c in s.chunk_ids}
        old_s = {int(x) for s in chosen for x in s.sentence_ids}
        docs = {k: (replace(r, segment=name) if r.segment in names else r) for k, r in self.docs.items()}
        at = min(i for i, s in enumerate(self.segments) if s.name in names)
        segments = [s for s in self.segments if s.name not in names]
        segments.insert(at, merged)
        new = replace(
            self,
            docs=docs,
            backend=self.backend.with_merged(names, name),
            segments=segments,
            dead_chunks=frozenset(self.dead_chunks - old_c),
            dead_sentences=frozenset(self.dead_sentences - old_s),
            _rows=None,
            _norms=None,
        )
        new._set_vocab()
        return new

    def _set_vocab(self) -> None:
        """The corpus vocabulary: the words of all segments, in segment order."""
        self.vocab = [w for seg in self.segments for w in seg.words]
        parts = [seg.vectors_of_words(self.dim) for seg in self.segments]
        self.vocab_vectors = np.vstack(parts) if parts else np.zeros((0, self.dim), dtype=np.float16)
        self._vocab32 = None

    def _check_embedder(self, embedder: Embedder) -> None:
        if embedder.name != self.embedder_name or embedder.dim != self.dim:
            raise IndexMismatchError(
                f"the index was built with embedder {self.embedder_name!r} ({self.dim} dims) but "
                f"the setting is {embedder.name!r} ({embedder.dim} dims). {REBUILD_HINT}, or set "
                f"DADONG_QA_EMBEDDER={self.embedder_name}"
            )


def _segment_name() -> str:
    return f"seg-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- storage


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _doc_row(index: Index, rec: DocRecord) -> dict[str, Any]:
    d = rec.doc
    return {
        "doc_id": d.doc_id,
        "title": d.title,
        "date": d.date,
        "author": d.author,
        "source": d.source,
        "path": d.path,
        "sha256": d.sha256,
        "text": d.text,
        "headings": d.headings,
        "pages": d.pages,
        "url": d.url,
        "aliases": d.aliases,
        "alias_paths": d.alias_paths,
        "dropped_shared": rec.dropped_shared,
        "para_keys": sorted(rec.para_keys) if rec.para_keys is not None else None,
        "dropped_keys": sorted(rec.dropped_keys) if rec.dropped_keys is not None else None,
        "minhash": rec.signature.tolist() if rec.signature is not None else None,
        "sentences": [[s, index.sentences[s].start, index.sentences[s].end] for s in rec.sentence_ids],
        "chunks": [[c, index.chunks[c].sentence_ids, index.chunks[c].heading] for c in rec.chunk_ids],
    }


def _write_segment(index: Index, seg: Segment, folder: Path) -> dict[str, str]:
    """Write a segment's files (live articles only) and return their checksums."""
    folder.mkdir()
    with (folder / "docs.jsonl").open("w", encoding="utf-8") as fh:
        for rec in index.docs.values():
            if rec.segment == seg.name:
                fh.write(json.dumps(_doc_row(index, rec), ensure_ascii=False) + "\n")
    np.savez(folder / "ids.npz", chunk_ids=seg.chunk_ids, sentence_ids=seg.sentence_ids)
    _write_json(folder / "words.json", seg.words)
    np.save(folder / "word_vectors.npy", seg.vectors_of_words(index.dim), allow_pickle=False)
    names = ["docs.jsonl", "ids.npz", "words.json", "word_vectors.npy", *seg.keywords.write(folder)]
    names += index.backend.write_segment(seg.name, folder)
    out = {}
    for name in names:
        with (folder / name).open("rb") as fh:
            os.fsync(fh.fileno())
        out[name] = _sha256(folder / name)
    _fsync(folder)
    return out


def _link_segment(seg: Segment, sources: list[Path], folder: Path) -> bool:
    """Hard-link an already written segment from an older version; False if none has it."""
    if not seg.files:
        return False
    for src in sources:
        if all((src / seg.name / rel).is_file() for rel in seg.files):
            folder.mkdir()
            for rel in seg.files:
                try:
                    os.link(src / seg.name / rel, folder / rel)
                except OSError:  # no hard links on this file system: copy
                    shutil.copy2(src / seg.name / rel, folder / rel)
            return True
    return False


def save(index: Index, index_dir: str | Path) -> str:
    """Write `index` as a new version under `index_dir` and make it the live one."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    sources = sorted((p for p in root.glob("v-*") if p.is_dir()), key=lambda p: p.name != index.version)
    try:
        files: dict[str, str] = {}
        for seg in index.segments:
            if not _link_segment(seg, sources, tmp / seg.name):
                seg.files = _write_segment(index, seg, tmp / seg.name)
            files.update({f"{seg.name}/{rel}": digest for rel, digest in seg.files.items()})
        backend_info = index.backend.commit()
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "embedder": {"name": index.embedder_name, "dim": index.dim},
            "chunking": vars(index.params),
            "backend": backend_info,
            "built_at": index.built_at,
            "updated_at": index.updated_at,
            "counts": {"docs": len(index.docs), "sentences": len(index.sentences), "chunks": len(index.chunks)},
            "next_sid": index.next_sid,
            "next_cid": index.next_cid,
            "segments": [s.name for s in index.segments],
            "dead_chunks": sorted(index.dead_chunks),
            "dead_sentences": sorted(index.dead_sentences),
            "docs": {
                r.doc.doc_id: {"path": r.doc.path, "sha256": r.doc.sha256, "title": r.doc.title, "segment": r.segment}
                for r in index.docs.values()
            },
            "files": files,
        }
        manifest["checksum"] = _manifest_checksum(manifest)
        _write_json(tmp / "manifest.json", manifest)
        with (tmp / "manifest.json").open("rb") as fh:
            os.fsync(fh.fileno())
        _fsync(tmp)
        final = root / name
        os.rename(tmp, final)
        _fsync(root)
        previous = current_version(root)
        pointer_tmp = root / f".{POINTER}.{secrets.token_hex(4)}"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, root / POINTER)  # the atomic switch
        _fsync(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    index.version = name
    _collect_garbage(root, index, keep={name, previous} - {None})
    return name


def _collect_garbage(root: Path, index: Index, keep: set[str]) -> None:
    """Remove old versions (all but the live one and its predecessor) and stale temp folders.

    The predecessor is the version CURRENT named before the switch, not the second newest
    name: names made in the same second sort by their random part.
    """
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    kept = []
    for name in keep:
        with contextlib.suppress(OSError, ValueError):
            kept.append(json.loads((root / name / "manifest.json").read_text(encoding="utf-8")).get("backend", {}))
    if index.backend is not None:
        with contextlib.suppress(Exception):  # an unreachable server must not fail a finished save
            index.backend.collect_garbage(kept)
    for p in versions:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".tmp-*"):
        if time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


def current_version(index_dir: str | Path) -> str | None:
    try:
        return (Path(index_dir) / POINTER).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def exists(index_dir: str | Path) -> bool:
    v = current_version(index_dir)
    return bool(v) and (Path(index_dir) / v / "manifest.json").is_file()


def read_manifest(index_dir: str | Path, version: str | None = None) -> dict[str, Any]:
    """The manifest of `version`, by default the live one."""
    root = Path(index_dir)
    version = version or current_version(root)
    if not version:
        raise IndexMissingError(f"no index in {root}/. Build one with: dadong-qa build")
    path = root / version / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: unreadable ({exc}). {REBUILD_HINT}") from exc
    # The manifest checks the other files; its own checksum catches a flip that still parses.
    stored = manifest.pop("checksum", None) if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or (stored is not None and stored != _manifest_checksum(manifest)):
        raise IndexCorruptError(f"index file {path} is damaged (checksum mismatch). {REBUILD_HINT}")
    return manifest


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def load(
    index_dir: str | Path,
    embedder: Embedder | None = None,
    verify: bool = True,
    backend: str | None = None,
    uri: str = "",
) -> Index:
    """Load the live version. Raises a subclass of `IndexStoreError` with a how-to-fix message.

    `backend`, when given, is the configured backend: an index built with another one is refused.
    `uri` overrides the Milvus address recorded at build time (e.g. the server moved).
    """
    root = Path(index_dir)
    for attempt in range(3):
        version = current_version(root)
        try:
            return _load_version(root, version, embedder, verify, backend, uri)
        except IndexStoreError:
            # A writer switched CURRENT while this version was read, and its clean-up may have
            # removed the folder: that is not damage, so read the version that is live now.
            if attempt < 2 and version is not None and current_version(root) != version:
                continue
            raise
    raise AssertionError("unreachable")


def _load_version(
    root: Path, version: str | None, embedder: Embedder | None, verify: bool, backend: str | None, uri: str
) -> Index:
    manifest = read_manifest(root, version)
    folder = root / str(version)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index schema version {manifest.get('schema_version')} but this program reads "
            f"version {SCHEMA_VERSION}. {REBUILD_HINT}"
        )
    emb = manifest["embedder"]
    if embedder is not None and (emb["name"] != embedder.name or int(emb["dim"]) != embedder.dim):
        raise IndexMismatchError(
            f"the index in {root}/ was built with embedder {emb['name']!r} ({emb['dim']} dims) but the "
            f"configured embedder is {embedder.name!r} ({embedder.dim} dims). {REBUILD_HINT}, "
            f"or set DADONG_QA_EMBEDDER={emb['name']}"
        )
    built_with = manifest.get("backend", {}).get("kind", "faiss")
    if backend is not None and backend != built_with:
        raise IndexMismatchError(
            f"the index in {root}/ uses the {built_with!r} backend but the setting is {backend!r}. "
            f"{REBUILD_HINT}, or set DADONG_QA_INDEX_BACKEND={built_with}"
        )
    if verify:
        for rel, digest in manifest["files"].items():
            path = folder / rel
            if not path.is_file():
                raise IndexCorruptError(f"index file {path} is missing. {REBUILD_HINT}")
            if _sha256(path) != digest:
                raise IndexCorruptError(f"index file {path} is damaged (checksum mismatch). {REBUILD_HINT}")
    try:
        return _read_folder(folder, manifest, uri, root)
    except IndexStoreError:
        raise
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the index in {folder}: {exc}. {REBUILD_HINT}") from exc


def _read_docs(path: Path, segment: str, live: dict[str, Any], index: Index) -> None:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            doc = Document(
                doc_id=row["doc_id"],
                title=row["title"],
                text=row["text"],
                date=row["date"],
                author=row["author"],
                source=row["source"],
                path=row["path"],
                sha256=row["sha256"],
                headings=[(int(o), h) for o, h in row["headings"]],
                pages=[(int(o), int(n)) for o, n in row.get("pages") or []],
                url=row.get("url"),
                aliases=list(row.get("aliases") or []),
                alias_paths=list(row.get("alias_paths") or []),
            )
            if live.get(doc.doc_id, {}).get("segment") != segment:
                continue  # removed (or replaced) after this segment was written
            chunk_ids = [c for c, _, _ in row["chunks"]]
            sids = []
            for sid, start, end in row["sentences"]:
                index.sentences[sid] = Sentence(sid, doc.doc_id, start, end, doc.text[start:end])
                sids.append(sid)
            for cid, sentence_ids, heading in row["chunks"]:
                first, last = index.sentences[sentence_ids[0]], index.sentences[sentence_ids[-1]]
                index.chunks[cid] = Chunk(cid, doc.doc_id, sentence_ids, doc.text[first.start : last.end], heading)
            keys = row.get("para_keys")
            index.docs[doc.doc_id] = DocRecord(
                doc,
                sids,
                chunk_ids,
                int(row.get("dropped_shared", 0)),
                segment,
                frozenset(keys) if keys is not None else None,
                frozenset(row["dropped_keys"]) if row.get("dropped_keys") is not None else None,
                np.array(row["minhash"], dtype=np.uint64) if row.get("minhash") else None,
            )


def _read_folder(folder: Path, manifest: dict[str, Any], uri: str, root: Path) -> Index:
    index = Index(
        embedder_name=manifest["embedder"]["name"],
        dim=int(manifest["embedder"]["dim"]),
        params=ChunkParams(**manifest["chunking"]),
        next_sid=int(manifest["next_sid"]),
        next_cid=int(manifest["next_cid"]),
        built_at=manifest.get("built_at", ""),
        updated_at=manifest.get("updated_at", ""),
        version=folder.name,
        dead_chunks=frozenset(int(c) for c in manifest["dead_chunks"]),
        dead_sentences=frozenset(int(s) for s in manifest["dead_sentences"]),
    )
    files = manifest["files"]
    dead = np.array(sorted(index.dead_chunks), dtype=np.int64)
    df: dict[str, int] = {}
    n, length = 0, 0.0
    for name in manifest["segments"]:
        seg_dir = folder / name
        _read_docs(seg_dir / "docs.jsonl", name, manifest["docs"], index)
        with np.load(seg_dir / "ids.npz", allow_pickle=False) as z:
            chunk_ids, sentence_ids = z["chunk_ids"], z["sentence_ids"]
        keywords = KeywordSegment.read(seg_dir)
        if keywords.n_rows != len(chunk_ids):
            raise IndexCorruptError(f"segment {seg_dir} is inconsistent (keyword rows and chunk ids differ)")
        prefix = name + "/"
        seg_files = {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}
        words, word_vectors = [], None
        if (seg_dir / "words.json").is_file():
            words = json.loads((seg_dir / "words.json").read_text(encoding="utf-8"))
            word_vectors = np.load(seg_dir / "word_vectors.npy", allow_pickle=False)
            if len(word_vectors) != len(words):
                raise IndexCorruptError(f"segment {seg_dir}: word list and word vectors differ in length")
        index.segments.append(Segment(name, chunk_ids, sentence_ids, keywords, seg_files, words, word_vectors))
        live = np.flatnonzero(~np.isin(chunk_ids, dead))
        for t, c in keywords.doc_freq(live).items():
            df[t] = df.get(t, 0) + c
        n += len(live)
        length += float(keywords.lengths[live].sum())
    index.stats = KeywordStats(df, n, length)
    index._set_vocab()
    if n != len(index.chunks):
        raise IndexCorruptError(f"index in {folder} is inconsistent (keyword rows and chunk counts differ)")
    index.backend = load_backend(
        manifest.get("backend", {"kind": "faiss"}),
        index.dim,
        folder,
        manifest["segments"],
        index.dead_chunks,
        index.dead_sentences,
        uri,
        root,
    )
    return index


@contextlib.contextmanager
def write_lock(index_dir: str | Path, timeout: float = 600.0) -> Iterator[None]:
    """Exclusive lock for changing the index; waits up to `timeout` seconds for another writer."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexLockedError(
                        f"another dadong-qa process is changing the index in {root}/ (waited {timeout:g} s); "
                        "nothing was changed, try again when it ends"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
