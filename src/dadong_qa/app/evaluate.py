"""Evaluation on a JSONL question set (fields: id, question, kind, answerable, answers, evidence).

Metrics, per question kind and overall:
- accuracy: answerable -> answered and one accepted string of every `answers` group is in the
  text; unanswerable -> refused;
- recall@1 / recall@5 / MRR: an `evidence` string inside a top-ranked passage;
- citation support: an `evidence` string inside a cited sentence;
- refusal (unanswerable) and false refusal (answerable) rates;
- citation faithfulness: every cited sentence occurs verbatim in its article's source file
  (white space ignored, since line breaks inside a sentence are re-joined by cleaning);
- p50 / p95 latency of warm `ask()` calls.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dadong_qa.api import QA
from dadong_qa.ingestion.decode import decode_bytes
from dadong_qa.schema import Answer

KINDS = ("lexical", "paraphrase", "multi", "unanswerable")


@dataclass
class Item:
    id: str
    question: str
    kind: str
    answerable: bool
    answers: list[list[str]]
    evidence: list[str]


def load_items(path: str | Path) -> list[Item]:
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such question set (a JSONL file, one question per line)")
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                Item(
                    id=str(row.get("id", n)),
                    question=row["question"],
                    kind=row.get("kind", "other"),
                    answerable=bool(row.get("answerable", True)),
                    answers=row.get("answers", []),
                    evidence=row.get("evidence", []),
                )
            )
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}:{n}: not a valid eval item ({exc})") from exc
    return items


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _rank_of_evidence(answer: Answer, evidence: list[str]) -> int | None:
    ev = [_norm(e) for e in evidence]
    for rank, p in enumerate(answer.passages, 1):
        text = _norm(p.text)
        if any(e in text for e in ev):
            return rank
    return None


def score_item(item: Item, answer: Answer, sources: dict[str, str]) -> dict[str, Any]:
    text = _norm(answer.text)
    if item.answerable:
        correct = answer.answered and all(any(_norm(a) in text for a in group) for group in item.answers)
    else:
        correct = not answer.answered
    rank = _rank_of_evidence(answer, item.evidence) if item.evidence else None
    cited = [_norm(c.sentence) for c in answer.citations]
    supported = any(_norm(e) in c for e in item.evidence for c in cited) if item.evidence else None
    faithful = all(_norm(c.sentence) in sources.get(c.doc_id, "") for c in answer.citations)
    return {
        "id": item.id,
        "kind": item.kind,
        "question": item.question,
        "answerable": item.answerable,
        "answered": answer.answered,
        "correct": correct,
        "rank": rank,
        "supported": supported,
        "faithful": faithful,
        "n_citations": len(answer.citations),
        "text": answer.text,
        "confidence": answer.confidence,
        "latency_ms": answer.timings_ms.get("total", 0.0),
    }


def _source_texts(qa: QA) -> dict[str, str]:
    """Each article's raw source file, normalised, for the verbatim check."""
    out = {}
    for rec in qa.index.docs.values():
        path = qa.settings.corpus_dir / (rec.doc.path or "")
        try:
            out[rec.doc.doc_id] = _norm(decode_bytes(path.read_bytes(), path.name))
        except (OSError, ValueError):
            out[rec.doc.doc_id] = _norm(rec.doc.text)
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    """Figures per question kind and for "all", kinds in `KINDS` order, then any others."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["kind"]].append(r)
        groups["all"].append(r)
    out = {kind: _figures(rs) for kind, rs in groups.items()}
    order = [k for k in (*KINDS, "all") if k in out] + sorted(set(out) - {*KINDS, "all"})
    return {k: out[k] for k in order}


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


def _figures(rs: list[dict[str, Any]]) -> dict[str, float | int | None]:
    """Accuracy, retrieval, citation, refusal, faithfulness and latency figures of one group of rows."""
    answerable = [r for r in rs if r["answerable"]]
    unanswerable = [r for r in rs if not r["answerable"]]
    with_ev = [r for r in answerable if r["supported"] is not None]
    lat = sorted(r["latency_ms"] for r in rs)
    return {
        "n": len(rs),
        "accuracy": _mean([float(r["correct"]) for r in rs]),
        "recall@1": _mean([float(r["rank"] == 1) for r in with_ev]),
        "recall@5": _mean([float(r["rank"] is not None and r["rank"] <= 5) for r in with_ev]),
        "mrr": _mean([1.0 / r["rank"] if r["rank"] else 0.0 for r in with_ev]),
        "citation_support": _mean([float(bool(r["supported"])) for r in with_ev]),
        "refusal": _mean([float(not r["answered"]) for r in unanswerable]),
        "false_refusal": _mean([float(not r["answered"]) for r in answerable]),
        "faithfulness": _mean([float(r["faithful"]) for r in rs]),
        "p50_ms": round(statistics.median(lat), 2) if lat else None,
        "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2) if lat else None,
    }


def run_eval(qa: QA, path: str | Path, mode: str = "hybrid") -> dict[str, Any]:
    items = load_items(path)
    sources = _source_texts(qa)
    if items:
        qa.ask(items[0].question, mode=mode)  # warm-up: jieba, caches; latency is for warm calls
    rows = []
    for item in items:
        t0 = time.perf_counter()
        answer = qa.ask(item.question, mode=mode)
        row = score_item(item, answer, sources)
        row["latency_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        rows.append(row)
    return {"mode": mode, "set": str(path), "summary": summarise(rows), "items": rows}


COLUMNS = [
    ("n", "n"),
    ("accuracy", "acc"),
    ("recall@1", "R@1"),
    ("recall@5", "R@5"),
    ("mrr", "MRR"),
    ("citation_support", "cite"),
    ("refusal", "refuse"),
    ("false_refusal", "false-ref"),
    ("faithfulness", "faithful"),
    ("p50_ms", "p50ms"),
    ("p95_ms", "p95ms"),
]


def format_table(summary: dict[str, dict[str, Any]], title: str = "") -> str:
    head = f"{'kind':<13}" + "".join(f"{label:>10}" for _, label in COLUMNS)
    lines = [title, head, "-" * len(head)] if title else [head, "-" * len(head)]
    for kind, m in summary.items():
        cells = []
        for key, _ in COLUMNS:
            v = m.get(key)
            cells.append(f"{'-':>10}" if v is None else f"{v:>10}" if isinstance(v, int) else f"{v:>10.3f}")
        lines.append(f"{kind:<13}" + "".join(cells))
    return "\n".join(lines)


def refusal_curve(qa: QA, path: str | Path, thresholds: list[float] | None = None) -> list[dict[str, float]]:
    """Refusal trade-off over the decision threshold, from one run that never refuses.

    For each threshold t: refusal (unanswerable questions whose best answer probability is
    below t), false refusal (answerable ones below t) and accuracy over all questions as if t
    were in force.
    """
    never = QA(qa.settings.with_overrides(refusal_threshold=-1.0))
    items = load_items(path)
    sources = _source_texts(never)
    rows = [score_item(item, never.ask(item.question), sources) for item in items]
    thresholds = thresholds or [round(0.05 * i, 2) for i in range(1, 20)]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    curve = []
    for t in thresholds:
        correct = sum(1 for r in answerable if r["confidence"] >= t and r["correct"])
        correct += sum(1 for r in unanswerable if r["confidence"] < t)
        curve.append(
            {
                "threshold": t,
                "refusal": round(sum(r["confidence"] < t for r in unanswerable) / max(1, len(unanswerable)), 3),
                "false_refusal": round(sum(r["confidence"] < t for r in answerable) / max(1, len(answerable)), 3),
                "accuracy": round(correct / max(1, len(rows)), 3),
            }
        )
    return curve


def format_curve(curve: list[dict[str, float]], current: float) -> str:
    lines = [f"{'threshold':>10}{'refusal':>10}{'false-ref':>10}{'accuracy':>10}"]
    for c in curve:
        mark = "  <- configured" if abs(c["threshold"] - current) < 1e-9 else ""
        lines.append(
            f"{c['threshold']:>10.2f}{c['refusal']:>10.3f}{c['false_refusal']:>10.3f}{c['accuracy']:>10.3f}{mark}"
        )
    return "\n".join(lines)
