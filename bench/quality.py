"""Quality comparison of retrieval/answering variants on the same questions -> docs/quality.md.

    python bench/quality.py ../shared/eval/dev.jsonl eval/seed_extra.jsonl

Variants (each with the same extractive answer stage, so differences come from retrieval):
  bm25        keyword retrieval only (jieba words + character bigrams)
  dense       USE-multilingual-v3 only (chunk and sentence vectors)
  hybrid-rrf  both, fused by reciprocal rank (the usual baseline)
  hybrid      both, fused at score level with the calibrated weight, no query expansion
  full        the default pipeline: hybrid + 同义词词林 / embedding-neighbour expansion
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from dadong_qa import QA, load_settings
from dadong_qa.app.evaluate import COLUMNS, format_curve, refusal_curve, run_eval

VARIANTS = {
    "bm25": ({"expand_queries": False}, "bm25"),
    "dense": ({"expand_queries": False}, "dense"),
    "hybrid-rrf": ({"expand_queries": False, "fusion": "rrf"}, "hybrid"),
    "hybrid": ({"expand_queries": False}, "hybrid"),
    "full": ({}, "hybrid"),
}
METRICS = [(key, label) for key, label in COLUMNS if key != "n"]


def _cell(v: object) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def table(results: dict[str, dict], kinds: list[str]) -> str:
    lines = [
        "| kind | variant | n | " + " | ".join(label for _, label in METRICS) + " |",
        "|---" * (3 + len(METRICS)) + "|",
    ]
    for kind in kinds:
        for name, res in results.items():
            m = res["summary"].get(kind)
            if m:
                lines.append(
                    f"| {kind} | {name} | {m['n']} | " + " | ".join(_cell(m.get(k)) for k, _ in METRICS) + " |"
                )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--out", default="docs/quality.md")
    args = ap.parse_args()
    base = load_settings()
    QA(base).ensure_index()
    sections = []
    for path in args.sets:
        results = {}
        for name, (overrides, mode) in VARIANTS.items():
            qa = QA(base.with_overrides(**overrides))
            results[name] = run_eval(qa, path, mode=mode)
            print(f"{path} {name}: acc {results[name]['summary']['all']['accuracy']}")
        kinds = [
            k for k in ("lexical", "paraphrase", "multi", "unanswerable", "all") if k in results["full"]["summary"]
        ]
        curve = format_curve(refusal_curve(QA(base), path), base.refusal_threshold)
        sections.append(
            f"### `{path}`\n\n{table(results, kinds)}\n\nRefusal trade-off of the full pipeline "
            f"(support threshold; one run that never refuses):\n\n```\n{curve}\n```\n"
        )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    head = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, commit {commit}, embedder {base.embedder}.\n\n"
        f"Command: `python bench/quality.py {' '.join(args.sets)}`\n"
    )
    out = Path(args.out)
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    marker = "<!-- results -->"
    prefix = text.split(marker)[0] if marker in text else "# Answer quality\n\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(prefix + marker + "\n\n" + head + "\n" + "\n".join(sections), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
