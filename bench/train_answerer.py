"""Train the answer policy (src/dadong_qa/models/answer_policy.json) and validate it across sets.

    python bench/train_answerer.py                       # cross-validate both ways, then ship
    python bench/train_answerer.py --no-ship             # cross-validation only

Data: the SQuAD-format files in ../shared/data/qa-train/ (CMRC 2018 trial, CC BY-SA 4.0; DRCD
test simplified, CC BY-SA 3.0), run through the open-domain protocol of evaluate_open with every
question (not the 600 + 200 sample): each kept paragraph is an article and every question is
retrieved against the whole collection, exactly as `ask()` does. Each candidate sentence's
`SentenceEvidence` is one row:
- positive: a sentence of the question's own paragraph that holds a gold answer;
- negative: every other candidate, and every candidate of an unanswerable question (its
  paragraph is held out, and its answers occur in no kept paragraph);
- left out: a sentence of another paragraph that happens to hold the answer string (neither
  a clean positive nor a clean negative).
Optionally our own news questions (eval/seed_extra.jsonl over ./corpus; positive = a sentence
holding an `evidence` string) join the training rows; ../shared/eval/dev.jsonl never does.

Validation trains on one file and measures on the other (both directions), with the metrics of
`dadong-qa eval-open` at every threshold on the same 600 + 200 sample it uses. The shipped model
is trained on all rows; the cross-validated figures go into its `meta` and docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.answering.evidence import FEATURES, feature_matrix  # noqa: E402
from dadong_qa.answering.policy import MODEL_FILE, AnswerPolicy, BoostedTrees, Logistic  # noqa: E402
from dadong_qa.api import QA  # noqa: E402
from dadong_qa.app.evaluate import load_items  # noqa: E402
from dadong_qa.app.evaluate_open import (  # noqa: E402
    DEFAULT_SAMPLE,
    contains_gold,
    load_squad,
    prepared_qa,
    prime_questions,
    split_open,
)
from dadong_qa.app.metrics import normalize_answer  # noqa: E402
from dadong_qa.config import load_settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "qa-train"
FILES = {"cmrc": DATA / "cmrc2018_trial.json", "drcd": DATA / "drcd_test_simplified.json"}
LICENCES = {"cmrc": "CMRC 2018 trial, CC BY-SA 4.0", "drcd": "DRCD test (simplified with OpenCC t2s), CC BY-SA 3.0"}
OUT = ROOT / "src" / "dadong_qa" / "models" / MODEL_FILE


@dataclass
class Rows:
    """Training rows of one set: features, labels (1, 0, or -1 = left out) and per-question data."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray  # question index of each row
    contains: np.ndarray  # the row's sentence holds a gold answer (what "contains" measures)
    answerable: np.ndarray  # per question
    in_sample: np.ndarray  # per question: in eval-open's 600 + 200 sample

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        offset, groups = 0, []
        for p in parts:
            groups.append(p.group + offset)
            offset += len(p.answerable)
        return cls(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]),
            np.concatenate(groups),
            np.concatenate([p.contains for p in parts]),
            np.concatenate([p.answerable for p in parts]),
            np.concatenate([p.in_sample for p in parts]),
        )


def squad_rows(name: str, holdout: float, seed: int, workdir: Path) -> Rows:
    """Evidence rows for every question of one file, cached by feature list."""
    cache = workdir / f"rows-{name}-h{holdout}-s{seed}-{len(FEATURES)}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        if list(data["features"]) == list(FEATURES):
            return Rows(*(data[k] for k in ("x", "y", "group", "contains", "answerable", "in_sample")))
    paragraphs = load_squad(FILES[name])
    full = split_open(paragraphs, holdout, seed, sample=None, name=FILES[name].stem)
    sample = {i.id for i in split_open(paragraphs, holdout, seed, DEFAULT_SAMPLE, name=FILES[name].stem).items}
    qa = prepared_qa(full, workdir, load_settings())
    prime_questions(qa, [i.question for i in full.items])
    live = qa.live()
    xs, ys, groups, contains = [], [], [], []
    t0 = time.perf_counter()
    for g, item in enumerate(full.items):
        records = live.answerer.gatherer.gather(live.retriever.retrieve(item.question))
        for r in records:
            sent = live.index.sentences[r.sid]
            holds = contains_gold(sent.text, item.answers)
            own = sent.doc_id == item.doc_id
            ys.append(1 if holds and own and item.answerable else -1 if holds else 0)
            contains.append(holds)
            groups.append(g)
        xs.append(feature_matrix(records))
        if g % 500 == 0:
            print(f"  {name}: {g}/{len(full.items)} questions, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    rows = Rows(
        np.concatenate(xs),
        np.array(ys),
        np.array(groups),
        np.array(contains),
        np.array([i.answerable for i in full.items]),
        np.array([i.id in sample for i in full.items]),
    )
    np.savez(cache, features=np.array(FEATURES), **{k: getattr(rows, k) for k in rows.__dataclass_fields__})
    return rows


def seed_rows(workdir: Path) -> Rows:
    """Our own news questions over the seed corpus (never the dev set)."""
    qa = QA(load_settings(index_dir=workdir / "seed-index"))
    qa.ensure_index()
    live = qa.live()
    items = load_items(ROOT / "eval" / "seed_extra.jsonl")
    xs, ys, groups = [], [], []
    for g, item in enumerate(items):
        records = live.answerer.gatherer.gather(live.retriever.retrieve(item.question))
        evidence = [normalize_answer(e) for e in item.evidence]
        for r in records:
            text = normalize_answer(live.index.sentences[r.sid].text)
            ys.append(int(item.answerable and any(e in text for e in evidence)))
            groups.append(g)
        xs.append(feature_matrix(records))
    y = np.array(ys)
    return Rows(
        np.concatenate(xs),
        y,
        np.array(groups),
        y == 1,
        np.array([i.answerable for i in items]),
        np.ones(len(items), dtype=bool),
    )


