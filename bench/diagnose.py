"""Per-question diagnosis of the answer stage: where the gold sentence ranks, and why.

python bench/diagnose.py ../shared/eval/dev.jsonl [--mode hybrid]
"""

from __future__ import annotations

import argparse
import unicodedata

from dadong_qa import QA
from dadong_qa.app.evaluate import load_items


def _n(s: str) -> str:
    return unicodedata.normalize("NFKC", s).lower().replace(" ", "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--only-wrong", action="store_true")
    args = ap.parse_args()
    qa = QA()
    live = qa.live()
    for item in load_items(args.set):
        ret = live.retriever.retrieve(item.question, k=qa.settings.top_k, mode=args.mode)
        scored, query, terms = live.answerer.score_sentences(item.question, ret)
        answer = qa.ask(item.question, mode=args.mode)
        ok = (not item.answerable and not answer.answered) or (
            item.answerable
            and (answer.answered and all(any(_n(a) in _n(answer.text) for a in g) for g in item.answers))
        )
        if args.only_wrong and ok:
            continue
        gold = next(
            (
                i
                for i, s in enumerate(scored)
                if any(_n(e) in _n(live.index.sentences[s.sid].text) for e in item.evidence)
            ),
            None,
        )
        top = scored[0] if scored else None
        print(f"{'OK ' if ok else 'BAD'} {item.id} {item.kind:<12} {item.question}")
        print(f"    terms={ {t: round(w, 2) for t, w in terms.items()} } years={query.years} exp={query.expansions}")
        if top:
            print(
                f"    top: score={top.score:.3f} cos={top.cos:.3f} cov={top.coverage:.3f} "
                f"support={top.support:.3f} :: {live.index.sentences[top.sid].text[:70]}"
            )
        if gold is not None and gold != 0:
            g = scored[gold]
            print(
                f"    gold rank {gold}: score={g.score:.3f} cos={g.cos:.3f} cov={g.coverage:.3f} sup={g.support:.3f} "
                f":: {live.index.sentences[g.sid].text[:70]}"
            )
        elif gold is None and item.answerable:
            print("    gold sentence not among candidates")


if __name__ == "__main__":
    main()
