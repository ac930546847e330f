"""Question-vector adapters (issue 11 item 5): does a map applied to the question vector raise
dense recall of the gold sentence for paraphrased questions without hurting exact-wording ones?

    python bench/adapter.py                          # both directions, then the news dev set
    python bench/adapter.py --train cmrc --eval drcd
    python bench/adapter.py --save A.npz [--save-from drcd]   # + fit the low-rank map and save it
    python bench/adapter.py --end-to-end A.npz --index IDX [--open SQUAD.json --policy P.json]

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
--end-to-end runs ask() on dev (and eval-open on a SQuAD file) with a saved map applied to the
sentence search only. Results and the decision (not wired): docs/quality.md, "Question-vector adapter".
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dadong_qa import index as store  # noqa: E402
from dadong_qa.embed import get_embedder  # noqa: E402
from dadong_qa.ingestion.chunk import chunk_document, split_sentences  # noqa: E402
from dadong_qa.ingestion.ingest import read_file  # noqa: E402
from dadong_qa.text import normalize  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "qa-train"
FILES = {"cmrc": DATA / "cmrc2018_trial.json", "drcd": DATA / "drcd_test_simplified.json"}
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CACHE = ROOT / ".cache" / "adapter"
KS = (1, 5, 10)
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True)
class Adapter:
    """An affine map on question vectors, x -> (x - shift) @ w: every adapter tried here is one."""

    w: np.ndarray
    shift: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.shift) @ self.w

    @classmethod
    def linear(cls, w: np.ndarray) -> Adapter:
        return cls(w.astype(np.float32), np.zeros(w.shape[0], dtype=np.float32))


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
        return np.load(path, allow_pickle=False)
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
    return Adapter.linear(np.eye(q.shape[1]))


def fit_ridge(q: np.ndarray, s: np.ndarray, lam: float) -> Adapter:
    """W = I + D, D = argmin |Q(I + D) - S|^2 + lam |D|^2: least squares shrunk toward identity."""
    d = q.shape[1]
    delta = np.linalg.solve(q.T @ q + lam * np.eye(d), q.T @ (s - q))
    return Adapter.linear(np.eye(d) + delta)


def fit_lowrank(q: np.ndarray, s: np.ndarray, rank: float) -> Adapter:
    """W = I + U V^T: the ridge residual (lam = 10) truncated to its top singular directions."""
    d = q.shape[1]
    delta = np.linalg.solve(q.T @ q + 10.0 * np.eye(d), q.T @ (s - q))
    u, sv, vt = np.linalg.svd(delta)
    r = int(rank)
    return Adapter.linear(np.eye(d) + (u[:, :r] * sv[:r]) @ vt[:r])


def fit_procrustes(q: np.ndarray, s: np.ndarray, blend: float) -> Adapter:
    """Orthogonal R = argmin |QR - S| (SVD of Q^T S), blended with identity: (1 - a) I + a R."""
    u, _, vt = np.linalg.svd(q.T @ s)
    return Adapter.linear((1 - blend) * np.eye(q.shape[1]) + blend * (u @ vt))


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
    return Adapter.linear(np.eye(d) + delta)


def fit_center(q: np.ndarray, s: np.ndarray, alpha: float) -> Adapter:
    """q - a * mean(q): remove the direction every question shares ("什么", "哪", question form)."""
    return Adapter(np.eye(q.shape[1], dtype=np.float32), (alpha * q.mean(axis=0)).astype(np.float32))


def fit_center_ridge(q: np.ndarray, s: np.ndarray, lam: float) -> Adapter:
    """Centring, then the ridge map fitted on the centred questions."""
    mean = q.mean(axis=0)
    return Adapter(fit_ridge(q - mean, s, lam).w, mean.astype(np.float32))


ADAPTERS: dict[str, tuple[Callable[[np.ndarray, np.ndarray, float], Adapter], tuple[float, ...]]] = {
    "none": (fit_identity, (0.0,)),
    "ridge": (fit_ridge, (1.0, 10.0, 100.0)),
    "low-rank": (fit_lowrank, (8.0, 32.0, 128.0)),
    "procrustes": (fit_procrustes, (0.25, 0.5, 1.0)),
    "contrastive": (fit_contrastive, (50.0, 200.0, 600.0, 1500.0)),
    "center": (fit_center, (0.5, 1.0)),
    "center+ridge": (fit_center_ridge, (1.0, 10.0, 100.0)),
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


@dataclass
class Row:
    adapter: str
    param: float
    target: str
    lexical: list[float]
    paraphrase: list[float]
    lost: int  # lexical questions whose gold sentence left the top 5 (against no adapter)
    gained: int  # ... and entered it


def measure(name: str, param: float, adapt: Adapter, pairs: PairSet) -> Row:
    base = ranks(pairs.q, pairs.s, pairs.gold)[pairs.lexical] < 5
    r = ranks(adapt(pairs.q), pairs.s, pairs.gold)
    now = r[pairs.lexical] < 5
    lost, gained = int((base & ~now).sum()), int((now & ~base).sum())
    return Row(name, param, pairs.name, recalls(r[pairs.lexical]), recalls(r[~pairs.lexical]), lost, gained)


def run(train: PairSet, targets: list[PairSet]) -> list[Row]:
    rows = []
    everything = np.arange(len(train.questions))
    for name, (fit, _) in ADAPTERS.items():
        param = choose(name, train)
        adapt = fit(*train_pairs(train, everything), param)
        rows.extend(measure(name, param, adapt, target) for target in targets)
    return rows


def merged(a: PairSet, b: PairSet) -> PairSet:
    """Both files as one training set (what would ship); its sentences are only the gold ones' pool."""
    offset = len(a.sentences)
    gold = a.gold + [[g + offset for g in gs] for gs in b.gold]
    pairs = PairSet(
        f"{a.name}+{b.name}",
        a.sentences + b.sentences,
        a.questions + b.questions,
        gold,
        np.concatenate([a.lexical, b.lexical]),
        np.concatenate([a.overlap, b.overlap]),
    )
    pairs.q, pairs.s = np.vstack([a.q, b.q]), np.vstack([a.s, b.s])
    return pairs


