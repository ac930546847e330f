"""Per-question diagnosis of the answer decision: what the policy, the rules and the reader said
about each shortlisted sentence, and where the gold sentence ranks.

    python bench/diagnose.py ../shared/eval/dev.jsonl [--mode hybrid] [--only-wrong]
    python bench/diagnose.py "京东mall什么时候开业？"      # one question, no gold

Per candidate: the decision's probability, the policy's, the reader's logit, the blended score,
the rule that rules it out (if any), the reader's best span; `*` marks the gold sentence.
"""

from __future__ import annotations

import argparse
import unicodedata
from pathlib import Path

from dadong_qa import QA
from dadong_qa.answering.policy import FLAG_RULES, PERIOD_RULES, RULES
from dadong_qa.app.evaluate import Item, load_items

SHOWN = 6  # candidates printed per question


def _n(s: str) -> str:
    return unicodedata.normalize("NFKC", s).lower().replace(" ", "")


def _rule(evidence) -> str:
    hit = [name for name in RULES if getattr(evidence, name) > 0]
    if evidence.period_fit in PERIOD_RULES:
        hit.append(f"period:{evidence.period_fit}")
    hit += [name for name in FLAG_RULES if getattr(evidence, name)]
    return ",".join(hit) or "-"


def _items(arg: str) -> list[Item]:
    if Path(arg).is_file():
        return load_items(arg)
    return [Item(id="q", kind="ad-hoc", question=arg, answers=[], evidence=[], answerable=True)]


def _right(item: Item, answer) -> bool | None:
    if not item.answers and item.answerable:
        return None  # an ad-hoc question: nothing to check against
    if not item.answerable:
        return not answer.answered
    return answer.answered and all(any(_n(a) in _n(answer.text) for a in g) for g in item.answers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", help="a JSONL question set, or one question")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--only-wrong", action="store_true")
    args = ap.parse_args()
    qa = QA()
    live = qa.live()
    for item in _items(args.set):
        answer = qa.ask(item.question, mode=args.mode)
        right = _right(item, answer)
        if args.only_wrong and right:
            continue
        retrieval = live.retriever.retrieve(item.question, k=qa.settings.top_k, mode=args.mode)
        ranked = live.answerer.rank(retrieval)
        mark = {True: "OK ", False: "BAD", None: "   "}[right]
        print(f"{mark} {item.id} {item.kind:<12} {item.question}")
        print(f"    answered={answer.answered} confidence={answer.confidence} short={answer.short}")
        for i, c in enumerate(ranked[:SHOWN]):
            text = live.index.sentences[c.sid].text
            gold = "*" if any(_n(e) in _n(text) for e in item.evidence) else " "
            r = c.reading
            span = text[r.spans[0].start : r.spans[0].end] if r and r.spans else ""
            logit = f"{r.logit:6.2f}" if r else "     -"
            print(
                f"  {gold}{i} p={c.probability:.3f} policy={c.policy:.3f} logit={logit} score={c.score:6.2f} "
                f"rule={_rule(c.evidence)} span={span[:16]!r} :: {text[:60]}"
            )


if __name__ == "__main__":
    main()
