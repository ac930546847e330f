"""How the reader's answer decision is set up, measured on shortlists it was not trained on.

    python bench/reader_sweep.py read DUMP... --out .cache/reader/sweep.jsonl [--reader DIR] [--top 12]
    python bench/reader_sweep.py sweep .cache/reader/sweep.jsonl

`read` runs the reader over each question's first `--top` candidates of a dump from
bench/reader_data.py (made with an answer policy not trained on that file, `--policy`) and keeps,
per candidate, the reader's logit, the policy's probability and the labels. `sweep` then answers,
without running the network again:
- how many candidates the reader should read (K),
- whether adding the policy's log-odds to the reader's logit (weight w) helps,
- which threshold gives refusal >= 0.90 on each file, and the contains / precision it costs,
separately for the regular protocol (held-out paragraphs unanswerable) and the silent one (the
answer sentence removed from its own paragraph).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.agreement import keys, pooled  # noqa: E402
from dadong_qa.answering.reader import Blend, ReaderInput, listwise  # noqa: E402
from dadong_qa.answering.reader.read import load  # noqa: E402
from dadong_qa.answering.short import short_answer, wants_long_spans  # noqa: E402

THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]
TARGET_REFUSAL = 0.90


def read(args: argparse.Namespace) -> int:
    reader = load(args.reader)
    with open(args.out, "w", encoding="utf-8") as out:
        for path in args.dumps:
            for n, line in enumerate(Path(path).read_text("utf-8").splitlines()):
                q = json.loads(line)
                cands = q["candidates"][: args.top]
                items = [ReaderInput(q["question"], c["text"], c["before"], c["title"]) for c in cands]
                readings = reader.read(items, long_spans=wants_long_spans(q["question"]))
                row = {
                    "set": q["set"],
                    "why": q["why"],
                    "answerable": q["answerable"],
                    "cands": [
                        {
                            "logit": round(r.logit, 4),
                            "span": round(r.spans[0].score, 4) if r.spans else None,
                            # a short answer of the asked kind inside the sentence (short.py)
                            "short": (found := short_answer(q["question"], c["text"], r.spans)) is not None,
                            # what pooling compares (--pool): the sentence, the short answer
                            "keys": keys(c["text"], found.text if found is not None else None),
                            "policy": c["policy"],
                            "holds": c["holds"],
                        }
                        for c, r in zip(cands, readings, strict=True)
                    ],
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                if n % 200 == 0:
                    print(f"{path}: {n}", flush=True)
    return 0


@dataclass(frozen=True)
class Decision:
    """How the shortlist's scores are made: the first `k` candidates, those after the first under
    policy probability `floor` unread; score = logit + w * policy log-odds + v * (span - m), as
    `ask()` blends them (reader.Blend)."""

    k: int
    w: float
    v: float = 0.0
    m: float = 8.0
    floor: float = 0.0
    pool: str = "none"  # pool candidates of one answer (agreement.py): none, sentence, answer

    def score(self, cand: dict[str, Any]) -> float:
        return Blend(self.w, self.v, self.m).score(cand["logit"], cand["policy"], cand.get("span"))


def decide(q: dict[str, Any], d: Decision) -> tuple[float, bool]:
    """(probability of the chosen candidate, whether it holds an answer)."""
    cands = [c for i, c in enumerate(q["cands"][: d.k]) if i == 0 or c["policy"] >= d.floor]
    if not cands:
        return 0.0, False
    probs = listwise([d.score(c) for c in cands])
    if d.pool != "none":
        kept = [tuple(k for k in c["keys"] if d.pool == "answer" or k.startswith("s:")) for c in cands]
        probs = [(p, own) for p, own in zip(pooled(probs, kept), probs, strict=True)]
    else:
        probs = [(p, p) for p in probs]
    best = max(range(len(probs)), key=probs.__getitem__)
    return probs[best][0], bool(cands[best]["holds"])


def curve(questions: list[dict[str, Any]], d: Decision) -> list[dict[str, float]]:
    picks = [(q["answerable"], *decide(q, d)) for q in questions]
    answerable = sum(a for a, _, _ in picks) or 1
    unanswerable = sum(not a for a, _, _ in picks) or 1
    rows = []
    for t in THRESHOLDS:
        kept = [(a, h) for a, p, h in picks if p >= t]
        right = sum(a and h for a, h in kept)
        rows.append(
            {
                "threshold": t,
                "contains": right / answerable,
                "refusal": 1 - sum(not a for a, _ in kept) / unanswerable,
                "precision": right / max(1, len(kept)),
            }
        )
    return rows


def at_refusal(rows: list[dict[str, float]]) -> dict[str, float]:
    """The lowest threshold whose refusal reaches the target (the most answers it allows)."""
    return next((r for r in rows if r["refusal"] >= TARGET_REFUSAL), rows[-1])


def views(questions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per file: the regular protocol (silent questions left out) and the silent one (held-out
    paragraphs left out, their questions would be refused for a simpler reason)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in sorted({q["set"] for q in questions}):
        mine = [q for q in questions if q["set"] == name]
        out[f"{name} regular"] = [q for q in mine if q["why"] != "silent"]
        out[f"{name} silent"] = [q for q in mine if q["why"] != "held_out"]
    return out


def sweep(args: argparse.Namespace) -> int:
    questions = [json.loads(line) for line in Path(args.file).read_text("utf-8").splitlines()]
    grid = [
        Decision(k, w, v, m, args.floor, pool)
        for k in args.k
        for w in args.w
        for v in args.v
        for m in args.m
        for pool in args.pool
    ]
    print(
        f"{'view':40}{'K':>4}{'w':>6}{'v':>6}{'m':>6}{'pool':>10}{'thresh':>8}{'contains':>10}{'refusal':>9}{'precision':>11}"
    )
    for name, qs in views(questions).items():
        for d in grid:
            r = at_refusal(curve(qs, d))
            print(
                f"{name:40}{d.k:>4}{d.w:>6}{d.v:>6}{d.m:>6}{d.pool:>10}{r['threshold']:>8}{r['contains']:>10.3f}"
                f"{r['refusal']:>9.3f}{r['precision']:>11.3f}"
            )
    if args.threshold is not None:
        for d in grid:
            for name, qs in views(questions).items():
                row = next(r for r in curve(qs, d) if r["threshold"] == args.threshold)
                print(f"at {args.threshold} ({d}) {name}: {row}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("read")
    r.add_argument("dumps", nargs="+")
    r.add_argument("--out", required=True)
    r.add_argument("--reader", default="", help="reader folder ('' = the shipped one)")
    r.add_argument("--top", type=int, default=12)
    s = sub.add_parser("sweep")
    s.add_argument("file")
    s.add_argument("--k", type=int, nargs="+", default=[4, 6, 8, 12])
    s.add_argument("--w", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0])
    s.add_argument("--v", type=float, nargs="+", default=[0.0], help="weights of the best span's score")
    s.add_argument("--pool", nargs="+", default=["none"], choices=["none", "sentence", "answer"])
    s.add_argument("--m", type=float, nargs="+", default=[8.0], help="span scores counted from this")
    s.add_argument("--floor", type=float, default=0.0, help="policy probability under which a candidate is unread")
    s.add_argument("--threshold", type=float, default=None, help="also print every view at this threshold")
    args = ap.parse_args()
    return read(args) if args.command == "read" else sweep(args)


if __name__ == "__main__":
    raise SystemExit(main())
