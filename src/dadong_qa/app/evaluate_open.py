"""Open-domain evaluation on a SQuAD-format reading-comprehension file.

The protocol (../shared/data/qa-train/README.md): every paragraph becomes one article (title
line, blank line, context); a seeded share of the paragraphs is held out of the corpus, and a
question about a held-out paragraph whose gold answers occur in no kept paragraph is
unanswerable there. Every question is asked against the whole collection.

Metrics: contains (answerable questions whose answer text holds a gold span), false refusal,
refusal (of unanswerable questions), precision (answered questions whose answer holds a gold
span), doc recall@5 (the gold article among the top 5 passages), short-answer EM / F1 (CMRC's
character-level definitions, on `Answer.short` when there is one, else on the answer text),
mean answer length, warm p50 latency; and the refusal trade-off over the decision threshold,
computed from one run with refusal turned off.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dadong_qa import index as store
from dadong_qa import ingestion
from dadong_qa.api import QA
from dadong_qa.app.metrics import em, f1, normalize_answer
from dadong_qa.config import Settings
from dadong_qa.embed import Embedder, get_embedder
from dadong_qa.ingestion.chunk import split_sentences
from dadong_qa.retrieval.query import parse
from dadong_qa.schema import Answer
from dadong_qa.text import normalize

DEFAULT_SAMPLE = (600, 200)  # answerable, unanswerable questions per run (as issue 11 measured)
LATENCY_SAMPLE = 50  # questions timed end to end, encoding included


@dataclass(frozen=True)
class Paragraph:
    key: str  # article file stem, also its doc_id once indexed
    title: str
    context: str
    questions: list[tuple[str, str, list[str]]]  # (id, question, gold answer texts)


@dataclass
class OpenItem:
    id: str
    question: str
    answers: list[str]
    doc_id: str
    answerable: bool
    why: str = ""  # for an unanswerable question: "held_out" (its paragraph) or "silent" (its sentence)


@dataclass
class OpenSet:
    """Kept paragraphs (the corpus) and the sampled questions, answerable and not."""

    name: str
    kept: list[Paragraph]
    items: list[OpenItem] = field(default_factory=list)


def load_squad(path: str | Path) -> list[Paragraph]:
    """Every paragraph of a SQuAD-format file, keyed in file order."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file (a SQuAD-format JSON file)")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a SQuAD-format JSON file ({exc})") from exc
    out = []
    for article in data:
        for para in article.get("paragraphs", []):
            qas = [
                (str(qa["id"]), qa["question"], list(dict.fromkeys(a["text"] for a in qa.get("answers", []))))
                for qa in para.get("qas", [])
                if qa.get("question", "").strip()  # a few questions in the public files are empty
            ]
            out.append(Paragraph(f"p{len(out):05d}", article.get("title", "").strip(), para["context"], qas))
    return out


def split_open(
    paragraphs: list[Paragraph],
    holdout: float = 0.3,
    seed: int = 0,
    sample: tuple[int, int] | None = DEFAULT_SAMPLE,
    name: str = "open",
    silent: float = 0.0,
) -> OpenSet:
    """Hold out a seeded share of paragraphs and sample answerable / unanswerable questions.

    With `silent` > 0, that share of the questions (at most one a paragraph) first loses every
    sentence of its paragraph that holds its answer: the paragraph stays on topic but no longer
    says it, so the question must be refused. Questions of the same paragraph whose answers went
    with those sentences are left out (neither cleanly answerable nor about something unsaid).
    A question is unanswerable, held out or silenced alike, only when its gold answers occur
    nowhere in the kept paragraphs (the protocol's definition): a silenced question whose answer
    another paragraph still states is left out too.
    """
    rng = random.Random(seed)
    paragraphs, silenced = silence(paragraphs, silent, rng) if silent > 0 else (paragraphs, {})
    order = list(range(len(paragraphs)))
    rng.shuffle(order)
    held = set(order[: round(holdout * len(paragraphs))])
    kept = [p for i, p in enumerate(paragraphs) if i not in held]
    kept_text = "\n".join(normalize_answer(p.context) for p in kept)
    answerable, unanswerable = [], []
    for i, p in enumerate(paragraphs):
        own = normalize_answer(p.context) if p.key in silenced else ""
        for qid, question, answers in p.questions:
            golds = [a for a in answers if normalize_answer(a)]
            if not golds:
                continue
            unsaid = not any(normalize_answer(a) in kept_text for a in golds)
            if i in held:
                if unsaid:
                    unanswerable.append(OpenItem(qid, question, golds, p.key, False, "held_out"))
            elif silenced.get(p.key) == qid:
                if unsaid:
                    unanswerable.append(OpenItem(qid, question, golds, p.key, False, "silent"))
            elif not own or any(normalize_answer(a) in own for a in golds):
                answerable.append(OpenItem(qid, question, golds, p.key, True))
    if sample is not None:
        answerable = _sample(answerable, sample[0], rng)
        unanswerable = _sample(unanswerable, sample[1], rng)
    return OpenSet(name, kept, answerable + unanswerable)


