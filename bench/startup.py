"""Build time, cold start and warm latency on the current corpus.

    python bench/startup.py [--questions ../shared/eval/dev.jsonl] [--repeat 3]

- build: `dadong-qa build` of ./corpus into a temporary index, wall time;
- cold start: a fresh Python process that imports dadong_qa, loads the index and answers one
  question (what a user waits for after `make run` or a first `ask()`), wall time;
- warm: p50/p95 of `ask()` over the question set in one process, after one warm-up question.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLD = """
import time, sys
t0 = time.perf_counter()
from dadong_qa import QA, load_settings
qa = QA(load_settings(corpus_dir=sys.argv[1], index_dir=sys.argv[2]))
a = qa.ask("大东区有多少个网格？")
print(time.perf_counter() - t0)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", default="../shared/eval/dev.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = Path("corpus").resolve()
    index = tmp / "index"
    env = {**os.environ, "PYTHONPATH": str(Path("src").resolve())}
    builds = []
    for _ in range(args.repeat):
        shutil.rmtree(index, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dadong_qa.app.cli", "--corpus", str(corpus), "--index", str(index), "build"],
            check=True,
            env=env,
            capture_output=True,
        )
        builds.append(time.perf_counter() - t0)
    colds = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", COLD, str(corpus), str(index)], check=True, env=env, capture_output=True, text=True
        )
        colds.append(time.perf_counter() - t0)

    from dadong_qa import QA, load_settings
    from dadong_qa.app.evaluate import load_items

    qa = QA(load_settings(corpus_dir=corpus, index_dir=index))
    items = load_items(args.questions)
    qa.ask(items[0].question)
    lat = []
    for _ in range(args.repeat):
        for item in items:
            t0 = time.perf_counter()
            qa.ask(item.question)
            lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    result = {
        "build_s (process, incl. imports)": round(statistics.median(builds), 2),
        "cold_start_s (process: import + load + first answer)": round(statistics.median(colds), 2),
        "warm_p50_ms": round(statistics.median(lat), 2),
        "warm_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 2),
        "questions": len(items) * args.repeat,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
