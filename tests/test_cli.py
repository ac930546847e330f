"""Exit codes and safety of the `dadong-qa` commands (run in-process through `cli.main`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LIBRARY_ARTICLE, ORCHARD_ARTICLE
from dadong_qa import index as store
from dadong_qa.cli import main


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A corpus with one made-up article and its built index."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "library.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    assert main(["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index"), "build"]) == 0
    return tmp_path


def _run(folder: Path, *args: str, corpus: str = "corpus") -> int:
    return main(["--corpus", str(folder / corpus), "--index", str(folder / "index"), *args])


def test_build_with_missing_corpus_folder_exits_2_and_keeps_the_index(folder: Path, capsys: pytest.CaptureFixture):
    version = store.current_version(folder / "index")
    assert _run(folder, "build", corpus="corpuss") == 2
    assert "does not exist" in capsys.readouterr().err
    assert store.current_version(folder / "index") == version


def test_build_that_reads_no_article_keeps_a_full_index(folder: Path, capsys: pytest.CaptureFixture):
    version = store.current_version(folder / "index")
    (folder / "emptied").mkdir()
    assert _run(folder, "build", corpus="emptied") == 2
    assert "was kept" in capsys.readouterr().err
    assert store.current_version(folder / "index") == version


@pytest.mark.parametrize("command", [["status"], ["list"], ["ask", "图书馆开放到几点？"], ["eval", "x.jsonl"]])
def test_read_only_commands_never_build(tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "library.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    assert _run(tmp_path, *command) == 2
    err = capsys.readouterr().err
    assert "no index" in err and "dadong-qa build" in err
    assert not (tmp_path / "index").exists()


def test_add_exit_codes(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    assert _run(folder, "add", str(tmp_path / "missing.txt")) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "adir").mkdir()
    assert _run(folder, "add", str(tmp_path / "adir")) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "no such file" not in err
    good = tmp_path / "orchard.txt"
    good.write_text(ORCHARD_ARTICLE, encoding="utf-8")
    assert _run(folder, "add", str(good), str(tmp_path / "missing.txt")) == 1  # partial failure
    assert "added: orchard" in capsys.readouterr().out
    assert _run(folder, "add", str(good)) == 0  # unchanged is not a failure


def test_build_with_a_bad_file_exits_1_and_indexes_the_rest(folder: Path, capsys: pytest.CaptureFixture):
    (folder / "corpus" / "broken.txt").write_bytes(b"")
    assert _run(folder, "build") == 1
    captured = capsys.readouterr()
    assert "empty" in captured.err and "added: library" in captured.out


def test_remove_unknown_exits_2(folder: Path):
    assert _run(folder, "remove", "nothing_like_it") == 2
    assert _run(folder, "remove", "library", "nothing_like_it") == 1
