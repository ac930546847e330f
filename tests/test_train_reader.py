"""bench/train_reader.py end to end on a tiny SQuAD file: dump, train, export, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dadong_qa.answering.reader.weights import load_reader

ROOT = Path(__file__).resolve().parents[1]
PARAGRAPHS = [
    ("青松湖", "青松湖湿地公园位于示例县城北。2024年，公园共接待游客38万人次。每年冬季约有1200只白天鹅在湖区越冬。",
     [("公园2024年接待游客多少人次？", "38万人次"), ("每年冬季约有多少只白天鹅越冬？", "1200只")]),
    ("苹果节", "第七届示例县苹果节于9月20日在红石村开幕。今年示例县苹果种植面积达到5.2万亩。",
     [("苹果节在哪个村开幕？", "红石村"), ("苹果种植面积达到多少？", "5.2万亩")]),
    ("图书馆", "示例县图书馆自3月起每天开放至晚上9点。图书馆今年还将新增自助借还机6台。",
     [("图书馆每天开放到几点？", "晚上9点"), ("图书馆将新增多少台自助借还机？", "6台")]),
]  # fmt: skip


def squad(path: Path) -> Path:
    data = {"data": [{"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": f"{title}-{n}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
        for n, (q, a) in enumerate(qas)]}]} for title, context, qas in PARAGRAPHS]}  # fmt: skip
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def train(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "bench" / "train_reader.py"), "--out", str(out), "--layers", "1",
           "--max-len", "64", "--batch", "2", "--top", "4", "--save-every", "1", "--threads", "1", *extra]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.mark.slow
def test_training_on_a_tiny_squad_file_exports_a_loadable_reader(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = train(out, "--squad", str(squad(tmp_path / "tiny.json")))
    assert done.returncode == 0, done.stderr[-2000:]
    dump = [json.loads(line) for line in (out / "tiny.jsonl").read_text(encoding="utf-8").splitlines()]
    assert dump and all(q["candidates"] for q in dump)
    assert any(c["answers"] and c["span"] for q in dump for c in q["candidates"])  # positives with spans
    _, meta = load_reader(out)
    assert meta["layers"] == 1 and meta["trained_on"] == ["tiny"] and meta["config"]["seed"] == 0
    assert (out / "checkpoint.pt").exists()
    # Resuming a finished run trains no further step and exports the same description.
    again = train(out, "--train", str(out / "tiny.jsonl"), "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resumed at step {meta['steps']}/{meta['steps']}" in (out / "train.log").read_text(encoding="utf-8")
    # Continued training starts from the saved reader and says so in its description.
    more = train(tmp_path / "more", "--train", str(out / "tiny.jsonl"), "--init", str(out))
    assert more.returncode == 0, more.stderr[-2000:]
    _, cont = load_reader(tmp_path / "more")
    assert cont["continued_from"]["trained_on"] == ["tiny"] and cont["trained_on"] == ["tiny"]
    # A reader of another depth is not silently reshaped.
    deeper = train(tmp_path / "deeper", "--train", str(out / "tiny.jsonl"), "--init", str(out), "--layers", "2")
    assert deeper.returncode != 0 and "a 1-layer reader with 0 frozen, not --layers 2" in deeper.stderr


def test_nothing_to_train_on_is_a_usage_error(tmp_path: Path) -> None:
    done = train(tmp_path / "run")
    assert done.returncode == 2 and "nothing to train on" in done.stderr


def test_a_missing_dump_is_named_before_anything_loads(tmp_path: Path) -> None:
    done = train(tmp_path / "run", "--train", str(tmp_path / "typo.jsonl*5"))
    assert done.returncode == 2 and "no such file" in done.stderr and "typo.jsonl" in done.stderr


def test_init_from_a_folder_without_a_reader_is_a_clear_error(tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text("", encoding="utf-8")
    done = train(tmp_path / "run", "--train", str(dump), "--init", str(tmp_path / "nowhere"))
    assert done.returncode == 1 and "--init" in done.stderr and "reader's description is missing" in done.stderr
