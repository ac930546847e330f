"""Same-name uploads (replace or keep both), restoring removed articles, the searchable article table."""

from __future__ import annotations

from pathlib import Path

from conftest import LIBRARY_ARTICLE, ORCHARD_ARTICLE
from dadong_qa.app.editing import add_keeping_both, article_table, conflicts, free_name, removed_files, restore
from dadong_qa.audit import audit_path, read_lines


def _write(folder: Path, name: str, text: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, "utf-8")
    return str(folder / name)


def test_same_name_different_article_is_a_conflict_and_can_be_kept(fresh_qa, tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "news.txt", LIBRARY_ARTICLE)
    fresh_qa.add([first])
    same = _write(tmp_path / "b", "news.txt", LIBRARY_ARTICLE)
    other = _write(tmp_path / "c", "news.txt", ORCHARD_ARTICLE)
    assert conflicts(fresh_qa, [same]) == []  # identical content: nothing to ask
    [clash] = conflicts(fresh_qa, [other])
    assert (clash.name, clash.doc_id, clash.title) == ("news.txt", "news", "示例县图书馆延长开放时间")
    assert free_name(fresh_qa, "news.txt") == "news-2.txt"
    report = add_keeping_both(fresh_qa, [other], ["news.txt"], actor="alice")
    assert report.added == ["news-2"] and not report.replaced
    titles = {r[-1]: r[0] for r in article_table(fresh_qa)}
    assert titles["news"] == "示例县图书馆延长开放时间" and titles["news-2"] == "示例县苹果节开幕"


def test_removed_article_can_be_restored(fresh_qa, tmp_path: Path) -> None:
    path = _write(tmp_path, "orchard.txt", ORCHARD_ARTICLE)
    fresh_qa.add([path])
    fresh_qa.remove(["orchard"], actor="alice")
    assert "orchard" not in fresh_qa.index.docs and removed_files(fresh_qa) == ["orchard.txt"]
    report = restore(fresh_qa, "orchard.txt", actor="alice")
    assert report.added == ["orchard"] and "orchard" in fresh_qa.index.docs
    assert removed_files(fresh_qa) == [] and (fresh_qa.settings.corpus_dir / "orchard.txt").is_file()
    last = read_lines(audit_path(fresh_qa.settings))[-1]
    assert (last["actor"], last["action"], last["doc_ids"]) == ("alice", "restore", ["orchard"])
    for bad in ("orchard.txt", "../orchard.txt", "/etc/passwd"):
        assert restore(fresh_qa, bad, actor="alice").errors  # nothing removed under that name


def test_article_table_search_and_sort(fresh_qa, tmp_path: Path) -> None:
    fresh_qa.add([_write(tmp_path, "library.txt", LIBRARY_ARTICLE), _write(tmp_path, "orchard.txt", ORCHARD_ARTICLE)])
    found = article_table(fresh_qa, "示例县")
    assert sorted(r[-1] for r in found) == ["library", "orchard"]
    assert [r[0] for r in found] == sorted(r[0] for r in found)  # by title by default
    assert [r[-1] for r in article_table(fresh_qa, "苹果")] == ["orchard"]
    assert [r[-1] for r in article_table(fresh_qa, "2025-03")] == ["library"]
    by_date = [r[1] for r in article_table(fresh_qa, sort="日期") if r[1]]
    assert by_date == sorted(by_date)
    newest_first = [r[1] for r in article_table(fresh_qa, sort="日期", descending=True) if r[1]]
    assert newest_first == sorted(by_date, reverse=True)
    assert article_table(fresh_qa, "没有这样的文章") == []