# Gradient boosting settings, picked on a 2-fold split of CMRC trial questions (docs/quality.md).
TREES = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40}


def fit(rows: Rows, kind: str, meta: dict, c: float = 1.0, weight: np.ndarray | None = None) -> AnswerPolicy:
    keep = rows.y >= 0
    x, y = rows.x[keep], rows.y[keep]
    w = None if weight is None else weight[keep]
    if kind == "logistic":
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y, sample_weight=w)
        model = Logistic(mean, scale, lr.coef_[0], float(lr.intercept_[0]))
    else:
        hgb = HistGradientBoostingClassifier(random_state=0, **TREES).fit(x, y, sample_weight=w)
        model = BoostedTrees.from_sklearn(hgb)
        # The exported arrays must give what scikit-learn gives.
        p = hgb.predict_proba(x[:2000])[:, 1]
        assert np.allclose(1 / (1 + np.exp(-model.logits(x[:2000]))), p, atol=1e-6)
    return AnswerPolicy(FEATURES, model, meta)


def weights(parts: list[Rows], news: Rows | None, share: float) -> tuple[Rows, np.ndarray | None]:
    """All rows, the news rows weighted to `share` of the total: a few dozen news questions
    would otherwise be lost among thousands of encyclopedia ones, and news is what the product
    answers (paraphrased questions over long articles, years, plans)."""
    if news is None:
        return Rows.concat(parts), None
    rows = Rows.concat([*parts, news])
    n_other = sum((p.y >= 0).sum() for p in parts)
    w = np.ones(len(rows.y))
    w[len(rows.y) - len(news.y) :] = share / (1 - share) * n_other / max(1, (news.y >= 0).sum())
    return rows, w


def decide(policy: AnswerPolicy, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the best candidate's probability and whether that sentence holds a gold answer."""
    n = len(rows.answerable)
    prob = 1.0 / (1.0 + np.exp(-policy.logits(rows.x)))
    best_p, best_ok = np.zeros(n), np.zeros(n, dtype=bool)
    best_p[:] = -1.0
    for i, (g, p) in enumerate(zip(rows.group, prob, strict=True)):
        if p > best_p[g]:
            best_p[g], best_ok[g] = p, rows.contains[i]
    return best_p, best_ok


def metrics(best_p: np.ndarray, best_ok: np.ndarray, answerable: np.ndarray, t: float) -> dict[str, float]:
    answered = best_p >= t
    right = answered & best_ok & answerable
    a, u = answerable.sum(), (~answerable).sum()
    return {
        "threshold": round(t, 3),
        "contains": round(right.sum() / max(1, a), 3),
        "false_refusal": round((~answered & answerable).sum() / max(1, a), 3),
        "refusal": round((~answered & ~answerable).sum() / max(1, u), 3),
        "precision": round(right.sum() / max(1, answered.sum()), 3),
    }


def validate(policy: AnswerPolicy, rows: Rows, thresholds: list[float]) -> list[dict[str, float]]:
    best_p, best_ok = decide(policy, rows)
    s = rows.in_sample
    return [metrics(best_p[s], best_ok[s], rows.answerable[s], t) for t in thresholds]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holdout", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kind", choices=["boosted_trees", "logistic"], default="boosted_trees")
    ap.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength (logistic)")
    ap.add_argument("--no-seed-questions", action="store_true", help="leave eval/seed_extra.jsonl out")
    ap.add_argument("--news-share", type=float, default=0.25, help="share of the training weight for news questions")
    ap.add_argument("--no-ship", action="store_true")
    ap.add_argument("--workdir", default=str(ROOT / ".cache" / "eval-open"))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sets = {name: squad_rows(name, args.holdout, args.seed, workdir) for name in FILES}
    extra = None if args.no_seed_questions else seed_rows(workdir)
    thresholds = [round(0.05 * i, 2) for i in range(1, 20)]
    report = {}
    for train, test in (("drcd", "cmrc"), ("cmrc", "drcd")):
        rows, w = weights([sets[train]], extra, args.news_share)
        policy = fit(rows, args.kind, {"trained_on": [LICENCES[train]]}, args.c, w)
        # For `dadong-qa eval-open FILE --policy ...`: the whole pipeline on a set the model never saw.
        (workdir / f"policy-{train}.json").write_text(json.dumps(policy.to_dict()) + "\n", encoding="utf-8")
        curve = validate(policy, sets[test], thresholds)
        report[f"{train}->{test}"] = curve
        print(f"\n== trained on {train}{' + seed questions' if extra else ''}, validated on {test} ==")
        for m in curve:
            print("  ".join(f"{k} {v:.3f}" for k, v in m.items()))
    if args.no_ship:
        return 0
    meta = {
        "trained_on": [LICENCES[n] for n in FILES] + (["eval/seed_extra.jsonl (own news questions)"] if extra else []),
        "protocol": f"open-domain, holdout {args.holdout}, seed {args.seed}, every question",
        "rows": int(sum((r.y >= 0).sum() for r in [*sets.values(), *([extra] if extra else [])])),
        "news_share": None if extra is None else args.news_share,
        "kind": args.kind,
        "settings": TREES if args.kind == "boosted_trees" else {"C": args.c},
        "cross_validation": report,
    }
    rows, w = weights(list(sets.values()), extra, args.news_share)
    policy = fit(rows, args.kind, meta, args.c, w)
    Path(args.out).write_text(json.dumps(policy.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
