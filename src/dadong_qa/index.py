"""The on-disk index: FAISS (chunks and sentences), BM25 (chunks) and the document store.

Layout of `index/`:

    CURRENT            name of the live version folder (replaced atomically)
    .lock              writers hold an exclusive lock on it
    v-<time>-<rand>/   one complete version:
        manifest.json  schema, embedder, chunking, per-article hashes, per-file sha256
        docs.jsonl     articles: metadata, cleaned text, sentence spans, chunks
        tokens.jsonl   BM25 tokens per chunk, so updates never re-tokenise old articles
        chunks.faiss   ID-mapped inner-product index of chunk vectors (id = chunk id)
        sentences.faiss  the same for sentence vectors (id = sentence id)
        bm25/          bm25s index over chunks (row order in bm25_ids.npy)

A change builds a whole new version folder and then swaps CURRENT, so a reader sees the old
index or the new one, never a mix, and a crash mid-write leaves the old one intact.
Nothing is pickled: JSON, numpy .npy (allow_pickle=False) and FAISS's own format only.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from .chunk import ChunkParams, chunk_document
from .embed import Embedder
from .schema import Chunk, Document, Sentence
from .text import normalize, tokenize, vocab_words

SCHEMA_VERSION = 1
POINTER = "CURRENT"
LOCK = ".lock"
REBUILD_HINT = "Rebuild it with: dadong-qa build"


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


@dataclass
class Index:
    """One immutable version of the index, in memory. Changes return a new `Index`."""

    embedder_name: str
    dim: int
    params: ChunkParams
    docs: dict[str, DocRecord] = field(default_factory=dict)
    sentences: dict[int, Sentence] = field(default_factory=dict)
    chunks: dict[int, Chunk] = field(default_factory=dict)
    tokens: dict[int, list[str]] = field(default_factory=dict)
    chunk_index: Any = None  # faiss.IndexIDMap2
    sentence_index: Any = None  # faiss.IndexIDMap2
    bm25: bm25s.BM25 | None = None
    bm25_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    next_sid: int = 0
    next_cid: int = 0
    built_at: str = ""
    updated_at: str = ""
    version: str = ""
    # Words of the articles with their vectors, to find corpus words close in meaning to a
    # question word the articles never use ("绿化" -> "绿地").
    vocab: list[str] = field(default_factory=list)
    vocab_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float16))
    _df: np.ndarray | None = None

    # ------------------------------------------------------------ queries

    @property
    def n_docs(self) -> int:
        return len(self.docs)

    def dense_search(self, vector: np.ndarray, k: int, sentences: bool = False) -> list[tuple[int, float]]:
        """(id, cosine) of the `k` nearest chunks (or sentences)."""
        index = self.sentence_index if sentences else self.chunk_index
        if index is None or index.ntotal == 0 or k <= 0:
            return []
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), min(k, index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def bm25_scores(self, query_tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 scores) for every chunk; scores are 0 where no token matches."""
        if self.bm25 is None or not len(self.bm25_ids):
            return self.bm25_ids, np.zeros(0, dtype=np.float32)
        ids = self.bm25.get_tokens_ids(query_tokens)
        if not ids:
            return self.bm25_ids, np.zeros(len(self.bm25_ids), dtype=np.float32)
        return self.bm25_ids, np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def has_term(self, term: str) -> bool:
        """Whether a BM25 token (word or character bigram) occurs in any chunk."""
        return self.bm25 is not None and term in self.bm25.vocab_dict

    def idf(self, term: str) -> float:
        """Inverse chunk frequency of a BM25 token; unseen terms get the maximum."""
        n = max(1, len(self.bm25_ids))
        df = 0
        if self.bm25 is not None and term in self.bm25.vocab_dict:
            if self._df is None:
                self._df = np.diff(np.asarray(self.bm25.scores["indptr"]))
            df = int(self._df[self.bm25.vocab_dict[term]])
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def sentence_vectors(self, sids: list[int]) -> np.ndarray:
        """Stored vectors of these sentences, one row each."""
        if not sids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.sentence_index.reconstruct(int(s)) for s in sids])

    def chunk_vectors(self, cids: list[int]) -> np.ndarray:
        """Stored vectors of these chunks, one row each."""
        if not cids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.chunk_index.reconstruct(int(c)) for c in cids])

    def doc_meta(self, doc_id: str) -> Document:
        return self.docs[doc_id].doc

    # ------------------------------------------------------------ changes

    @classmethod
    def empty(cls, embedder: Embedder, params: ChunkParams) -> Index:
        now = _now()
        return cls(
            embedder_name=embedder.name,
            dim=embedder.dim,
            params=params,
            chunk_index=_new_faiss(embedder.dim),
            sentence_index=_new_faiss(embedder.dim),
            built_at=now,
            updated_at=now,
        )

    def with_documents(
        self, docs: list[tuple[Document, int]], embedder: Embedder, progress: Progress | None = None
    ) -> Index:
        """A new index with `docs` added; an article with an existing doc_id is replaced."""
        self._check_embedder(embedder)
        new = self._without({d.doc_id for d, _ in docs})
        all_sentences: list[Sentence] = []
        all_chunks: list[Chunk] = []
        for doc, dropped in docs:
            sentences, chunks = chunk_document(doc, new.next_sid, new.next_cid, self.params)
            new.next_sid += len(sentences)
            new.next_cid += len(chunks)
            new.docs[doc.doc_id] = DocRecord(doc, [s.sid for s in sentences], [c.cid for c in chunks], dropped)
            all_sentences += sentences
            all_chunks += chunks
        total = len(all_sentences) + len(all_chunks)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("embed", done, total)

        if all_chunks:
            cvec = embedder.encode([normalize(c.search_text) for c in all_chunks], progress=step)
            new.chunk_index.add_with_ids(cvec, np.array([c.cid for c in all_chunks], dtype=np.int64))
        if all_sentences:
            svec = embedder.encode([normalize(s.text) for s in all_sentences], progress=step)
            new.sentence_index.add_with_ids(svec, np.array([s.sid for s in all_sentences], dtype=np.int64))
        for s in all_sentences:
            new.sentences[s.sid] = s
        for c in all_chunks:
            new.chunks[c.cid] = c
            new.tokens[c.cid] = tokenize(c.search_text)
        new._extend_vocab([s.text for s in all_sentences], embedder)
        new._rebuild_bm25()
        new.updated_at = _now()
        return new

    def without(self, doc_ids: set[str]) -> Index:
        """A new index without these articles."""
        new = self._without(doc_ids)
        new._rebuild_bm25()
        new.updated_at = _now()
        return new

    def _without(self, doc_ids: set[str]) -> Index:
        gone = [self.docs[d] for d in doc_ids if d in self.docs]
        drop_c = {c for r in gone for c in r.chunk_ids}
        drop_s = {s for r in gone for s in r.sentence_ids}
        chunk_index = faiss.clone_index(self.chunk_index)
        sentence_index = faiss.clone_index(self.sentence_index)
        if drop_c:
            chunk_index.remove_ids(np.array(sorted(drop_c), dtype=np.int64))
        if drop_s:
            sentence_index.remove_ids(np.array(sorted(drop_s), dtype=np.int64))
        return Index(
            embedder_name=self.embedder_name,
            dim=self.dim,
            params=self.params,
            docs={k: v for k, v in self.docs.items() if k not in doc_ids},
            sentences={k: v for k, v in self.sentences.items() if k not in drop_s},
            chunks={k: v for k, v in self.chunks.items() if k not in drop_c},
            tokens={k: v for k, v in self.tokens.items() if k not in drop_c},
            chunk_index=chunk_index,
            sentence_index=sentence_index,
            bm25=self.bm25,
            bm25_ids=self.bm25_ids,
            vocab=self.vocab,
            vocab_vectors=self.vocab_vectors,
            next_sid=self.next_sid,
            next_cid=self.next_cid,
            built_at=self.built_at,
            updated_at=self.updated_at,
        )

    def _extend_vocab(self, texts: list[str], embedder: Embedder) -> None:
        known = set(self.vocab)
        fresh = sorted({w for t in texts for w in vocab_words(t)} - known)
        if not fresh:
            return
        vectors = embedder.encode(fresh).astype(np.float16)
        base = self.vocab_vectors if len(self.vocab) else np.zeros((0, vectors.shape[1]), dtype=np.float16)
        self.vocab = self.vocab + fresh
        self.vocab_vectors = np.vstack([base, vectors])

    def neighbours(self, vectors: np.ndarray, k: int = 5, min_cos: float = 0.6) -> list[list[tuple[str, float]]]:
        """For each query vector, up to `k` article words with cosine >= `min_cos`, best first."""
        if not len(self.vocab) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        sims = vectors.astype(np.float32) @ self.vocab_vectors.astype(np.float32).T
        out = []
        for row in sims:
            top = np.argpartition(-row, min(k, len(row) - 1))[:k]
            out.append(sorted(((self.vocab[i], float(row[i])) for i in top if row[i] >= min_cos), key=lambda t: -t[1]))
        return out

    def _rebuild_bm25(self) -> None:
        ids = np.array(sorted(self.tokens), dtype=np.int64)
        self._df = None
        if not len(ids):
            self.bm25, self.bm25_ids = None, ids
            return
        bm25 = bm25s.BM25()
        bm25.index([self.tokens[int(i)] or ["<empty>"] for i in ids], show_progress=False)
        self.bm25, self.bm25_ids = bm25, ids

    def _check_embedder(self, embedder: Embedder) -> None:
        if embedder.name != self.embedder_name or embedder.dim != self.dim:
            raise IndexMismatchError(
                f"the index was built with embedder {self.embedder_name!r} ({self.dim} dims) but "
                f"the setting is {embedder.name!r} ({embedder.dim} dims). {REBUILD_HINT}, or set "
                f"DADONG_QA_EMBEDDER={self.embedder_name}"
            )


