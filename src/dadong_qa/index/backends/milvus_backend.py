"""Milvus: vectors and BM25 full-text search in two collections, hybrid retrieval inside Milvus.

- `<ns>_<build>_chunks`: id, doc_id, text (analyzed with Milvus's jieba tokenizer), a sparse
  field filled by Milvus's BM25 function from `text`, and the dense chunk vector;
- `<ns>_<build>_sentences`: id, doc_id and the dense sentence vector.
`<ns>` is derived from the index folder, so several indexes can share one Milvus server and
garbage collection only drops this index's old collections. A full build writes new
collections and the version switch makes them live; an add or remove changes the live ones in
place (upserts first, so a retried change is idempotent). Readers filter hits to the chunks of
their own version, so rows written for a newer version never leak into an older one's answers.

A file URI runs Milvus Lite in-process (one process at a time per file); http://host:19530
talks to a Milvus standalone or cluster with the same code.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import SegmentRows, StoredVersion

BATCH = 1000
TEXT_MAX = 65535
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _client(uri: str) -> Any:
    with _clients_lock:
        if uri not in _clients:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:  # optional dependency
                raise RuntimeError(
                    "the milvus backend needs pymilvus and milvus-lite: pip install 'dadong-qa[milvus]'"
                ) from exc
            _clients[uri] = MilvusClient(uri)
        return _clients[uri]


def resolve_uri(uri: str, index_dir: Path) -> str:
    """Milvus URI: http(s)://host:port as given; a file path is relative to the working directory;
    empty means `milvus.db` inside the index folder."""
    if uri.startswith(("http://", "https://", "tcp://")):
        return uri
    path = Path(uri) if uri else Path(index_dir) / "milvus.db"
    return str(path.resolve())


def namespace(index_dir: Path) -> str:
    return "dq_" + hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()[:10]


class MilvusBackend:
    kind = "milvus"

    def __init__(self, dim: int, uri: str, ns: str, chunks: str, sentences: str, pending: tuple[Any, ...] = ()) -> None:
        self.dim = dim
        self.uri = uri
        self.ns = ns
        self.names = {False: chunks, True: sentences}
        self.pending = pending  # ("create",) | ("upsert", SegmentRows) | ("delete", chunk ids, sentence ids)

    @classmethod
    def create(cls, dim: int, uri: str, index_dir: Path) -> MilvusBackend:
        ns = namespace(index_dir)
        build = secrets.token_hex(4)
        uri = resolve_uri(uri, index_dir)
        return cls(dim, uri, ns, f"{ns}_{build}_chunks", f"{ns}_{build}_sentences", (("create",),))

    @classmethod
    def open(cls, dim: int, stored: StoredVersion) -> MilvusBackend:
        info = stored.info
        return cls.connect(dim, resolve_uri(stored.uri or info.get("uri", ""), stored.index_dir), info)

    @classmethod
    def connect(cls, dim: int, uri: str, info: dict[str, Any]) -> MilvusBackend:
        backend = cls(dim, uri, info["namespace"], info["chunks"], info["sentences"])
        client = _client(uri)
        for name in backend.names.values():
            if not client.has_collection(name):
                raise FileNotFoundError(f"Milvus collection {name!r} not found at {uri}")
            client.load_collection(name)
        return backend

    @property
    def client(self) -> Any:
        return _client(self.uri)

    # ------------------------------------------------------------ queries

    def search(self, vector: np.ndarray, k: int, sentences: bool) -> list[tuple[int, float]]:
        res = self.client.search(
            self.names[sentences],
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="dense",
            limit=k,
            output_fields=["id"],
            search_params={"metric_type": "IP"},
        )
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def vectors(self, ids: Sequence[int], sentences: bool) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = self.client.get(self.names[sentences], ids=list(dict.fromkeys(ids)), output_fields=["dense"])
        found = {int(r["id"]): r["dense"] for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(f"no stored vector for {'sentence' if sentences else 'chunk'} {missing[0]}")
        return np.array([found[i] for i in ids], dtype=np.float32)

    def keyword_search(self, query: str, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not query.strip():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        res = self.client.search(
            self.names[False],
            data=[query],
            anns_field="sparse",
            limit=limit,
            output_fields=["id"],
            search_params={"metric_type": "BM25"},
        )
        hits = res[0]
        ids = np.array([int(h["id"]) for h in hits], dtype=np.int64)
        # Milvus Lite reports BM25 as a negated distance, a server as a positive score.
        scores = np.array([abs(float(h["distance"])) for h in hits], dtype=np.float32)
        return ids, scores

    # ------------------------------------------------------------ changes

    def _with(self, op: tuple[Any, ...]) -> MilvusBackend:
        return MilvusBackend(self.dim, self.uri, self.ns, self.names[False], self.names[True], (*self.pending, op))

    def with_segment(self, name: str, rows: SegmentRows) -> MilvusBackend:
        return self._with(("upsert", rows))

    def without(self, chunk_ids: Collection[int], sentence_ids: Collection[int]) -> MilvusBackend:
        return self._with(("delete", sorted(chunk_ids), sorted(sentence_ids)))

    def with_merged(self, names: Sequence[str], into: str) -> MilvusBackend:
        return self  # Milvus compacts its own segments; removed rows are already deleted

    def write_segment(self, name: str, folder: Path) -> list[str]:
        return []

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        for sentences, name in self.names.items():
            if client.has_collection(name):
                continue
            schema = client.create_schema(auto_id=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
            index_params = client.prepare_index_params()
            if not sentences:
                schema.add_field(
                    "text",
                    DataType.VARCHAR,
                    max_length=TEXT_MAX,
                    enable_analyzer=True,
                    analyzer_params={"tokenizer": "jieba"},
                )
                schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
                schema.add_function(
                    Function(
                        name="bm25",
                        function_type=FunctionType.BM25,
                        input_field_names=["text"],
                        output_field_names=["sparse"],
                    )
                )
                index_params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
            index_params.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
            client.create_collection(name, schema=schema, index_params=index_params, consistency_level="Strong")

    def _upsert(self, rows: SegmentRows) -> None:
        client = self.client
        for i in range(0, len(rows.chunk_ids), BATCH):
            client.upsert(
                self.names[False],
                [
                    {"id": int(c), "doc_id": d, "text": t[: TEXT_MAX // 4], "dense": v.tolist()}
                    for c, d, t, v in zip(
                        rows.chunk_ids[i : i + BATCH],
                        rows.chunk_doc_ids[i : i + BATCH],
                        rows.chunk_texts[i : i + BATCH],
                        rows.chunk_vectors[i : i + BATCH],
                        strict=True,
                    )
                ],
            )
        for i in range(0, len(rows.sentence_ids), BATCH):
            client.upsert(
                self.names[True],
                [
                    {"id": int(s), "doc_id": d, "dense": v.tolist()}
                    for s, d, v in zip(
                        rows.sentence_ids[i : i + BATCH],
                        rows.sentence_doc_ids[i : i + BATCH],
                        rows.sentence_vectors[i : i + BATCH],
                        strict=True,
                    )
                ],
            )

    def commit(self) -> dict[str, Any]:
        for op in self.pending:
            if op[0] == "create":
                self._create()
            elif op[0] == "upsert":
                self._upsert(op[1])
            elif op[0] == "delete":
                for sentences, ids in ((False, op[1]), (True, op[2])):
                    for i in range(0, len(ids), BATCH):
                        self.client.delete(self.names[sentences], ids=[int(x) for x in ids[i : i + BATCH]])
        self.pending = ()
        return {
            "kind": self.kind,
            "uri": self.uri,
            "namespace": self.ns,
            "chunks": self.names[False],
            "sentences": self.names[True],
        }

    def collect_garbage(self, keep: Sequence[dict[str, Any]]) -> None:
        used = {info.get(k) for info in keep for k in ("chunks", "sentences")} | set(self.names.values())
        for name in self.client.list_collections():
            if name.startswith(self.ns + "_") and name not in used:
                self.client.drop_collection(name)
