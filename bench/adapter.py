"""Question-vector adapters (issue 11 item 5): does a map applied to the question vector raise
dense recall of the gold sentence for paraphrased questions without hurting exact-wording ones?

    python bench/adapter.py                          # both directions, then the news dev set
    python bench/adapter.py --train cmrc --eval drcd

Pairs: every question of a SQuAD-format file in ../shared/data/qa-train/ -> the sentence of its
paragraph that holds the gold answer's start, split by `chunk.split_sentences` as the index splits.
Vectors: the default encoder (USE-multilingual-v3) on `normalize(text)`, as index.py and
retrieve.py encode sentences and questions; cached in .cache/adapter/ by a hash of the texts.

Each adapter is fitted on the train file; its one hyper-parameter is chosen on an 80/20 split of
that same file (recall@5 of the held-out 20% among the file's sentences); it is then refitted on
the whole train file and measured on the other file: recall@1/5/10 of the gold sentence among ALL
sentences of that file (dense only, cosine), split at the median character overlap of question and
gold sentence into "lexical" (top half) and "paraphrase" (bottom half). The news dev set
(../shared/eval/dev.jsonl over corpus/, evidence strings -> sentences) is measured, never tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa.chunk import chunk_document, split_sentences  # noqa: E402
from dadong_qa.embed import get_embedder  # noqa: E402
from dadong_qa.ingest import read_file  # noqa: E402
from dadong_qa.text import normalize  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "qa-train"
FILES = {"cmrc": DATA / "cmrc2018_trial.json", "drcd": DATA / "drcd_test_simplified.json"}
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CACHE = ROOT / ".cache" / "adapter"
KS = (1, 5, 10)
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")

Adapter = Callable[[np.ndarray], np.ndarray]


@dataclass
class PairSet:
    """Questions of one collection, its unique sentences and each question's gold sentence(s)."""

    name: str
    sentences: list[str]
    questions: list[str]
    gold: list[list[int]]  # indices into `sentences`
    lexical: np.ndarray  # bool per question: the "exact wording" group
    overlap: np.ndarray  # share of the question's content characters found in its gold sentence
    q: np.ndarray | None = None  # question vectors
    s: np.ndarray | None = None  # sentence vectors


def char_overlap(question: str, sentence: str) -> float:
    chars = set(_CONTENT.findall(normalize(question)))
    return len(chars & set(_CONTENT.findall(normalize(sentence)))) / max(1, len(chars))


def _answer_start(context: str, answers: list[dict]) -> int | None:
    for a in answers:
        start, text = a.get("answer_start", -1), a.get("text", "")
        if text and start >= 0 and context[start : start + len(text)] == text:
            return start
    for a in answers:
        if a.get("text") and (found := context.find(a["text"])) >= 0:
            return found
    return None


def squad_pairs(name: str, path: Path) -> PairSet:
    """Every answerable question of a SQuAD file with the sentence holding its answer's start."""
    ids: dict[str, int] = {}
    questions, gold = [], []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences(context)
            for start, end in spans:
                ids.setdefault(context[start:end], len(ids))
            for qa in para["qas"]:
                at = _answer_start(context, qa.get("answers", []))
                hit = [context[s:e] for s, e in spans if at is not None and s <= at < e]
                if hit:
                    questions.append(qa["question"])
                    gold.append([ids[hit[0]]])
    return _with_overlap(name, list(ids), questions, gold)


def dev_pairs(corpus: Path) -> PairSet:
    """dev.jsonl's answerable questions over the sentences of `corpus`; group = the file's kind."""
    sentences: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        sents, _ = chunk_document(read_file(path), len(sentences), 0)
        sentences.extend(s.text for s in sents)
    questions, gold, lexical = [], [], []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item.get("answerable") or item.get("kind") not in ("lexical", "paraphrase"):
            continue
        evidence = [e.strip() for e in item.get("evidence", []) if e.strip()]
        hits = [i for i, s in enumerate(sentences) if any(e in s or s in e for e in evidence)]
        if hits:
            questions.append(item["question"])
            gold.append(hits)
            lexical.append(item["kind"] == "lexical")
    pairs = _with_overlap("dev", sentences, questions, gold)
    pairs.lexical = np.array(lexical)
    return pairs


