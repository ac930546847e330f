"""Split a candidate dump (bench/reader_data.py) by article, or sample one, for continued training.

    # DRCD's candidates as ask() shortlists them with a policy not trained on DRCD, then two halves
    # by article: train on A, measure on B (and on the never-trained CMRC trial)
    python bench/reader_data.py ../shared/data/qa-train/drcd_test_simplified.json --top 6 \\
        --policy .cache/eval-open/policy-cmrc.json --out .cache/reader/drcd_test.jsonl
    python bench/reader_split.py split .cache/reader/drcd_test.jsonl \\
        ../shared/data/qa-train/drcd_test_simplified.json --out .cache/reader/cont/drcd
    # a seeded sample of a dump the reader was trained on before (replay against forgetting)
    python bench/reader_split.py sample .cache/reader/cmrc_train.jsonl --n 3000 \\
        --out .cache/reader/cont/cmrc_train_3000.jsonl

`split` halves the SQuAD file's articles (titles, seeded shuffle) and writes `PREFIX_A.jsonl`,
`PREFIX_B.jsonl`, `PREFIX_B.json` (the SQuAD file of B's articles, for `dadong-qa eval-open`) and
`PREFIX_B_titles.json`. A's questions lose the candidates that come from B's articles, so
training on A never sees a sentence of B; a question left with no candidate is dropped.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any


def read_jsonl(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def article_halves(squad: dict[str, Any], seed: int) -> tuple[dict[str, str], set[str]]:
    """Per question id its article's title, and the titles of half B."""
    title_of = {
        str(qa["id"]): article["title"]
        for article in squad["data"]
        for para in article["paragraphs"]
        for qa in para["qas"]
    }
    titles = sorted({article["title"] for article in squad["data"]})
    random.Random(seed).shuffle(titles)
    return title_of, set(titles[: len(titles) // 2])


def split(args: argparse.Namespace) -> int:
    squad = json.loads(Path(args.squad).read_text(encoding="utf-8"))
    title_of, half_b = article_halves(squad, args.seed)
    side_a, side_b = [], []
    for row in read_jsonl(args.dump):
        if title_of[row["id"]] in half_b:
            side_b.append(row)
            continue
        row["candidates"] = [c for c in row["candidates"] if c["title"] not in half_b]
        if row["candidates"]:
            side_a.append(row)
    prefix = Path(args.out)
    write_jsonl(prefix.with_name(prefix.name + "_A.jsonl"), side_a)
    write_jsonl(prefix.with_name(prefix.name + "_B.jsonl"), side_b)
    squad_b = {**squad, "data": [a for a in squad["data"] if a["title"] in half_b]}
    prefix.with_name(prefix.name + "_B.json").write_text(json.dumps(squad_b, ensure_ascii=False), encoding="utf-8")
    titles = json.dumps(sorted(half_b), ensure_ascii=False)
    prefix.with_name(prefix.name + "_B_titles.json").write_text(titles, encoding="utf-8")
    print(f"A: {len(side_a)} questions, B: {len(side_b)} questions ({len(half_b)} of {len(squad['data'])} articles)")
    return 0


def sample(args: argparse.Namespace) -> int:
    rows = read_jsonl(args.dump)
    random.Random(args.seed).shuffle(rows)
    write_jsonl(Path(args.out), rows[: args.n])
    print(f"{min(args.n, len(rows))} of {len(rows)} questions")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split", help="two halves by article")
    s.add_argument("dump")
    s.add_argument("squad", help="the SQuAD file the dump was made from (its article titles)")
    s.add_argument("--out", required=True, help="prefix of the files written")
    s.add_argument("--seed", type=int, default=20)
    s.set_defaults(run=split)
    m = sub.add_parser("sample", help="a seeded sample of questions")
    m.add_argument("dump")
    m.add_argument("--n", type=int, required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=20)
    m.set_defaults(run=sample)
    args = ap.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
