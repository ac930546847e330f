"""Candidates as `ask()` sees them, for training and validating the reader (bench/train_reader.py).

    python bench/reader_data.py ../shared/data/qa-train/cmrc2018_train.json --out .cache/reader/cmrc_train.jsonl
    python bench/reader_data.py FILE --policy .cache/eval-open/policy-drcd.json   # another shortlist model
    python bench/reader_data.py eval/seed_extra.jsonl --out .cache/reader/seed_extra.jsonl  # own news questions

A SQuAD-format file goes through the open-domain protocol of `dadong-qa eval-open` with every
question (no sampling): a seeded share of paragraphs held out (their questions unanswerable), and a
share of questions made silent (the sentences holding their answer removed from their paragraph,
so the paragraph is on topic but does not say it). Each kept paragraph is an article; each question
is retrieved against the whole collection and its candidate sentences are ranked by the answer
policy exactly as `ExtractiveAnswerer.rank` does. The top `--top` candidates are written, one JSON
line per question, with what the reader reads (title, sentence before, sentence) and the labels:
- `holds`: the sentence holds a gold answer string; `own`: it is in the question's own paragraph;
  `answers` (the positive label): it is the sentence of the gold `answer_start`, and the question
  is answerable in this collection;
- `span`: character offsets of the first gold answer inside the sentence, for the span head.

A `.jsonl` question set of this project (eval/seed_extra.jsonl: news questions written for the
seed articles, never ../shared/eval/dev.jsonl) is asked over ./corpus instead: a sentence
holding one of its `evidence` strings is the answer, a string of its first `answers` group the span.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.app.evaluate_open import OpenItem, load_squad, prepared_qa, prime_questions, split_open  # noqa: E402
from dadong_qa.app.metrics import normalize_answer  # noqa: E402
from dadong_qa.config import load_settings  # noqa: E402
from dadong_qa.ingestion.chunk import split_sentences  # noqa: E402


def answer_sentences(path: str) -> dict[str, list[str]]:
    """Per question id, the normalised sentences of its paragraph that hold a gold `answer_start`:
    the sentence the annotator read the answer from, not every sentence that happens to hold the
    same string ("四次" can be the team's count in one sentence and the player's in the next)."""
    out: dict[str, list[str]] = {}
    for article in json.loads(Path(path).read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences(context)
            for qa in para["qas"]:
                found = []
                for a in qa.get("answers", []):
                    start = a.get("answer_start", -1)
                    if context[start : start + len(a["text"])] != a["text"]:
                        start = context.find(a["text"])  # 21 upstream offsets in CMRC train are off
                    found += [normalize_answer(context[s:e]) for s, e in spans if s <= start < e]
                out[str(qa["id"])] = list(dict.fromkeys(found))
    return out


def is_answer_sentence(text: str, gold_sentences: list[str]) -> bool:
    norm = normalize_answer(text)
    return bool(norm) and any(norm in g or g in norm for g in gold_sentences if g)


def answer_span(sentence: str, answers: list[str]) -> list[int] | None:
    """[start, end) of the first gold answer found verbatim in the sentence (longest answer first)."""
    for a in sorted(answers, key=len, reverse=True):
        at = sentence.find(a.strip())
        if a.strip() and at >= 0:
            return [at, at + len(a.strip())]
    return None


def candidates(live: Any, item: OpenItem, top: int, gold_sentences: list[str]) -> list[dict[str, Any]]:
    index = live.index
    ranked = live.answerer.rank_by_policy(live.retriever.retrieve(item.question))
    golds = [normalize_answer(a) for a in item.answers]
    out = []
    for cand in ranked[:top]:
        sent = index.sentences[cand.sid]
        ids = index.doc_sentence_ids(sent.doc_id)
        at = ids.index(cand.sid)
        holds = any(g and g in normalize_answer(sent.text) for g in golds)
        own = sent.doc_id == item.doc_id
        answers = holds and own and item.answerable and is_answer_sentence(sent.text, gold_sentences)
        out.append(
            {
                "sid": cand.sid,
                "doc_id": sent.doc_id,
                "title": index.doc_meta(sent.doc_id).title,
                "before": index.sentences[ids[at - 1]].text if at > 0 else "",
                "text": sent.text,
                "policy": round(cand.probability, 5),
                "holds": holds,
                "own": own,
                "answers": answers,
                "span": answer_span(sent.text, item.answers) if answers else None,
            }
        )
    return out


def news_rows(path: str, top: int, policy: str) -> list[dict[str, Any]]:
    """Our own news questions over the seed corpus (index built in .cache/reader/seed-index)."""
    from dadong_qa.api import QA
    from dadong_qa.app.evaluate import load_items

    qa = QA(load_settings(index_dir=ROOT / ".cache" / "reader" / "seed-index", answer_policy=policy))
    qa.ensure_index()
    live = qa.live()
    rows = []
    for item in load_items(path):
        answers = item.answers[0] if item.answers else []
        evidence = [normalize_answer(e) for e in item.evidence]
        row = OpenItem(item.id, item.question, answers or [""], "", item.answerable)
        cands = candidates(live, row, top, [])
        for c in cands:
            c["answers"] = bool(item.answerable and any(e and e in normalize_answer(c["text"]) for e in evidence))
            c["holds"] = c["own"] = c["answers"]
            c["span"] = answer_span(c["text"], answers) if c["answers"] else None
        rows.append({"set": Path(path).stem, "id": item.id, "question": item.question, "answers": answers,
                     "doc_id": "", "answerable": item.answerable, "why": "", "candidates": cands})  # fmt: skip
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--holdout", type=float, default=0.3)
    ap.add_argument("--silent", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=16, help="candidates kept per question")
    ap.add_argument("--policy", default="", help="answer-policy weights for the shortlist ('' = shipped)")
    ap.add_argument("--workdir", default=str(ROOT / ".cache" / "eval-open"))
    args = ap.parse_args()

    name = Path(args.file).stem
    if args.file.endswith(".jsonl"):
        rows = news_rows(args.file, args.top, args.policy)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"wrote {args.out}: {len(rows)} questions", file=sys.stderr)
        return 0
    openset = split_open(load_squad(args.file), args.holdout, args.seed, None, name=name, silent=args.silent)
    settings = load_settings().with_overrides(answer_policy=args.policy)
    qa = prepared_qa(openset, Path(args.workdir), settings)
    prime_questions(qa, [i.question for i in openset.items])
    live = qa.live()
    gold = answer_sentences(args.file)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with out.open("w", encoding="utf-8") as f:
        for n, item in enumerate(openset.items, 1):
            row = {
                "set": name,
                "id": item.id,
                "question": item.question,
                "answers": item.answers,
                "doc_id": item.doc_id,
                "answerable": item.answerable,
                "why": item.why,
                "candidates": candidates(live, item, args.top, gold.get(item.id, [])),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            if n % 500 == 0:
                print(f"{name}: {n}/{len(openset.items)} questions, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    print(f"wrote {out}: {len(openset.items)} questions in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