def _with_overlap(name: str, sentences: list[str], questions: list[str], gold: list[list[int]]) -> PairSet:
    overlap = np.array([max(char_overlap(q, sentences[g]) for g in gs) for q, gs in zip(questions, gold, strict=True)])
    return PairSet(name, sentences, questions, gold, overlap >= np.median(overlap), overlap)


def encode_cached(texts: list[str], tag: str) -> np.ndarray:
    """Vectors of normalize(text) by the default encoder, cached as .npy by a hash of the texts."""
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
    path = CACHE / f"{tag}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = get_embedder().encode([normalize(t) for t in texts])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def with_vectors(pairs: PairSet) -> PairSet:
    pairs.q = encode_cached(pairs.questions, f"{pairs.name}-q")
    pairs.s = encode_cached(pairs.sentences, f"{pairs.name}-s")
    return pairs


def ranks(qv: np.ndarray, sv: np.ndarray, gold: list[list[int]], batch: int = 512) -> np.ndarray:
    """0-based rank of the best-scored gold sentence of each question (ties count against it)."""
    out = np.empty(len(gold), dtype=np.int64)
    for i in range(0, len(gold), batch):
        scores = qv[i : i + batch] @ sv.T
        for j, row in enumerate(scores):
            best = row[gold[i + j]].max()
            out[i + j] = int((row > best).sum())
    return out


def recalls(r: np.ndarray) -> list[float]:
    return [float((r < k).mean()) if len(r) else float("nan") for k in KS]


# --- adapters: each `fit(q, s_gold, param)` returns a map on question vectors -------------------


def fit_identity(q: np.ndarray, s: np.ndarray, _: float) -> Adapter:
    return lambda x: x


def fit_ridge(q: np.ndarray, s: np.ndarray, lam: float) -> Adapter:
    """W = I + D, D = argmin |Q(I + D) - S|^2 + lam |D|^2: least squares shrunk toward identity."""
    d = q.shape[1]
    delta = np.linalg.solve(q.T @ q + lam * np.eye(d), q.T @ (s - q))
    w = np.eye(d) + delta
    return lambda x: x @ w


def fit_lowrank(q: np.ndarray, s: np.ndarray, rank: float) -> Adapter:
    """W = I + U V^T: the ridge residual (lam = 10) truncated to its top singular directions."""
    d = q.shape[1]
    delta = np.linalg.solve(q.T @ q + 10.0 * np.eye(d), q.T @ (s - q))
    u, sv, vt = np.linalg.svd(delta)
    r = int(rank)
    w = np.eye(d) + (u[:, :r] * sv[:r]) @ vt[:r]
    return lambda x: x @ w


def fit_procrustes(q: np.ndarray, s: np.ndarray, blend: float) -> Adapter:
    """Orthogonal R = argmin |QR - S| (SVD of Q^T S), blended with identity: (1 - a) I + a R."""
    u, _, vt = np.linalg.svd(q.T @ s)
    w = (1 - blend) * np.eye(q.shape[1]) + blend * (u @ vt)
    return lambda x: x @ w


def fit_contrastive(q: np.ndarray, s: np.ndarray, steps: float, tau: float = 0.05, seed: int = 0) -> Adapter:
    """W = I + D trained by in-batch softmax (InfoNCE): each question against 256 gold sentences.

    Unlike regression this pushes the question toward its own sentence and away from the others.
    Plain gradient descent with weight decay toward identity; `steps` is the hyper-parameter.
    """
    rng = np.random.default_rng(seed)
    d = q.shape[1]
    delta = np.zeros((d, d), dtype=np.float64)
    lr, decay, batch = 0.5, 1e-3, 256
    for _ in range(int(steps)):
        idx = rng.choice(len(q), size=min(batch, len(q)), replace=False)
        qb, sb = q[idx], s[idx]
        logits = (qb + qb @ delta) @ sb.T / tau
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(idx)), np.arange(len(idx))] -= 1.0
        grad = qb.T @ (p @ sb) / (tau * len(idx)) + decay * delta
        delta -= lr * grad
    w = np.eye(d) + delta
    return lambda x: x @ w