def print_table(train: str, rows: list[Row]) -> None:
    print(f"\ntrained on {train}")
    print(
        "| adapter | param | eval | lexical R@1 / R@5 / R@10 | lexical lost / gained @5 | paraphrase R@1 / R@5 / R@10 |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        lex, para = (" / ".join(f"{v:.3f}" for v in values) for values in (row.lexical, row.paraphrase))
        print(f"| {row.adapter} | {row.param:g} | {row.target} | {lex} | {row.lost} / {row.gained} | {para} |")


def describe(pairs: PairSet) -> None:
    lex, para = pairs.overlap[pairs.lexical], pairs.overlap[~pairs.lexical]
    print(
        f"{pairs.name}: {len(pairs.questions)} questions ({len(lex)} lexical, mean overlap {lex.mean():.2f}; "
        f"{len(para)} paraphrase, {para.mean():.2f}), {len(pairs.sentences)} sentences"
    )


@contextlib.contextmanager
def in_sentence_search(adapt: Adapter) -> Iterator[None]:
    """The adapter applied to the question vector of the sentence search only, as wiring would do."""
    original = store.Index.dense_search

    def dense_search(self: store.Index, vector: np.ndarray, k: int, sentences: bool = False) -> list:
        if sentences:
            vector = adapt(np.asarray(vector, dtype=np.float32)[None])[0]
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return original(self, vector, k, sentences)

    store.Index.dense_search = dense_search
    try:
        yield
    finally:
        store.Index.dense_search = original


def end_to_end(path: Path, index_dir: str, squad: str | None, policy: str | None) -> None:
    """dev.jsonl (and optionally eval-open on a SQuAD file) without and with a saved adapter."""
    from dadong_qa.api import QA
    from dadong_qa.app.evaluate import format_table, run_eval
    from dadong_qa.app.evaluate_open import evaluate_file, format_rows
    from dadong_qa.config import load_settings

    data = np.load(path, allow_pickle=False)
    adapt = Adapter(data["w"], data["shift"])
    dev_qa = QA(index_dir=index_dir)
    open_qa = QA(load_settings().with_overrides(answer_policy=policy))
    for label, context in (("no adapter", contextlib.nullcontext()), (f"{path.name}", in_sentence_search(adapt))):
        with context:
            print(format_table(run_eval(dev_qa, DEV)["summary"], f"dev, {label}"))
            if squad:
                summary = evaluate_file(open_qa, squad, workdir=str(ROOT / ".cache" / "eval-open"))["summary"]
                print(f"{squad}, {label}\n{format_rows([summary])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--train", choices=[*sorted(FILES), "both"], help="fit on this file (default: each direction, then both)"
    )
    ap.add_argument("--eval", choices=sorted(FILES), help="measure on this file (default: the other one)")
    ap.add_argument("--save", metavar="FILE.npz", help="also fit --adapter on --save-from, save w and shift")
    ap.add_argument("--adapter", choices=sorted(ADAPTERS), default="low-rank", help="the adapter --save fits")
    ap.add_argument("--save-from", choices=[*sorted(FILES), "both"], default="both", help="what --save fits on")
    ap.add_argument("--end-to-end", metavar="FILE.npz", help="only: ask() on dev without / with a saved adapter")
    ap.add_argument("--index", default=str(ROOT / "index"), help="--end-to-end: index of --corpus for dev")
    ap.add_argument("--open", metavar="SQUAD.json", help="--end-to-end: also eval-open on this file")
    ap.add_argument("--policy", help="--end-to-end: answer policy for --open (e.g. one not trained on it)")
    ap.add_argument("--corpus", default=str(ROOT / "corpus"), help="articles the dev set is asked against")
    args = ap.parse_args(argv)
    if args.end_to_end:
        end_to_end(Path(args.end_to_end), args.index, args.open, args.policy)
        return 0
    trains = [args.train] if args.train else [*sorted(FILES), "both"]
    pairs = {name: with_vectors(squad_pairs(name, path)) for name, path in FILES.items()}
    dev = with_vectors(dev_pairs(Path(args.corpus)))
    for p in (*pairs.values(), dev):
        describe(p)
    for train in trains:
        if train == "both":  # nothing held out but dev: the adapter that would ship
            print_table("cmrc+drcd", run(merged(pairs["cmrc"], pairs["drcd"]), [dev]))
            continue
        target = args.eval or next(n for n in FILES if n != train)
        print_table(train, run(pairs[train], [pairs[target], dev]))
    if args.save:
        source = merged(pairs["cmrc"], pairs["drcd"]) if args.save_from == "both" else pairs[args.save_from]
        save(source, args.adapter, Path(args.save))
    return 0


def save(train: PairSet, name: str, path: Path) -> None:
    """The adapter fitted on all of `train` as float32 arrays (np.load(..., allow_pickle=False))."""
    fit, _ = ADAPTERS[name]
    param = choose(name, train)
    adapt = fit(*train_pairs(train, np.arange(len(train.questions))), param)
    np.savez(path, w=adapt.w, shift=adapt.shift, adapter=np.array(name), param=np.array(param), trained_on=train.name)
    print(f"saved {name} (param {param:g}, trained on {train.name}) to {path}")


if __name__ == "__main__":
    raise SystemExit(main())