def _new_faiss(dim: int) -> Any:
    # Exact inner product on L2-normalised vectors = cosine; ID-mapped so articles can be removed.
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


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


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save(index: Index, index_dir: str | Path) -> str:
    """Write `index` as a new version under `index_dir` and make it the live one."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        with (tmp / "docs.jsonl").open("w", encoding="utf-8") as fh:
            for rec in index.docs.values():
                d = rec.doc
                row = {
                    "doc_id": d.doc_id,
                    "title": d.title,
                    "date": d.date,
                    "author": d.author,
                    "source": d.source,
                    "path": d.path,
                    "sha256": d.sha256,
                    "text": d.text,
                    "headings": d.headings,
                    "dropped_shared": rec.dropped_shared,
                    "sentences": [[s, index.sentences[s].start, index.sentences[s].end] for s in rec.sentence_ids],
                    "chunks": [[c, index.chunks[c].sentence_ids, index.chunks[c].heading] for c in rec.chunk_ids],
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        with (tmp / "tokens.jsonl").open("w", encoding="utf-8") as fh:
            for cid in sorted(index.tokens):
                fh.write(json.dumps([cid, index.tokens[cid]], ensure_ascii=False) + "\n")
        faiss.write_index(index.chunk_index, str(tmp / "chunks.faiss"))
        faiss.write_index(index.sentence_index, str(tmp / "sentences.faiss"))
        if index.bm25 is not None:
            index.bm25.save(str(tmp / "bm25"), show_progress=False)
        np.save(tmp / "bm25_ids.npy", index.bm25_ids, allow_pickle=False)
        np.save(tmp / "vocab_vectors.npy", index.vocab_vectors, allow_pickle=False)
        _write_json(tmp / "vocab.json", index.vocab)
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "embedder": {"name": index.embedder_name, "dim": index.dim},
            "chunking": vars(index.params),
            "built_at": index.built_at,
            "updated_at": index.updated_at,
            "counts": {"docs": len(index.docs), "sentences": len(index.sentences), "chunks": len(index.chunks)},
            "next_sid": index.next_sid,
            "next_cid": index.next_cid,
            "docs": {
                r.doc.doc_id: {"path": r.doc.path, "sha256": r.doc.sha256, "title": r.doc.title}
                for r in index.docs.values()
            },
            "files": files,
        }
        _write_json(tmp / "manifest.json", manifest)
        for p in tmp.rglob("*"):
            if p.is_file():
                with p.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = root / name
        os.rename(tmp, final)
        _fsync_dir(root)
        pointer_tmp = root / f".{POINTER}.{secrets.token_hex(4)}"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, root / POINTER)  # the atomic switch
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    index.version = name
    _collect_garbage(root, keep={name})
    return name


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove old versions (all but the live one and its predecessor) and stale temp folders."""
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    keep = keep | {p.name for p in versions[-2:]}
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


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    root = Path(index_dir)
    version = current_version(root)
    if not version:
        raise IndexMissingError(f"no index in {root}/. Build one with: dadong-qa build")
    try:
        return json.loads((root / version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{root / version / 'manifest.json'}: unreadable ({exc}). {REBUILD_HINT}") from exc


def load(index_dir: str | Path, embedder: Embedder | None = None, verify: bool = True) -> Index:
    """Load the live version. Raises a subclass of `IndexStoreError` with a how-to-fix message."""
    root = Path(index_dir)
    manifest = read_manifest(root)
    folder = root / current_version(root)
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
    if verify:
        for rel, digest in manifest["files"].items():
            path = folder / rel
            if not path.is_file():
                raise IndexCorruptError(f"index file {path} is missing. {REBUILD_HINT}")
            if _sha256(path) != digest:
                raise IndexCorruptError(f"index file {path} is damaged (checksum mismatch). {REBUILD_HINT}")
    try:
        return _read_folder(folder, manifest)
    except IndexStoreError:
        raise
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the index in {folder}: {exc}. {REBUILD_HINT}") from exc


def _read_folder(folder: Path, manifest: dict[str, Any]) -> Index:
    index = Index(
        embedder_name=manifest["embedder"]["name"],
        dim=int(manifest["embedder"]["dim"]),
        params=ChunkParams(**manifest["chunking"]),
        next_sid=int(manifest["next_sid"]),
        next_cid=int(manifest["next_cid"]),
        built_at=manifest.get("built_at", ""),
        updated_at=manifest.get("updated_at", ""),
        version=folder.name,
    )
    with (folder / "docs.jsonl").open(encoding="utf-8") as fh:
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
            )
            sids = []
            for sid, start, end in row["sentences"]:
                index.sentences[sid] = Sentence(sid, doc.doc_id, start, end, doc.text[start:end])
                sids.append(sid)
            cids = []
            for cid, sentence_ids, heading in row["chunks"]:
                first, last = index.sentences[sentence_ids[0]], index.sentences[sentence_ids[-1]]
                index.chunks[cid] = Chunk(cid, doc.doc_id, sentence_ids, doc.text[first.start : last.end], heading)
                cids.append(cid)
            index.docs[doc.doc_id] = DocRecord(doc, sids, cids, int(row.get("dropped_shared", 0)))
    with (folder / "tokens.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            cid, tokens = json.loads(line)
            index.tokens[int(cid)] = tokens
    index.chunk_index = faiss.read_index(str(folder / "chunks.faiss"))
    index.sentence_index = faiss.read_index(str(folder / "sentences.faiss"))
    index.bm25_ids = np.load(folder / "bm25_ids.npy", allow_pickle=False)
    index.vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    index.vocab_vectors = np.load(folder / "vocab_vectors.npy", allow_pickle=False)
    if (folder / "bm25").is_dir():
        index.bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False, allow_pickle=False)
    if index.chunk_index.ntotal != len(index.chunks) or len(index.bm25_ids) != len(index.chunks):
        raise IndexCorruptError(f"index in {folder} is inconsistent (vector and chunk counts differ)")
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
                        f"another dadong-qa process is changing the index in {root}/; try again when it ends"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