def silence(paragraphs: list[Paragraph], share: float, rng: random.Random) -> tuple[list[Paragraph], dict[str, str]]:
    """Paragraphs with, for `share` of all questions (one a paragraph at most), the sentences
    holding that question's answer removed; and which question each changed paragraph lost."""
    pairs = [(i, qid) for i, p in enumerate(paragraphs) for qid, _, answers in p.questions if answers]
    rng.shuffle(pairs)
    want = round(share * len(pairs))
    chosen: dict[int, str] = {}
    for i, qid in pairs:
        if len(chosen) >= want:
            break
        if i not in chosen:
            chosen[i] = qid
    out, silenced = list(paragraphs), {}
    for i, qid in chosen.items():
        p = paragraphs[i]
        golds = [normalize_answer(a) for q, _, answers in p.questions if q == qid for a in answers]
        spans = split_sentences(p.context)
        keep = [p.context[a:b] for a, b in spans if not any(g and g in normalize_answer(p.context[a:b]) for g in golds)]
        if keep and len(keep) < len(spans):  # a paragraph that is all answer cannot stay on topic
            out[i] = replace(p, context="".join(keep))
            silenced[p.key] = qid
    return out, silenced


def _sample(items: list[OpenItem], n: int, rng: random.Random) -> list[OpenItem]:
    return items if n <= 0 or n >= len(items) else rng.sample(items, n)


