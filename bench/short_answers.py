"""Short answers on the gold sentence: how good the span layer is when the sentence is right.

    python bench/short_answers.py ../shared/data/qa-train/drcd_test_simplified.json [--limit 600] [--out rows.jsonl]

For each question of a SQuAD-format file (one the reader was not trained on), the reader reads
the question with the sentence that holds its first gold answer (the sentence before it and the
title as context, as `ask()` shows them), and `short.short_answer` turns the span head's guesses
into the short answer. Reported per question kind (read_question's answer type, factoid or not):
EM / F1 of the span head's raw best span, of the short answer, and of what `ask()` shows (the
short answer, else the whole sentence). Retrieval and the sentence choice are left out, so a
change to short.py is measured here in a minute instead of a whole open-domain run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.reader import ReaderInput  # noqa: E402
from dadong_qa.answering.reader.read import load  # noqa: E402
from dadong_qa.answering.short import short_answer, wants_long_spans  # noqa: E402
from dadong_qa.answering.spans import read_question  # noqa: E402
from dadong_qa.app.metrics import em, f1  # noqa: E402
from dadong_qa.ingestion.chunk import split_sentences  # noqa: E402


def questions(path: Path) -> list[dict]:
    """(question, sentence, before, title, answers) with the sentence holding the first answer."""
    out = []
    for article in json.loads(path.read_text("utf-8"))["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences(context)
            for qa in para["qas"]:
                answers = [a["text"] for a in qa["answers"] if a["text"].strip()]
                first = qa["answers"][0] if qa["answers"] else None
                if not answers or first is None:
                    continue
                at = int(first["answer_start"])
                i = next((i for i, (a, b) in enumerate(spans) if a <= at < b), None)
                if i is None or first["text"] not in context[spans[i][0] : spans[i][1]]:
                    continue  # the answer crosses a sentence boundary
                a, b = spans[i]
                before = context[spans[i - 1][0] : spans[i - 1][1]] if i else ""
                out.append(
                    {
                        "question": qa["question"],
                        "sentence": context[a:b],
                        "before": before,
                        "title": article.get("title", ""),
                        "answers": answers,
                    }
                )
    return out


def kind(question: str) -> str:
    asked = read_question(question)
    return f"{asked.answer_type}{'' if asked.factoid else '/non-factoid'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--limit", type=int, default=600, help="questions sampled (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reader", default="", help="reader folder ('' = the shipped weights)")
    parser.add_argument("--out", type=Path, help="write one row per question here")
    args = parser.parse_args()
    items = questions(args.file)
    if 0 < args.limit < len(items):
        items = random.Random(args.seed).sample(items, args.limit)
    reader = load(args.reader)
    totals: dict[str, list[list[float]]] = defaultdict(list)
    rows = []
    for item in items:
        item_in = ReaderInput(item["question"], item["sentence"], item["before"], item["title"])
        reading = reader.read([item_in], long_spans=wants_long_spans(item["question"]))[0]
        raw = item["sentence"][reading.spans[0].start : reading.spans[0].end] if reading.spans else None
        found = short_answer(item["question"], item["sentence"], reading.spans)
        short = found.text if found is not None else None
        golds = item["answers"]
        shown = short or item["sentence"]
        scores = [
            em(raw, golds),
            f1(raw, golds),
            em(short, golds),
            f1(short, golds),
            em(shown, golds),
            f1(shown, golds),
        ]
        for key in ("all", kind(item["question"])):
            totals[key].append([*scores, float(short is not None)])
        rows.append({**item, "raw": raw, "short": short, "kind": kind(item["question"]), "scores": scores})
    header = ("n", "raw EM", "raw F1", "sh EM", "sh F1", "shown EM", "shown F1", "has sh")
    print(f"{'kind':<22}" + "".join(f"{h:>9}" for h in header))
    for key, values in sorted(totals.items(), key=lambda kv: -len(kv[1])):
        means = [sum(col) / len(values) for col in zip(*values, strict=True)]
        print(f"{key:<22}{len(values):>9}" + "".join(f"{m:>9.3f}" for m in means))
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
