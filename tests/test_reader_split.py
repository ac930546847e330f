"""bench/reader_split.py: halves by article never share a sentence; samples are seeded."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("reader_split", ROOT / "bench" / "reader_split.py")
reader_split = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(reader_split)

TITLES = [f"条目{i}" for i in range(8)]


def files(tmp: Path) -> tuple[Path, Path]:
    squad = {"data": [{"title": t, "paragraphs": [{"context": f"{t}的正文。", "qas": [
        {"id": f"{i}-1-{n}", "question": f"{t}的问题{n}？", "answers": [{"text": "正文", "answer_start": 3}]}
        for n in range(2)]}]} for i, t in enumerate(TITLES)]}  # fmt: skip
    candidates = [{"title": t, "text": f"{t}的正文。"} for t in TITLES]
    rows = [
        {"id": qa["id"], "question": qa["question"], "candidates": candidates}
        for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]
    ]  # fmt: skip
    (tmp / "squad.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    reader_split.write_jsonl(tmp / "dump.jsonl", rows)
    return tmp / "dump.jsonl", tmp / "squad.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "bench" / "reader_split.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_halves_split_articles_and_a_never_sees_b(tmp_path: Path) -> None:
    dump, squad = files(tmp_path)
    done = run("split", str(dump), str(squad), "--out", str(tmp_path / "x"))
    assert done.returncode == 0, done.stderr
    half_b = set(json.loads((tmp_path / "x_B_titles.json").read_text(encoding="utf-8")))
    assert len(half_b) == 4
    side_a = reader_split.read_jsonl(str(tmp_path / "x_A.jsonl"))
    side_b = reader_split.read_jsonl(str(tmp_path / "x_B.jsonl"))
    assert len(side_a) == len(side_b) == 8
    assert all(c["title"] not in half_b for q in side_a for c in q["candidates"])
    assert all(len(q["candidates"]) == 8 for q in side_b)  # B is measured as ask() sees it
    squad_b = json.loads((tmp_path / "x_B.json").read_text(encoding="utf-8"))
    assert {a["title"] for a in squad_b["data"]} == half_b


def test_a_sample_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    dump, _ = files(tmp_path)
    for name in ("s1", "s2"):
        assert run("sample", str(dump), "--n", "5", "--out", str(tmp_path / f"{name}.jsonl")).returncode == 0
    first = (tmp_path / "s1.jsonl").read_text(encoding="utf-8")
    assert first == (tmp_path / "s2.jsonl").read_text(encoding="utf-8") and len(first.splitlines()) == 5