def fit_center(q: np.ndarray, s: np.ndarray, alpha: float) -> Adapter:
    """q - a * mean(q): remove the direction every question shares ("什么", "哪", question form)."""
    mean = q.mean(axis=0)
    return lambda x: x - alpha * mean


ADAPTERS: dict[str, tuple[Callable[[np.ndarray, np.ndarray, float], Adapter], tuple[float, ...]]] = {
    "none": (fit_identity, (0.0,)),
    "ridge": (fit_ridge, (1.0, 10.0, 100.0)),
    "low-rank": (fit_lowrank, (8.0, 32.0, 128.0)),
    "procrustes": (fit_procrustes, (0.25, 0.5, 1.0)),
    "contrastive": (fit_contrastive, (50.0, 200.0, 600.0)),
    "center": (fit_center, (0.5, 1.0)),
}


def train_pairs(pairs: PairSet, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pairs.q[rows], pairs.s[[pairs.gold[i][0] for i in rows]]


def choose(name: str, pairs: PairSet, seed: int = 0) -> float:
    """The parameter with the best recall@5 on a held-out 20% of the train file's questions."""
    fit, grid = ADAPTERS[name]
    if len(grid) == 1:
        return grid[0]
    order = np.random.default_rng(seed).permutation(len(pairs.questions))
    cut = int(0.8 * len(order))
    q, s = train_pairs(pairs, order[:cut])
    val = order[cut:]
    scores = []
    for param in grid:
        adapt = fit(q, s, param)
        r = ranks(adapt(pairs.q[val]), pairs.s, [pairs.gold[i] for i in val])
        scores.append(recalls(r)[1])
    return grid[int(np.argmax(scores))]


def measure(adapt: Adapter, pairs: PairSet) -> dict[str, list[float]]:
    r = ranks(adapt(pairs.q), pairs.s, pairs.gold)
    return {"lexical": recalls(r[pairs.lexical]), "paraphrase": recalls(r[~pairs.lexical])}


def run(train: PairSet, targets: list[PairSet]) -> list[tuple[str, float, str, dict[str, list[float]]]]:
    rows = []
    everything = np.arange(len(train.questions))
    for name, (fit, _) in ADAPTERS.items():
        param = choose(name, train)
        adapt = fit(*train_pairs(train, everything), param)
        for target in targets:
            rows.append((name, param, target.name, measure(adapt, target)))
    return rows


def print_table(train: str, rows: list[tuple[str, float, str, dict[str, list[float]]]]) -> None:
    print(f"\ntrained on {train}")
    print("| adapter | param | eval | lexical R@1 / R@5 / R@10 | paraphrase R@1 / R@5 / R@10 |")
    print("| --- | --- | --- | --- | --- |")
    for name, param, target, res in rows:
        lex, para = (" / ".join(f"{v:.3f}" for v in res[g]) for g in ("lexical", "paraphrase"))
        print(f"| {name} | {param:g} | {target} | {lex} | {para} |")


def describe(pairs: PairSet) -> None:
    lex, para = pairs.overlap[pairs.lexical], pairs.overlap[~pairs.lexical]
    print(
        f"{pairs.name}: {len(pairs.questions)} questions ({len(lex)} lexical, mean overlap {lex.mean():.2f}; "
        f"{len(para)} paraphrase, {para.mean():.2f}), {len(pairs.sentences)} sentences"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", choices=sorted(FILES), help="fit on this file (default: both directions)")
    ap.add_argument("--eval", choices=sorted(FILES), help="measure on this file (default: the other one)")
    ap.add_argument("--corpus", default=str(ROOT / "corpus"), help="articles the dev set is asked against")
    args = ap.parse_args(argv)
    trains = [args.train] if args.train else sorted(FILES)
    pairs = {name: with_vectors(squad_pairs(name, path)) for name, path in FILES.items()}
    dev = with_vectors(dev_pairs(Path(args.corpus)))
    for p in (*pairs.values(), dev):
        describe(p)
    for train in trains:
        target = args.eval or next(n for n in FILES if n != train)
        print_table(train, run(pairs[train], [pairs[target], dev]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