def write_corpus(kept: list[Paragraph], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in kept:
        title = p.title or p.context[:20]
        (folder / f"{p.key}.txt").write_text(f"{title}\n\n{p.context}\n", encoding="utf-8")


def _ingest_code() -> str:
    """A digest of the ingestion code: an index built by other cleaning rules is not reused."""
    digest = hashlib.sha256()
    for path in sorted(Path(ingestion.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepared_qa(openset: OpenSet, workdir: Path, settings: Settings) -> QA:
    """A QA over the kept paragraphs, built once per corpus and encoder and then reused."""
    keys = "\n".join(f"{p.key}\t{p.title}\t{p.context}" for p in openset.kept)
    made = f"{keys}\n{settings.embedder}\n{settings.chunk_sentences}\n{_ingest_code()}"
    tag = hashlib.sha256(made.encode()).hexdigest()[:12]
    folder = workdir / f"{openset.name}-{tag}"
    embedder = PrimedEmbedder(get_embedder(settings.embedder, settings.embed_batch_size))
    qa = QA(settings.with_overrides(corpus_dir=folder / "corpus", index_dir=folder / "index"), embedder=embedder)
    if not store.exists(qa.settings.index_dir):
        write_corpus(openset.kept, qa.settings.corpus_dir)
        qa.build()
    return qa


class PrimedEmbedder:
    """An encoder that was handed the texts of a whole run up front.

    Encoding thousands of questions one by one costs far more than in batches (the encoder
    is the slowest step on two shared cores), so an evaluation encodes every question and every
    question word the articles lack in one go; any other text is encoded as it comes.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self._known: dict[str, np.ndarray] = {}

    def prime(self, texts: list[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._known))
        if todo:
            self._known.update(zip(todo, self.inner.encode(todo), strict=True))

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        missing = [t for t in texts if t not in self._known]
        if missing:
            self.prime(missing)
        if progress:
            progress(len(texts))
        return np.array([self._known[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def prime_questions(qa: QA, questions: list[str]) -> None:
    """Batch-encode the questions, and their words the articles never use (expansion encodes those)."""
    embedder = qa._embedder
    if not isinstance(embedder, PrimedEmbedder):
        return
    index = qa.live().index
    texts = [normalize(q) for q in questions]
    for q in questions:
        parsed = parse(q)
        texts += [normalize(t) for t in parsed.terms if not index.has_term(t) and not t.isascii()]
    embedder.prime(texts)


def contains_gold(text: str, answers: list[str]) -> bool:
    norm = normalize_answer(text)
    return any(normalize_answer(a) in norm for a in answers)


def score_open(item: OpenItem, answer: Answer) -> dict[str, Any]:
    short = answer.short or (answer.text if answer.answered else "")
    docs = [p.doc_id for p in answer.passages[:5]]
    return {
        "id": item.id,
        "question": item.question,
        "answerable": item.answerable,
        "answered": answer.answered,
        "contains": answer.answered and contains_gold(answer.text, item.answers),
        "doc_rank": docs.index(item.doc_id) + 1 if item.doc_id in docs else None,
        "em": em(short, item.answers) if item.answerable and answer.answered else 0.0,
        "f1": f1(short, item.answers) if item.answerable and answer.answered else 0.0,
        "length": len(answer.text) if answer.answered else None,
        "confidence": answer.confidence,
        "text": answer.text,
        "short": answer.short,
    }


def run_open(qa: QA, items: list[OpenItem], progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """One row per question, asked with refusal turned off so one run gives the whole curve.

    Latency is of warm calls with the question's encoding included: the first LATENCY_SAMPLE
    questions are asked before the rest are batch-encoded.
    """
    never = QA(qa.settings.with_overrides(refusal_threshold=-1.0), embedder=qa._embedder)
    if items:
        never.ask(items[0].question)  # warm-up: latency is for warm calls
    rows = []
    for n, item in enumerate(items, 1):
        if n == LATENCY_SAMPLE + 1:
            prime_questions(never, [i.question for i in items[n - 1 :]])
        t0 = time.perf_counter()
        answer = never.ask(item.question)
        row = score_open(item, answer)
        row["latency_ms"] = round((time.perf_counter() - t0) * 1000, 2) if n <= LATENCY_SAMPLE else None
        rows.append(row)
        if progress:
            progress(n, len(items))
    return rows


def at_threshold(rows: list[dict[str, Any]], threshold: float) -> dict[str, float | int | None]:
    """The metrics as if answers with confidence below `threshold` had been refused."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    kept = [r for r in rows if r["answered"] and r["confidence"] >= threshold]
    kept_answerable = [r for r in kept if r["answerable"]]
    # The protocol's short-answer scores (../shared/data/qa-train/README.md: "where the answer
    # carries a short span"): over the answered answerable questions that show one. "em"/"f1"
    # above them are stricter: every answerable question, a refusal or a missing span scoring 0.
    spanned = [r for r in kept_answerable if r.get("short")]
    lat = sorted(r["latency_ms"] for r in rows if r.get("latency_ms") is not None)

    def share(n: int, d: int) -> float | None:
        return round(n / d, 3) if d else None

    return {
        "threshold": threshold,
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "contains": share(sum(r["contains"] for r in kept_answerable), len(answerable)),
        "false_refusal": share(len(answerable) - len(kept_answerable), len(answerable)),
        "refusal": share(len(unanswerable) - (len(kept) - len(kept_answerable)), len(unanswerable)),
        "precision": share(sum(r["contains"] for r in kept), len(kept)),
        "doc_recall@5": share(sum(r["doc_rank"] is not None for r in answerable), len(answerable)),
        "em": share(round(sum(r["em"] for r in kept_answerable), 6), len(answerable)),
        "f1": share(round(sum(r["f1"] for r in kept_answerable), 6), len(answerable)),
        "em_short": share(round(sum(r["em"] for r in spanned), 6), len(spanned)),
        "f1_short": share(round(sum(r["f1"] for r in spanned), 6), len(spanned)),
        "mean_length": round(statistics.mean(r["length"] for r in kept), 1) if kept else None,
        "p50_ms": round(statistics.median(lat), 2) if lat else None,
    }


def curve(rows: list[dict[str, Any]], thresholds: list[float] | None = None) -> list[dict[str, Any]]:
    thresholds = thresholds or [round(0.05 * i, 2) for i in range(20)]
    return [at_threshold(rows, t) for t in thresholds]


def reliability(rows: list[dict[str, Any]], bins: int = 10) -> list[dict[str, Any]]:
    """Calibration: per confidence bin, how many answers, their mean confidence and the share that
    was right (an answerable question whose answer holds a gold span). A calibrated decision has
    the two close in every bin, so the refusal threshold reads as the precision it buys."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        part = [r for r in rows if lo <= r["confidence"] < hi or (b == bins - 1 and r["confidence"] >= 1.0)]
        if part:
            right = sum(bool(r["answerable"] and r["contains"]) for r in part)
            mean = statistics.mean(r["confidence"] for r in part)
            share = round(right / len(part), 3)
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(part), "confidence": round(mean, 3), "right": share})
    return out


def format_reliability(table: list[dict[str, Any]]) -> str:
    lines = [f"{'confidence':>12}{'answers':>10}{'mean':>10}{'right':>10}", "-" * 42]
    lines += [f"{r['bin']:>12}{r['n']:>10}{r['confidence']:>10}{r['right']:>10}" for r in table]
    return "\n".join(lines)


COLUMNS = [
    ("threshold", "thresh"),
    ("contains", "contains"),
    ("false_refusal", "false-ref"),
    ("refusal", "refusal"),
    ("precision", "precision"),
    ("doc_recall@5", "docR@5"),
    ("em", "EM"),
    ("f1", "F1"),
    ("em_short", "EM-span"),
    ("f1_short", "F1-span"),
    ("mean_length", "len"),
    ("p50_ms", "p50ms"),
]


def format_rows(metrics: list[dict[str, Any]], marked: float | None = None) -> str:
    head = "".join(f"{label:>10}" for _, label in COLUMNS)
    lines = [head, "-" * len(head)]
    for m in metrics:
        cells = "".join(f"{'-':>10}" if m[k] is None else f"{m[k]:>10}" for k, _ in COLUMNS)
        mark = "  <- configured" if marked is not None and abs(m["threshold"] - marked) < 1e-9 else ""
        lines.append(cells + mark)
    return "\n".join(lines)


def evaluate_file(
    qa: QA,
    path: str | Path,
    holdout: float = 0.3,
    seed: int = 0,
    sample: tuple[int, int] | None = DEFAULT_SAMPLE,
    workdir: str | Path = ".cache/eval-open",
    progress: Callable[[int, int], None] | None = None,
    silent: float = 0.0,
) -> dict[str, Any]:
    """The whole protocol on one file: split, build (or reuse) the index, ask, score."""
    openset = split_open(load_squad(path), holdout, seed, sample, name=Path(path).stem, silent=silent)
    oqa = prepared_qa(openset, Path(workdir), qa.settings)
    rows = run_open(oqa, openset.items, progress)
    threshold = qa.settings.refusal_threshold
    return {
        "set": str(path),
        "holdout": holdout,
        "silent": silent,
        "seed": seed,
        "threshold": threshold,
        "summary": at_threshold(rows, threshold),
        "curve": curve(rows, sorted({threshold, *(round(0.05 * i, 2) for i in range(20))})),
        "reliability": reliability(rows),
        "items": rows,
    }
