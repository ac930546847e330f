"""The audit log: one whole JSON line per change, from the QA methods and the CLI, even when the writer is killed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LIBRARY_ARTICLE, ROOT
from dadong_qa.app.feedback import FEEDBACK_FILE, QUESTIONS_FILE
from dadong_qa.audit import append_line, audit_path, log_dir, read_lines, recent
from dadong_qa.config import Settings


def test_append_line_writes_whole_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    append_line(path, {"action": "add", "files": [{"name": "甲.txt"}]})
    append_line(path, {"action": "remove"})
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 2
    assert [r["action"] for r in read_lines(path)] == ["add", "remove"]
    assert read_lines(path, limit=1) == [{"action": "remove"}]


def test_read_lines_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "b": "unfinis')
    assert read_lines(path) == [{"a": 1}]


WRITER = """
import sys
from pathlib import Path
from dadong_qa.audit import append_line
path = Path(sys.argv[1])
i = 0
while True:
    append_line(path, {"n": i, "pad": "数据" * (i % 500), "files": [{"name": f"f{i}.txt"}]})
    i += 1
    if i == 50:
        print("running", flush=True)
"""


def test_a_killed_writer_leaves_only_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        time.sleep(0.05 * (round_ + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.split(b"\n")[:-1]
    assert len(lines) >= 150
    for line in lines:
        record = json.loads(line)  # every line is a whole record
        assert record["files"][0]["name"] == f"f{record['n']}.txt"


def test_a_line_a_killed_writer_left_torn_is_cut_off_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    append_line(path, {"n": 0})
    with path.open("ab") as fh:
        fh.write('{"n":1,"pad":"数'.encode()[:-1])  # cut in the middle of a character
    append_line(path, {"n": 2})
    assert path.read_bytes() == b'{"n":0}\n{"n":2}\n'


def test_every_change_through_qa_is_logged_with_its_actor(fresh_qa, tmp_path: Path) -> None:
    log = audit_path(fresh_qa.settings)
    assert log == fresh_qa.settings.index_dir.parent / "logs" / "audit.jsonl"
    before = len(read_lines(log))  # the fixture's build
    new = tmp_path / "library.txt"
    new.write_text(LIBRARY_ARTICLE, "utf-8")
    fresh_qa.add([new], actor="alice")
    fresh_qa.add(iter([new]), actor="alice")  # same content: unchanged (and a one-shot iterator works)
    new.write_text(LIBRARY_ARTICLE + "\n图书馆还将开设夜间自习室。\n", "utf-8")
    fresh_qa.add([new], actor="bob")
    fresh_qa.remove(["library"], actor="bob")
    fresh_qa.remove(["no_such_doc"])
    records = read_lines(log)[before:]
    assert [(r["actor"], r["action"], r["outcome"]) for r in records] == [
        ("alice", "add", "ok"),
        ("alice", "add", "unchanged"),
        ("bob", "add", "ok"),
        ("bob", "remove", "ok"),
        ("cli", "remove", "refused"),
    ]
    added, _, replaced, removed, _ = records
    assert added["doc_ids"] == ["library"] and added["added"] == ["library"]
    assert replaced["replaced"] == ["library"]
    import hashlib

    assert replaced["files"] == [{"name": "library.txt", "sha256": hashlib.sha256(new.read_bytes()).hexdigest()}]
    assert (
        removed["files"][0]["name"] == "library.txt" and removed["files"][0]["sha256"] == replaced["files"][0]["sha256"]
    )
    assert recent(fresh_qa.settings, 1)[0]["errors"] == ["no_such_doc: no such article in the index"]


def test_cli_changes_are_logged_as_cli(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "library.txt").write_text(LIBRARY_ARTICLE, "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DADONG_QA_AUDIT_LOG": str(tmp_path / "logs" / "a.jsonl")}
    base = [sys.executable, "-m", "dadong_qa.app.cli", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    for args in (["build"], ["remove", "library"]):
        done = subprocess.run([*base, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    records = read_lines(tmp_path / "logs" / "a.jsonl")
    assert [(r["actor"], r["action"], r["outcome"], r["doc_ids"]) for r in records] == [
        ("cli", "build", "ok", ["library"]),
        ("cli", "remove", "ok", ["library"]),
    ]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_logs_of_an_app_run_from_the_checkout_are_ignored_by_git() -> None:
    """Running the app in the project folder must leave the checkout as it was (issue 21, item 12):
    the default logs are in a folder git ignores, and no log is committed."""
    settings = Settings()  # the defaults: index/ in the project folder
    logs = [audit_path(settings), log_dir(settings) / QUESTIONS_FILE, log_dir(settings) / FEEDBACK_FILE]
    names = [str(p) for p in logs]
    ignored = subprocess.run(["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True).stdout
    assert ignored.split() == names  # a tracked file is never reported as ignored
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not {Path(t).name for t in tracked.split()} & {"audit.jsonl", QUESTIONS_FILE, FEEDBACK_FILE}
