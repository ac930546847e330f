"""Reader questions and feedback logs, the off switch, and the report (Python and CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from dadong_qa import load_settings
from dadong_qa.app.feedback import ReaderLog, Turn, missing_topics, report
from dadong_qa.audit import append_line


def _settings(tmp_path: Path, **kw):
    return load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", **kw)


def test_logs_hold_no_personal_data_and_can_be_turned_off(tmp_path: Path) -> None:
    log = ReaderLog(_settings(tmp_path))
    turn = Turn("示例县有几座机场？", (), refused=True)
    log.question(turn, "chat")
    log.vote(turn, liked=False)
    q = json.loads(log.questions.read_text("utf-8"))
    assert set(q) == {"time", "question", "answered", "doc_ids", "channel"}
    assert set(json.loads(log.feedback.read_text("utf-8"))) == {"time", "question", "answered", "doc_ids", "liked"}
    off = ReaderLog(_settings(tmp_path / "off", reader_log=False))
    off.question(turn, "api")
    off.vote(turn, liked=True)
    assert not off.questions.exists() and not off.feedback.exists()


def test_missing_topics_group_refused_questions_by_content_words() -> None:
    topics = missing_topics(["示例县的机场在哪里？", "示例县机场哪年通航？", "水库有多大？"])
    assert topics[0]["word"] in {"机场", "示例县"} and topics[0]["count"] == 2
    assert {"示例县的机场在哪里？", "示例县机场哪年通航？"} == set(topics[0]["questions"])
    assert all(t["word"] not in {"哪里", "多大", "的"} for t in topics)


def test_report_counts_per_day_and_cli(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    log = ReaderLog(settings)
    rows = [
        ("2025-01-01T10:00:00+00:00", "湖有多大？", True),
        ("2025-01-01T11:00:00+00:00", "机场在哪里？", False),
        ("2025-01-02T09:00:00+00:00", "机场哪年建成？", False),
    ]
    for when, question, answered in rows:
        append_line(log.questions, {"time": when, "question": question, "answered": answered, "doc_ids": []})
    append_line(
        log.feedback,
        {"time": rows[0][0], "question": "湖有多大？", "answered": True, "doc_ids": ["lake"], "liked": False},
    )
    data = report(settings)
    assert data["per_day"] == [
        {"day": "2025-01-01", "answered": 1, "refused": 1, "liked": 0, "disliked": 1},
        {"day": "2025-01-02", "answered": 0, "refused": 1, "liked": 0, "disliked": 0},
    ]
    assert data["missing_topics"][0] == {"word": "机场", "count": 2, "questions": ["机场在哪里？", "机场哪年建成？"]}
    assert data["disliked"][0]["doc_ids"] == ["lake"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    base = [
        sys.executable,
        "-m",
        "dadong_qa.app.cli",
        "--corpus",
        str(tmp_path / "corpus"),
        "--index",
        str(tmp_path / "index"),
    ]
    done = subprocess.run([*base, "report", "--since", "2025-01-02", "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    since = json.loads(done.stdout)
    assert since["totals"]["questions"] == 1 and [d["day"] for d in since["per_day"]] == ["2025-01-02"]
    text = subprocess.run([*base, "report"], env=env, capture_output=True, text=True).stdout
    assert "机场 ×2" in text and "湖有多大？" in text
