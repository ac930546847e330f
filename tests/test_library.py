"""The writer: build, add, remove and their file moves (library.py); reading never builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from dadong_qa import QA, IndexMissingError
from dadong_qa import index as store

NEW_ARTICLE = """西湖区建成智慧停车平台-测试新闻网

来源: 2023-03-01 10:00

西湖区智慧停车平台正式上线，接入停车泊位8600个。市民通过手机即可查询空余车位并在线缴费。
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_embeds_only_new_article_and_remove_makes_it_unretrievable(fresh_qa: QA, tmp_path: Path):
    before = fresh_qa.index
    old_vectors = {c: before.chunk_vectors([c])[0].tobytes() for c in before.chunks}
    path = _write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)
    report = fresh_qa.add([path])
    assert report.added == ["xihu_parking"] and not report.errors
    after = fresh_qa.index
    # Old chunks keep their ids and vectors: nothing was re-embedded.
    assert all(after.chunk_vectors([c])[0].tobytes() == v for c, v in old_vectors.items())
    answer = fresh_qa.ask("西湖区智慧停车平台接入了多少个停车泊位？")
    assert answer.answered and "8600" in answer.text
    assert answer.citations[0].doc_id == "xihu_parking" and answer.citations[0].date == "2023-03-01"
    assert (fresh_qa.settings.corpus_dir / "xihu_parking.txt").is_file()

    again = fresh_qa.add([path])
    assert again.unchanged == ["xihu_parking"]

    report = fresh_qa.remove(["xihu_parking"])
    assert report.removed == ["xihu_parking"]
    answer = fresh_qa.ask("西湖区智慧停车平台接入了多少个停车泊位？")
    assert all(p.doc_id != "xihu_parking" for p in answer.passages)
    assert "8600" not in answer.text
    assert not (fresh_qa.settings.corpus_dir / "xihu_parking.txt").exists()
    assert (fresh_qa.settings.corpus_dir / ".removed" / "xihu_parking.txt").is_file()


def test_changed_file_replaces_old_version(fresh_qa: QA, tmp_path: Path):
    path = _write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)
    fresh_qa.add([path])
    path.write_text(NEW_ARTICLE.replace("8600", "9100"), encoding="utf-8")
    report = fresh_qa.add([path])
    assert report.replaced == ["xihu_parking"]
    answer = fresh_qa.ask("西湖区智慧停车平台接入了多少个停车泊位？")
    assert "9100" in answer.text and "8600" not in answer.text
    assert sum(1 for r in fresh_qa.index.docs if r == "xihu_parking") == 1


def test_bad_upload_changes_nothing(fresh_qa: QA, tmp_path: Path):
    version = store.current_version(fresh_qa.settings.index_dir)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"%PDF-1.4 binary")
    report = fresh_qa.add([bad])
    assert report.errors and "PDF" in report.errors[0]
    assert store.current_version(fresh_qa.settings.index_dir) == version
    assert not (fresh_qa.settings.corpus_dir / "bad.txt").exists()


def test_other_process_change_is_picked_up(fresh_qa: QA, tmp_path: Path):
    other = QA(fresh_qa.settings)  # e.g. the CLI while the app runs
    fresh_qa.ask("测试")  # load
    other.add([_write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)])
    assert "xihu_parking" in fresh_qa.index.docs


def test_failed_remove_puts_the_file_back(fresh_qa: QA, tmp_path: Path, monkeypatch):
    fresh_qa.add([_write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)])
    version = store.current_version(fresh_qa.settings.index_dir)

    def full_disk(index, index_dir):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "save", full_disk)
    with pytest.raises(OSError, match="No space"):
        fresh_qa.remove(["xihu_parking"])
    assert (fresh_qa.settings.corpus_dir / "xihu_parking.txt").is_file()
    assert not (fresh_qa.settings.corpus_dir / ".removed" / "xihu_parking.txt").exists()
    assert store.current_version(fresh_qa.settings.index_dir) == version
    assert "xihu_parking" in fresh_qa.index.docs


def test_remove_moves_a_leftover_file_of_an_unindexed_article(fresh_qa: QA):
    corpus = fresh_qa.settings.corpus_dir
    (corpus / ".removed").mkdir(exist_ok=True)
    leftover = _write(corpus, "xihu_parking.txt", NEW_ARTICLE)  # in corpus/, never indexed
    report = fresh_qa.remove(["xihu_parking"])
    assert report.removed == ["xihu_parking"] and not report.errors
    assert not leftover.exists() and (corpus / ".removed" / "xihu_parking.txt").is_file()
    assert fresh_qa.remove(["xihu_parking"]).errors == ["xihu_parking: no such article in the index"]


def test_reading_never_builds_and_ensure_index_builds_once(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(corpus, "xihu_parking.txt", NEW_ARTICLE)
    qa = QA(corpus_dir=corpus, index_dir=tmp_path / "index")
    for read in (qa.live, qa.list_docs, qa.status, lambda: qa.ask("西湖区智慧停车平台接入了多少个停车泊位？")):
        with pytest.raises(IndexMissingError, match="dadong-qa build"):
            read()
    assert not store.exists(tmp_path / "index")
    assert qa.ensure_index() is True
    assert [d["doc_id"] for d in qa.list_docs()] == ["xihu_parking"]
    version = store.current_version(tmp_path / "index")
    assert qa.ensure_index() is False  # there is one now: nothing rebuilt
    assert store.current_version(tmp_path / "index") == version


def test_ensure_index_with_no_articles_creates_nothing(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    qa = QA(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    assert qa.ensure_index() is False
    assert not (tmp_path / "index").exists()


def test_the_library_writes_what_its_qa_then_reads(fresh_qa: QA, tmp_path: Path):
    fresh_qa.ask("测试")  # loaded before the change
    report = fresh_qa.library.add([_write(tmp_path, "xihu_parking.txt", NEW_ARTICLE)], actor="alice")
    assert report.added == ["xihu_parking"]
    assert fresh_qa.loaded_index() is fresh_qa.index  # the new version, without a reload from disk
    assert "xihu_parking" in fresh_qa.index.docs
