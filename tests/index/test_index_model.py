"""The segmented index: incremental add/remove, hard-linked versions, merging, interrupted builds.

A hashing embedder stands in for the real model, so these run in well under a second each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import CharEmbedder
from dadong_qa import index as store
from dadong_qa.index import Index, model, records, storage
from dadong_qa.index.backends import faiss_backend
from dadong_qa.ingestion.chunk import ChunkParams
from dadong_qa.schema import Document
from dadong_qa.text import normalize, tokenize

DISTRICTS = "大东区 和平区 沈河区 皇姑区 铁西区 浑南区 于洪区 苏家屯区 沈北新区 辽中区 中山区 西岗区".split()


def _doc(n: int) -> Document:
    d = DISTRICTS[n % len(DISTRICTS)]
    text = "\n".join(
        [
            f"{d}第{n}号产业园正式开园，入驻企业{n * 7 + 3}家。",
            f"{d}今年新建学校{n + 2}所，改造老旧小区{n * 11}个。园区编号为{n}号。",
            f"{d}地区生产总值增长{n % 9}.5%，工业增加值达到{n * 13}亿元。",
        ]
    )
    return Document(doc_id=f"doc{n:03d}", title=f"{d}新闻{n}", text=text, date="2023-01-02", sha256=f"{n:064x}")


@pytest.fixture()
def emb() -> CharEmbedder:
    return CharEmbedder(64)


def _built(emb: CharEmbedder, n: int = 6) -> Index:
    return Index.empty(emb, ChunkParams(2, 1, 400)).with_documents([(_doc(i), 0) for i in range(n)], emb)


def _top_doc(index: Index, question: str, emb: CharEmbedder) -> str:
    ids, scores = index.bm25_scores(tokenize(question))
    return index.chunks[int(ids[int(np.argmax(scores))])].doc_id


def test_add_embeds_and_tokenises_only_the_new_article(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb)
    store.save(index, tmp_path)
    emb.calls.clear()
    new = index.with_documents([(_doc(40), 0)], emb)
    rec = new.docs["doc040"]
    # Only the new article's sentences are encoded (chunk vectors are pooled from them), each text once.
    expected = list(dict.fromkeys(normalize(new.sentences[s].text) for s in rec.sentence_ids))
    assert sorted(emb.calls) == sorted(expected)
    assert len(new.segments) == 2 and new.segments[0] is index.segments[0]
    assert _top_doc(new, "第40号产业园", emb) == "doc040"


def test_new_version_hard_links_unchanged_segments_and_keeps_their_checksums(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb)
    v1 = store.save(index, tmp_path)
    new = index.with_documents([(_doc(40), 0)], emb)
    v2 = store.save(new, tmp_path)
    m1 = json.loads((tmp_path / v1 / "manifest.json").read_text())
    m2 = json.loads((tmp_path / v2 / "manifest.json").read_text())
    old = index.segments[0].name
    for rel, digest in m1["files"].items():
        assert m2["files"][rel] == digest
        assert (tmp_path / v1 / rel).stat().st_ino == (tmp_path / v2 / rel).stat().st_ino
    assert {r.split("/")[0] for r in m2["files"]} == {old, new.segments[1].name}
    back = store.load(tmp_path, emb)
    assert back.chunks.keys() == new.chunks.keys() and back.stats == new.stats


def test_remove_hides_article_everywhere_and_survives_reload(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb)
    gone = index.without({"doc003"})
    assert "doc003" not in gone.docs
    dead = set(index.docs["doc003"].chunk_ids)
    ids, _ = gone.bm25_scores(tokenize("第3号产业园"))
    assert not dead & set(ids.tolist())
    vec = emb.encode([normalize(index.chunks[min(dead)].text)])[0]
    assert not dead & {i for i, _ in gone.dense_search(vec, 50)}
    assert gone.stats.n == len(gone.chunks)
    store.save(gone, tmp_path)
    back = store.load(tmp_path, emb)
    assert back.docs.keys() == gone.docs.keys() and back.dead_chunks == gone.dead_chunks
    assert back.stats == gone.stats
    np.testing.assert_array_equal(back.bm25_scores(tokenize("大东区"))[1], gone.bm25_scores(tokenize("大东区"))[1])


def test_replacing_an_article_keeps_one_copy(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb)
    changed = _doc(2)
    changed.text = changed.text.replace("产业园", "科技园")
    new = index.with_documents([(changed, 0)], emb)
    assert [d for d in new.docs if d == "doc002"] == ["doc002"]
    assert all(c not in new.chunks for c in index.docs["doc002"].chunk_ids)
    store.save(new, tmp_path)
    back = store.load(tmp_path, emb)
    assert "科技园" in back.docs["doc002"].doc.text and len(back.chunks) == len(new.chunks)


def test_many_small_adds_are_merged_and_answers_do_not_change(emb, tmp_path, monkeypatch):
    monkeypatch.setattr(model, "MAX_SEGMENTS", 3)
    index = _built(emb)
    for n in range(40, 46):
        index = index.with_documents([(_doc(n), 0)], emb)
        store.save(index, tmp_path)
    assert len(index.segments) <= 3
    reference = _built(emb, 0).with_documents([(_doc(i), 0) for i in [*range(6), *range(40, 46)]], emb)
    for q in ("第43号产业园", "沈河区老旧小区", "工业增加值"):
        got = dict(zip(*[x.tolist() for x in index.bm25_scores(tokenize(q))], strict=True))
        want = dict(zip(*[x.tolist() for x in reference.bm25_scores(tokenize(q))], strict=True))
        assert got == pytest.approx(want)
    back = store.load(tmp_path, emb)
    assert back.docs.keys() == index.docs.keys() and len(back.segments) == len(index.segments)


def test_mostly_removed_segments_are_compacted(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb, 8)
    index = index.without({f"doc{i:03d}" for i in range(4)})
    assert not index.dead_chunks  # more than MAX_DEAD_SHARE removed: rewritten without them
    assert sum(len(s.chunk_ids) for s in index.segments) == len(index.chunks)
    store.save(index, tmp_path)
    assert store.load(tmp_path, emb).chunks.keys() == index.chunks.keys()


def test_interrupted_build_leaves_old_index_loadable(emb: CharEmbedder, tmp_path: Path):
    index = _built(emb)
    version = store.save(index, tmp_path)

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "embed" and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Index.empty(emb, ChunkParams(2, 1, 400)).with_documents(
            [(_doc(i), 0) for i in range(20)], emb, progress=interrupt
        )
    assert store.current_version(tmp_path) == version
    assert store.load(tmp_path, emb).docs.keys() == index.docs.keys()
    # Re-running succeeds.
    store.save(_built(emb, 20), tmp_path)
    assert len(store.load(tmp_path, emb).docs) == 20


def test_interrupted_save_leaves_old_index_and_no_partial_version(emb, tmp_path, monkeypatch):
    index = _built(emb)
    version = store.save(index, tmp_path)
    new = index.with_documents([(_doc(40), 0)], emb)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(storage, "_write_json", boom)
    with pytest.raises(KeyboardInterrupt):
        store.save(new, tmp_path)
    monkeypatch.undo()
    assert store.current_version(tmp_path) == version
    assert not list(tmp_path.glob(".tmp-*"))
    assert store.load(tmp_path, emb).docs.keys() == index.docs.keys()
    store.save(new, tmp_path)  # the retry writes the segment the failed save had started
    assert "doc040" in store.load(tmp_path, emb).docs


def test_large_segments_use_hnsw_and_find_the_same_neighbours(emb, tmp_path, monkeypatch):
    monkeypatch.setattr(faiss_backend, "FLAT_MAX", 5)
    index = _built(emb, 12)
    types = {type(faiss_backend.faiss.downcast_index(p[0].index)).__name__ for p in index.backend.segments.values()}
    assert types == {"IndexHNSWFlat"}
    store.save(index, tmp_path)
    back = store.load(tmp_path, emb)
    ids = sorted(back.chunks)
    vecs = back.chunk_vectors(ids)
    for row, cid in enumerate(ids[:10]):
        assert back.dense_search(vecs[row], 1)[0][0] == cid
    removed = back.without({"doc005"})
    gone = set(back.docs["doc005"].chunk_ids)
    q = back.chunk_vectors([min(gone)])[0]
    assert not gone & {i for i, _ in removed.dense_search(q, 30)}


def test_wrong_backend_setting_is_refused_with_hint(emb: CharEmbedder, tmp_path: Path):
    store.save(_built(emb), tmp_path)
    with pytest.raises(store.IndexMismatchError, match="DADONG_QA_INDEX_BACKEND=faiss"):
        store.load(tmp_path, emb, backend="milvus")


def test_paragraph_keys_are_stored_not_recomputed(emb, tmp_path, monkeypatch):
    from dadong_qa.ingestion.ingest import shared_keys

    store.save(_built(emb), tmp_path)
    back = store.load(tmp_path, emb)
    expected = shared_keys(back.docs["doc001"].doc)
    assert expected

    def recomputed(doc):
        raise AssertionError("paragraph keys recomputed")

    monkeypatch.setattr(records, "shared_keys", recomputed)
    keys = back.paragraph_keys()
    assert all(k in keys for k in expected)
    assert not any(k in back.paragraph_keys(exclude={"doc001"}) for k in expected)


def test_remove_gives_back_dropped_paragraphs_only_to_articles_that_shared_them(emb, tmp_path):
    from dadong_qa import QA, load_settings

    p1 = "大东区新建的智慧停车平台接入停车泊位八千六百个，市民可以在线查询空余车位。"
    p2 = "浑南区科技产业园今年引进高新技术企业四十二家，带动就业岗位三千余个。"
    texts = {
        "a.txt": f"甲文章\n\n{p1}\n\n甲文章自己的内容说明大东区的教育发展情况良好。",
        "b.txt": f"乙文章\n\n乙文章自己的内容说明和平区的交通建设进展顺利。\n\n{p1}",
        "c.txt": f"丙文章\n\n{p2}\n\n丙文章自己的内容说明沈河区的文化活动丰富多彩。",
        "d.txt": f"丁文章\n\n丁文章自己的内容说明皇姑区的医疗服务不断完善。\n\n{p2}",
    }
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in texts.items():
        (corpus / name).write_text(text, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=emb)
    qa.build()
    assert p1 not in qa.index.docs["b"].doc.text and p2 not in qa.index.docs["d"].doc.text
    emb.calls.clear()
    qa.remove(["a"])
    assert p1 in qa.index.docs["b"].doc.text  # b gets its paragraph back
    assert p2 not in qa.index.docs["d"].doc.text
    assert not [t for t in emb.calls if "皇姑区" in t]  # d shared nothing with a: not re-embedded
    back = store.load(tmp_path / "index", emb)
    assert back.docs["d"].dropped_keys and back.docs["b"].dropped_keys == frozenset()
