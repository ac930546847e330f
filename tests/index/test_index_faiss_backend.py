"""index/backends/faiss_backend.py on its own, without an Index around it.

The registry is tested in test_index_backends.py; the Milvus backend through the index in
test_milvus_backend.py (it needs milvus-lite).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dadong_qa.index.backends import SegmentRows, StoredVersion, faiss_backend, load_backend, new_backend
from dadong_qa.index.backends.faiss_backend import FaissBackend
from dadong_qa.index.backends.milvus_backend import resolve_uri

DIM = 16


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _rows(chunk_ids: list[int], sentence_ids: list[int], seed: int) -> SegmentRows:
    rng = np.random.default_rng(seed)
    return SegmentRows(
        chunk_ids=np.array(chunk_ids, dtype=np.int64),
        chunk_vectors=_unit(rng, len(chunk_ids)),
        chunk_texts=[f"chunk {i}" for i in chunk_ids],
        chunk_doc_ids=["d"] * len(chunk_ids),
        sentence_ids=np.array(sentence_ids, dtype=np.int64),
        sentence_vectors=_unit(rng, len(sentence_ids)),
        sentence_doc_ids=["d"] * len(sentence_ids),
    )


def _exact(vectors: dict[int, np.ndarray], q: np.ndarray, k: int) -> list[int]:
    """The k ids of highest inner product, by brute force."""
    return sorted(vectors, key=lambda i: -float(vectors[i] @ q))[:k]


@pytest.fixture()
def two_segments() -> tuple[FaissBackend, dict[int, np.ndarray], dict[int, np.ndarray]]:
    backend: FaissBackend = new_backend("faiss", DIM, "", Path("unused"))  # type: ignore[assignment]
    chunks, sentences = {}, {}
    segments = (("seg-a", range(0, 30), range(100, 160), 1), ("seg-b", range(30, 50), range(160, 200), 2))
    for name, cids, sids, seed in segments:
        rows = _rows(list(cids), list(sids), seed)
        chunks |= dict(zip(cids, rows.chunk_vectors.copy(), strict=True))
        sentences |= dict(zip(sids, rows.sentence_vectors.copy(), strict=True))
        backend = backend.with_segment(name, rows)
    return backend, chunks, sentences


def test_search_finds_the_exact_nearest_across_segments_best_first(two_segments) -> None:
    backend, chunks, sentences = two_segments
    q = _unit(np.random.default_rng(7), 1)[0]
    hits = backend.search(q, 5, sentences=False)
    assert [i for i, _ in hits] == _exact(chunks, q, 5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert all(abs(s - float(chunks[i] @ q)) < 1e-5 for i, s in hits)  # the score is the cosine
    assert [i for i, _ in backend.search(q, 3, sentences=True)] == _exact(sentences, q, 3)


def test_search_k_larger_than_the_store_returns_everything(two_segments) -> None:
    backend, chunks, _ = two_segments
    hits = backend.search(chunks[0], 500, sentences=False)
    assert sorted(i for i, _ in hits) == sorted(chunks)
    assert hits[0][0] == 0  # a stored vector is its own nearest neighbour


def test_vectors_come_back_in_the_order_asked(two_segments) -> None:
    backend, chunks, sentences = two_segments
    got = backend.vectors([42, 3, 17], sentences=False)
    assert np.allclose(got, np.stack([chunks[42], chunks[3], chunks[17]]))
    assert np.allclose(backend.vectors([199], sentences=True)[0], sentences[199])
    with pytest.raises(KeyError, match="chunk 999"):
        backend.vectors([999], sentences=False)


def test_without_hides_rows_and_leaves_the_old_backend_as_it_was(two_segments) -> None:
    backend, chunks, _ = two_segments
    gone = set(_exact(chunks, chunks[5], 3))
    smaller = backend.without(gone, [])
    assert not gone & {i for i, _ in smaller.search(chunks[5], 50, sentences=False)}
    assert gone <= {i for i, _ in backend.search(chunks[5], 50, sentences=False)}  # readers of the old one


def test_merge_keeps_live_rows_only_and_forgets_their_dead_ids(two_segments) -> None:
    backend, chunks, sentences = two_segments
    smaller = backend.without([1, 2, 31], [100])
    merged = smaller.with_merged(["seg-a", "seg-b"], "seg-c")
    assert list(merged.segments) == ["seg-c"]
    assert merged.dead == {False: frozenset(), True: frozenset()}  # the dead rows are gone for good
    live = {i for i in chunks if i not in {1, 2, 31}}
    assert {i for i, _ in merged.search(chunks[0], 100, sentences=False)} == live
    assert merged.segments["seg-c"][1].ntotal == len(sentences) - 1


def test_segments_written_and_read_back_answer_the_same(two_segments, tmp_path: Path) -> None:
    backend, chunks, _ = two_segments
    backend = backend.without([7], [])
    for name in backend.segments:
        (tmp_path / name).mkdir()
        assert backend.write_segment(name, tmp_path / name) == ["chunks.faiss", "sentences.faiss"]
    info = backend.commit()
    assert info["kind"] == "faiss"
    loaded = load_backend(DIM, StoredVersion(info, tmp_path, list(backend.segments), [7], [], "", tmp_path))
    q = chunks[7]
    assert loaded.search(q, 10, sentences=False) == backend.search(q, 10, sentences=False)
    assert 7 not in {i for i, _ in loaded.search(q, 10, sentences=False)}


def test_large_segments_use_hnsw_and_still_find_the_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faiss_backend, "FLAT_MAX", 10)
    rows = _rows(list(range(200)), list(range(1000, 1005)), seed=3)
    chunks = dict(zip(range(200), rows.chunk_vectors.copy(), strict=True))
    backend = FaissBackend(DIM).with_segment("big", rows)
    chunk_index, sentence_index = backend.segments["big"]
    assert type(faiss_backend.faiss.downcast_index(chunk_index.index)).__name__ == "IndexHNSWFlat"
    assert type(faiss_backend.faiss.downcast_index(sentence_index.index)).__name__ == "IndexFlatIP"  # 5 <= 10
    q = _unit(np.random.default_rng(11), 1)[0]
    assert [i for i, _ in backend.search(q, 5, sentences=False)] == _exact(chunks, q, 5)


def test_with_segment_releases_the_arrays_it_copied() -> None:
    rows = _rows([1, 2], [3], seed=4)
    FaissBackend(DIM).with_segment("s", rows)
    assert rows.chunk_vectors.shape == (0, DIM) and rows.sentence_vectors.shape == (0, DIM)
    assert rows.chunk_texts == []


def test_faiss_has_no_keyword_index_of_its_own() -> None:
    assert FaissBackend(DIM).keyword_search("问题", 10) is None


def test_resolve_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_uri("http://milvus:19530", tmp_path / "index") == "http://milvus:19530"
    assert resolve_uri("", tmp_path / "index") == str((tmp_path / "index" / "milvus.db").resolve())
    assert resolve_uri("data/m.db", Path("index")) == str(tmp_path / "data" / "m.db")  # relative to the cwd
