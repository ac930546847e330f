"""Exit codes and safety of the `dadong-qa` commands (run in-process through `cli.main`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LAKE_ARTICLE, LIBRARY_ARTICLE, ORCHARD_ARTICLE
from dadong_qa import index as store
from dadong_qa.app.cli import main


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


def test_meta_corrects_title_and_date_and_survives_a_rebuild(folder: Path, capsys: pytest.CaptureFixture):
    from dadong_qa import QA, load_settings

    (folder / "corpus" / "orchard.txt").write_text(ORCHARD_ARTICLE, encoding="utf-8")
    assert _run(folder, "build") == 0
    qa = QA(load_settings(corpus_dir=folder / "corpus", index_dir=folder / "index"))
    before = qa.index.docs
    assert _run(folder, "meta", "library", "--date", "2025-03-02", "--title", "示例县图书馆夜间开放") == 0
    assert "replaced: library" in capsys.readouterr().out
    after = qa.index.docs
    assert (after["library"].doc.date, after["library"].doc.title) == ("2025-03-02", "示例县图书馆夜间开放")
    assert after["library"].doc.text == before["library"].doc.text
    assert after["orchard"].sentence_ids == before["orchard"].sentence_ids  # the other article is kept as it was
    a = qa.ask("示例县图书馆每天开放到几点？")
    assert a.citations[0].date == "2025-03-02" and a.citations[0].title == "示例县图书馆夜间开放"
    assert _run(folder, "build") == 0  # the correction is kept beside the files
    assert qa.index.docs["library"].doc.date == "2025-03-02"
    assert _run(folder, "meta", "library", "--date", "2025-03-02") == 0
    assert "unchanged: library" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["meta", "library", "--date", "2025-13-01"], "not a date"),
        (["meta", "library"], "nothing to change"),
        (["meta", "library", "--title", "  "], "title is empty"),
        (["meta", "nothing_like_it", "--date", "2025-01-01"], "no such article"),
    ],
)
def test_meta_refuses_bad_values(folder: Path, args: list[str], message: str, capsys: pytest.CaptureFixture):
    version = store.current_version(folder / "index")
    assert _run(folder, *args) == 2
    assert message in capsys.readouterr().err
    assert store.current_version(folder / "index") == version


def test_meta_embeds_only_the_changed_article(folder: Path):
    from dadong_qa import QA, load_settings
    from dadong_qa.embed import get_embedder

    class Recording:
        def __init__(self) -> None:
            self.inner = get_embedder()
            self.name, self.dim, self.texts = self.inner.name, self.inner.dim, []

        def encode(self, texts, progress=None):
            self.texts += list(texts)
            return self.inner.encode(texts, progress)

    (folder / "corpus" / "orchard.txt").write_text(ORCHARD_ARTICLE, encoding="utf-8")
    assert _run(folder, "build") == 0
    spy = Recording()
    qa = QA(load_settings(corpus_dir=folder / "corpus", index_dir=folder / "index"), embedder=spy)
    qa.set_meta("library", date="2025-03-05")
    assert spy.texts and not any("苹果" in t for t in spy.texts)
    assert any("图书馆" in t for t in spy.texts)


def test_sync_adds_changes_and_removes_to_match_the_folder(folder: Path, capsys: pytest.CaptureFixture):
    from dadong_qa import QA, load_settings

    corpus = folder / "corpus"
    (corpus / "orchard.txt").write_text(ORCHARD_ARTICLE, encoding="utf-8")
    (corpus / "lake one.txt").write_text(LAKE_ARTICLE, encoding="utf-8")  # a name that is not a safe id
    qa = QA(load_settings(corpus_dir=corpus, index_dir=folder / "index"))
    status = qa.status()
    assert status["not_indexed"] == ["lake one.txt", "orchard.txt"] and not status["changed"]
    assert _run(folder, "status") == 0
    assert "not_indexed: lake one.txt, orchard.txt" in capsys.readouterr().out

    assert _run(folder, "sync") == 0
    assert "2 added, 0 replaced, 0 removed" in capsys.readouterr().out
    assert set(qa.index.docs) == {"library", "orchard", "lake_one"}
    assert sorted(p.name for p in corpus.iterdir() if not p.name.startswith(".")) == [
        "lake one.txt", "library.txt", "orchard.txt"
    ]  # no second copy under another name
    kept = {d: qa.index.docs[d].sentence_ids for d in ("library", "lake_one")}

    (corpus / "orchard.txt").write_text(ORCHARD_ARTICLE.replace("5.2万亩", "5.8万亩"), encoding="utf-8")
    (corpus / "library.txt").unlink()
    (corpus / "new.txt").write_text(LIBRARY_ARTICLE.replace("图书馆", "博物馆"), encoding="utf-8")
    todo = qa.pending()
    assert (todo.new, todo.changed, todo.missing) == (["new.txt"], ["orchard.txt"], ["library"])
    assert _run(folder, "sync") == 0
    assert "1 added, 1 replaced, 1 removed" in capsys.readouterr().out
    assert set(qa.index.docs) == {"orchard", "lake_one", "new"}
    assert "5.8万亩" in qa.index.docs["orchard"].doc.text
    assert qa.index.docs["lake_one"].sentence_ids == kept["lake_one"]  # unchanged: untouched
    assert not qa.pending()
    assert _run(folder, "sync") == 0 and "0 added, 0 replaced, 0 removed" in capsys.readouterr().out

    (corpus / "bad.txt").write_bytes(b"")
    assert _run(folder, "sync") == 2  # nothing could be done: the one file is refused
    assert _run(folder, "sync", corpus="corpuss") == 2


def test_every_subcommand_has_a_function() -> None:
    from dadong_qa.app.cli import COMMANDS, ROLE_COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS) | set(ROLE_COMMANDS)


SUBCOMMANDS = ["build", "add", "sync", "remove", "meta", "list", "status", "ask", "eval", "eval-open", "serve"]


@pytest.mark.parametrize("command", [*SUBCOMMANDS, "editor", "report"])
def test_help_of_each_subcommand(command: str, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: dadong-qa {command}") and "--index" in out


def test_unknown_subcommand_and_missing_arguments_exit_2(capsys: pytest.CaptureFixture):
    for argv in (["biuld"], ["remove"], ["ask"], ["meta"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert "usage: dadong-qa" in capsys.readouterr().err


def test_typo_in_the_index_path_says_there_is_no_index(folder: Path, capsys: pytest.CaptureFixture):
    code = main(["--corpus", str(folder / "corpus"), "--index", str(folder / "indx"), "status"])
    assert code == 2
    assert f"no index in {folder / 'indx'}: run dadong-qa build" in capsys.readouterr().err
    assert not (folder / "indx").exists()


def test_status_prints_the_counts(folder: Path, capsys: pytest.CaptureFixture):
    capsys.readouterr()
    assert _run(folder, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    index = store.load(folder / "index")
    assert f"chunks: {len(index.chunks)}" in lines and f"docs: {len(index.docs)}" in lines
    assert "not_indexed: " in lines  # every corpus file is indexed


def test_status_and_list_json(folder: Path, capsys: pytest.CaptureFixture):
    import json

    capsys.readouterr()
    assert _run(folder, "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["docs"] == 1 and status["chunks"] >= 1
    assert _run(folder, "list", "--json") == 0
    assert [d["doc_id"] for d in json.loads(capsys.readouterr().out)] == ["library"]


def test_ask_json_is_the_answer(folder: Path, capsys: pytest.CaptureFixture):
    import json

    capsys.readouterr()
    assert _run(folder, "ask", "示例县图书馆每天开放到几点？", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["question"] == "示例县图书馆每天开放到几点？"
    assert {"text", "answered", "citations", "passages"} <= set(answer)
    assert all(c["doc_id"] == "library" for c in answer["citations"])
    assert answer["passages"] and answer["passages"][0]["doc_id"] == "library"


def test_empty_question_exits_2_with_the_reason(folder: Path, capsys: pytest.CaptureFixture):
    assert _run(folder, "ask", "   ") == 2
    assert "请输入问题" in capsys.readouterr().err


# ---------------------------------------------------------------- failing closed (issue 21, item 7)


def _unwritable_audit_log(folder: Path) -> None:
    """Put a folder where the audit log goes: it cannot be opened for writing, not even by root."""
    log = folder / "logs" / "audit.jsonl"
    log.unlink()
    log.mkdir()


@pytest.mark.parametrize("command", ["add", "remove", "build"])
def test_an_unwritable_audit_log_stops_the_change(
    folder: Path, tmp_path: Path, command: str, capsys: pytest.CaptureFixture
):
    new = tmp_path / "orchard.txt"
    new.write_text(ORCHARD_ARTICLE, encoding="utf-8")
    args = {"add": ["add", str(new)], "remove": ["remove", "library"], "build": ["build"]}[command]
    version = store.current_version(folder / "index")
    _unwritable_audit_log(folder)
    capsys.readouterr()
    assert _run(folder, *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write the audit log" in err[0] and "nothing was changed" in err[0]
    assert store.current_version(folder / "index") == version
    assert sorted(p.name for p in (folder / "corpus").iterdir()) == ["library.txt"]


def test_a_change_whose_audit_line_fails_after_the_check_exits_1_and_says_so(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    import errno

    from dadong_qa import audit

    def full(path: Path, record: dict) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit, "append_line", full)
    new = tmp_path / "orchard.txt"
    new.write_text(ORCHARD_ARTICLE, encoding="utf-8")
    capsys.readouterr()
    assert _run(folder, "add", str(new)) == 1
    err = capsys.readouterr().err
    assert "the add was made, but its line could not be written" in err and "Traceback" not in err


def _lose_the_index(folder: Path) -> str:
    """Delete the version CURRENT names, as a bad clean-up or a half-restored backup would."""
    import shutil

    version = store.current_version(folder / "index")
    shutil.rmtree(folder / "index" / version)
    return version


def test_a_lost_index_is_named_and_never_replaced_by_a_smaller_one(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    lost = _lose_the_index(folder)
    capsys.readouterr()
    assert _run(folder, "list") == 2
    err = capsys.readouterr().err
    assert f"names index version {lost}, which is missing" in err and "run dadong-qa build" in err
    new = tmp_path / "orchard.txt"
    new.write_text(ORCHARD_ARTICLE, encoding="utf-8")
    assert _run(folder, "add", str(new)) == 2  # not an index of orchard alone
    assert "nothing was changed" in capsys.readouterr().err
    assert store.current_version(folder / "index") == lost
    assert _run(folder, "build") == 0
    out = capsys.readouterr().out
    assert f"names index version {lost}, which is missing" in out and "rebuilt from" in out
    assert list(store.load(folder / "index").docs) == ["library"]


def test_the_first_use_rebuild_of_a_lost_index_says_so(folder: Path, caplog: pytest.LogCaptureFixture):
    """What `serve` and `ask()` do on start: build when there is no index, and say why."""
    from dadong_qa import QA, load_settings

    lost = _lose_the_index(folder)
    qa = QA(load_settings(corpus_dir=folder / "corpus", index_dir=folder / "index"))
    with caplog.at_level("WARNING", logger="dadong_qa.library"):
        assert qa.ensure_index() is True
    assert any(f"{lost}, which is missing" in r.getMessage() and "rebuilt" in r.getMessage() for r in caplog.records)


def test_remove_of_an_id_that_starts_with_a_dash_says_how(folder: Path, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exit_:
        _run(folder, "remove", "-rf")
    assert exit_.value.code == 2
    assert "goes after '--': dadong-qa remove -- -rf" in capsys.readouterr().err
    assert _run(folder, "remove", "--", "-rf") == 2
    assert "-rf: no such article in the index" in capsys.readouterr().err


# ---------------------------------------------------------------- what build and add say (issue 21, item 9)


def test_an_exact_duplicate_is_skipped_and_said_not_an_error(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    (folder / "corpus" / "library_copy.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    (folder / "corpus" / "orchard.txt").write_text(ORCHARD_ARTICLE, encoding="utf-8")
    capsys.readouterr()
    assert _run(folder, "build") == 0
    out, err = capsys.readouterr()
    assert err == "" and "library_copy.txt: duplicate" in out and "skipped" in out
    assert "done: 2 added, 1 skipped as duplicates" in out
    again = tmp_path / "again.txt"
    again.write_text(LIBRARY_ARTICLE, encoding="utf-8")
    assert _run(folder, "add", str(again)) == 0
    out, err = capsys.readouterr()
    assert err == "" and "nothing changed: 1 skipped as duplicates" in out


def test_add_that_changes_nothing_says_so(folder: Path, capsys: pytest.CaptureFixture):
    capsys.readouterr()
    assert _run(folder, "add", str(folder / "corpus" / "library.txt")) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("nothing changed: 1 unchanged (")


def test_a_damaged_pdf_is_one_line_and_pypdf_says_nothing(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 broken")
    capsys.readouterr()
    with caplog.at_level("WARNING"):
        assert _run(folder, "add", str(broken)) == 2
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []  # "EOF marker not found"
    assert capsys.readouterr().err.splitlines() == ["error: broken.pdf: not a readable PDF (PdfStreamError)"]


@pytest.mark.parametrize(("command", "message"), [("eval", "no such question set"), ("eval-open", "no such file")])
def test_evaluating_a_missing_file_is_one_clear_line(
    folder: Path, command: str, message: str, capsys: pytest.CaptureFixture
):
    capsys.readouterr()
    assert _run(folder, command, str(folder / "nothere.json")) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and message in err[0] and "Errno" not in err[0]


def test_ask_shows_the_short_answer_and_its_period_first(built_qa, capsys: pytest.CaptureFixture):
    question = "大东区规上工业增加值是多少？"
    answer = built_qa.ask(question)
    assert answer.short and answer.period
    s = built_qa.settings
    capsys.readouterr()
    assert main(["--corpus", str(s.corpus_dir), "--index", str(s.index_dir), "ask", question]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{answer.short}（{answer.period}）"
