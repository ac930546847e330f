"""The storage format: versions of the index on disk, the CURRENT pointer, the write lock.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from dadong_qa.embed import Embedder
from dadong_qa.ingestion.chunk import ChunkParams
from dadong_qa.schema import Chunk, Document, Sentence

from .backends import StoredVersion, load_backend
from .errors import (
    REBUILD_HINT,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
    embedder_mismatch,
)
from .keyword import KeywordSegment, KeywordStats
from .model import Index
from .records import DocRecord, Segment

SCHEMA_VERSION = 2
POINTER = "CURRENT"
LOCK = ".lock"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
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
        out[name] = file_sha256(folder / name)
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


def dangling_version(index_dir: str | Path) -> str | None:
    """The version CURRENT names when that version is not there (its folder deleted or damaged):
    an index that was lost, which is not the same as none having been built."""
    v = current_version(index_dir)
    return v if v and not (Path(index_dir) / v / "manifest.json").is_file() else None


def lost_index_message(index_dir: str | Path, version: str) -> str:
    return (
        f"{Path(index_dir) / POINTER} names index version {version}, which is missing "
        "(deleted or damaged): the index is lost"
    )


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
        raise embedder_mismatch(emb["name"], int(emb["dim"]), embedder.name, embedder.dim, f"the index in {root}/")
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
            if file_sha256(path) != digest:
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
    stored = StoredVersion(
        manifest.get("backend", {"kind": "faiss"}),
        folder,
        manifest["segments"],
        index.dead_chunks,
        index.dead_sentences,
        uri,
        root,
    )
    index.backend = load_backend(index.dim, stored)
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
