"""The build pipeline: what goes through the encoder and how chunk vectors are made from it."""

from __future__ import annotations

import hashlib

import numpy as np

from conftest import CharEmbedder
from dadong_qa.embed import pooled
from dadong_qa.index.build import build_segment
from dadong_qa.ingestion.chunk import ChunkParams
from dadong_qa.schema import Document
from dadong_qa.text import normalize


def _doc(doc_id: str, text: str, headings: list[tuple[int, str]] | None = None) -> Document:
    return Document(
        doc_id=doc_id,
        title=doc_id,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        headings=headings or [],
    )


def test_pooled_is_the_normalised_mean_of_each_group():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    out = pooled(vectors, [[0, 1], [2], [0, 0, 1]])
    expected = np.array([[1, 1], [3, 4], [2, 1]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(out, expected)
    assert pooled(vectors, []).shape == (0, 2)


def test_chunk_vectors_are_pooled_from_sentence_vectors_and_no_text_is_encoded_twice():
    repeated = "本报记者报道。"
    text = f"第一句讲产业园。{repeated}第三句讲投资额三亿元。第四句讲就业。{repeated}"
    emb = CharEmbedder(32)
    batch = build_segment(
        [(_doc("a", text), 0), (_doc("b", f"另一篇文章讲学校。{repeated}"), 0)],
        emb,
        ChunkParams(3, 1, 400),
        0,
        0,
        set(),
    )
    sentence_calls = [t for t in emb.calls if t in {normalize(s.text) for s in batch.sentences}]
    assert len(sentence_calls) == len(set(sentence_calls)) == len({normalize(s.text) for s in batch.sentences})
    assert not any(normalize(c.search_text) in emb.calls for c in batch.chunks if len(c.sentence_ids) > 1)
    rows = batch.rows
    assert rows is not None
    by_sid = dict(zip(rows.sentence_ids.tolist(), rows.sentence_vectors, strict=True))
    for chunk, vector in zip(batch.chunks, rows.chunk_vectors, strict=True):
        mean = np.sum([by_sid[s] for s in chunk.sentence_ids], axis=0)
        assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-6)
    # Sentences with the same text get the same vector.
    same = [v for s, v in by_sid.items() if normalize(batch.sentences[s].text) == normalize(repeated)]
    assert len(same) == 3 and all(np.array_equal(same[0], v) for v in same)


def test_a_heading_counts_in_its_chunks_vectors():
    text = "工业发展\n第一句讲产业园。第二句讲投资额。"
    emb = CharEmbedder(32)
    batch = build_segment([(_doc("a", text, [(0, "工业发展")]), 0)], emb, ChunkParams(3, 1, 400), 0, 0, set())
    assert normalize("工业发展") in emb.calls
    rows = batch.rows
    assert rows is not None
    heading = emb.encode([normalize("工业发展")])[0]
    mean = rows.sentence_vectors.sum(axis=0) + heading
    assert np.allclose(rows.chunk_vectors[0], mean / np.linalg.norm(mean), atol=1e-6)
