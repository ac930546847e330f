"""A search-result version of a SQuAD-format file: every paragraph cut to a web snippet.

One hidden set is made of web-search snippets with colloquial questions. This makes a stand-in
from a held-out file, so the open-domain protocol (`dadong-qa eval-open`) can measure it:
each paragraph is cut to a window of 80-220 characters around one of its answers, at
arbitrary characters (as a search engine cuts), marked with "..." where text was cut, sometimes
joined to a second window of the same paragraph ("...前文...后文..."), sometimes preceded by the
result's date ("2019年3月5日 - "), and keeps the questions whose answer it still holds, under
the paragraph's title with a site suffix ("_百度百科", " - 知乎"); one question in two is put
colloquially (啥, 咋, 请问, 啊). Same seed, same file.

    python bench/snippets.py ../shared/data/qa-train/cmrc2018_trial.json /tmp/cmrc-snippets.json
    dadong-qa eval-open /tmp/cmrc-snippets.json --policy .cache/eval-open/policy-drcd.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

SITE_SUFFIXES = ("_百度百科", " - 维基百科，自由的百科全书", "_百度知道", " - 知乎", "-搜狗百科", "_360百科", "")
GAP = "..."
WINDOW = (80, 220)  # characters of a snippet window (Baidu shows ~120-200)
SECOND_WINDOW = 0.3  # share of snippets joined to a second window of the same paragraph
DATED = 0.4  # share of snippets preceded by the result's date
COLLOQUIAL = 0.5  # share of questions put colloquially
_COLLOQUIAL_SWAPS = (("什么", "啥"), ("怎么", "咋"), ("为什么", "为啥"), ("哪里", "哪儿"))
_END = re.compile(r"[？?。！!]+$")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)年")


def window(context: str, start: int, end: int, rng: random.Random) -> tuple[int, int]:
    """A window of WINDOW characters that holds [start, end), cut at arbitrary characters."""
    size = max(rng.randint(*WINDOW), end - start)
    lo = max(0, min(start, end - size))
    left = rng.randint(lo, start) if start > lo else start
    return left, min(len(context), left + size)


def snippet(context: str, start: int, end: int, rng: random.Random) -> tuple[str, list[tuple[int, int, int]]]:
    """The snippet text around [start, end), and its windows as (begin, end, offset in the text)."""
    spans = [window(context, start, end, rng)]
    if rng.random() < SECOND_WINDOW:
        a, b = spans[0]
        rest = [(0, a), (b, len(context))]
        lo, hi = max(rest, key=lambda r: r[1] - r[0])
        lo, hi = (lo, hi - 20) if lo == 0 else (lo + 20, hi)  # a gap, never two windows abutting
        if hi - lo > 40:
            s = rng.randint(lo, hi - 30)
            spans.append((s, min(hi, s + rng.randint(30, 100))))
    text, placed = "", []
    for a, b in sorted(spans):
        if a > 0 and not text.endswith(GAP):
            text += GAP
        placed.append((a, b, len(text)))
        text += context[a:b]
        if b < len(context):
            text += GAP
    if rng.random() < DATED:
        date = f"{_page_year(context, rng)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日 - "
        text, placed = date + text, [(a, b, at + len(date)) for a, b, at in placed]
    return text, placed


def _moved(answer: dict, placed: list[tuple[int, int, int]]) -> dict | None:
    """The answer where the snippet holds it, or None when its place in the paragraph was cut."""
    start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
    for a, b, at in placed:
        if a <= start and end <= b:
            return {"text": answer["text"], "answer_start": at + start - a}
    return None


def _page_year(context: str, rng: random.Random) -> int:
    """A page is never older than the latest year it writes about."""
    years = [int(y) for y in _YEAR.findall(context) if int(y) <= 2024]
    return min(2025, max([2008, *years]) + rng.randint(0, 3))


def colloquial(question: str, rng: random.Random) -> str:
    """The question as typed into a search box: 啥 for 什么, 请问 in front, 啊 at the end."""
    for formal, casual in _COLLOQUIAL_SWAPS:
        if formal in question and rng.random() < 0.7:
            return question.replace(formal, casual, 1)
    body = _END.sub("", question)
    return rng.choice((f"请问{body}？", f"{body}啊", f"{body}呀？", body))


def _gold(context: str, qa: dict) -> list[dict]:
    return [a for a in qa["answers"] if context[a["answer_start"] :].startswith(a["text"])]


def convert(data: dict, seed: int = 0) -> dict:
    """One snippet article per paragraph, around the answer of one of its questions, with every
    question whose answer the snippet still holds."""
    rng = random.Random(seed)
    out = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            anchors = [g[0] for qa in para["qas"] if (g := _gold(context, qa))]
            if not anchors:
                continue
            first = rng.choice(anchors)
            start = first["answer_start"]
            text, placed = snippet(context, start, start + len(first["text"]), rng)
            qas = []
            for qa in para["qas"]:
                answers = [m for a in _gold(context, qa) if (m := _moved(a, placed))]
                if answers:
                    question = colloquial(qa["question"], rng) if rng.random() < COLLOQUIAL else qa["question"]
                    qas.append({"id": qa["id"], "question": question, "answers": answers})
            title = article["title"] + rng.choice(SITE_SUFFIXES)
            out.append({"title": title, "paragraphs": [{"context": text, "qas": qas}]})
    return {"data": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="SQuAD-format file")
    parser.add_argument("target", type=Path, help="where the snippet version is written")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--paragraphs", type=int, default=0, help="use only the first N paragraphs (0 = all)")
    args = parser.parse_args()
    data = json.loads(args.source.read_text(encoding="utf-8"))
    if args.paragraphs:
        kept, n = [], 0
        for article in data["data"]:
            paras = article["paragraphs"][: args.paragraphs - n]
            if paras:
                kept.append({**article, "paragraphs": paras})
                n += len(paras)
        data = {"data": kept}
    converted = convert(data, args.seed)
    args.target.write_text(json.dumps(converted, ensure_ascii=False), encoding="utf-8")
    print(f"{args.target}: {len(converted['data'])} snippets")


if __name__ == "__main__":
    main()
