"""Where `dadong-qa build` spends its time, against the encoder alone on the same texts.

    python bench/build_profile.py [--set ../shared/data/qa-train/drcd_test_simplified.json]
                                  [--work /tmp/dadong-qa-build-profile] [--json]

The corpus is every paragraph of a SQuAD-format file written as one article each (title line,
blank line, context: the open-domain protocol's article format, `evaluate_open.write_corpus`).
One process, one run:

1. `dadong-qa build` (cli.main) of that corpus into a fresh index, wall time, with the pipeline's
   functions wrapped by timers (exclusive time: a stage's time excludes the stages it calls);
   every text handed to the encoder is recorded;
2. the encoder alone: the same texts, in the same calls, straight to the model, timed.

Prints the breakdown (read/clean, near-copies and dedupe, sentence split, chunk, tokenize, BM25,
encode, FAISS, writes, other), the ratio build / encoder alone, and the texts embedded (with
how many are repeats). The model is loaded before the build (as the app does at start); its
load time is printed apart and is not in the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import io
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# Stage -> the functions ("module:qualname") whose time it is. Time is exclusive: nested stages
# are subtracted.
STAGES: dict[str, list[str]] = {
    "read/clean": ["dadong_qa.library:Library._read"],
    "near-copies": ["dadong_qa.ingestion.near_dup:fold_near_copies"],
    "dedupe paragraphs": ["dadong_qa.ingestion.ingest:dedupe_across"],
    "sentence split": ["dadong_qa.ingestion.chunk:split_sentences"],
    "chunk": ["dadong_qa.ingestion.chunk:chunk_document"],
    "minhash + paragraph keys": [
        "dadong_qa.ingestion.near_dup:signature",
        "dadong_qa.index.records:paragraph_hashes",
    ],
    "normalize": ["dadong_qa.text:normalize"],
    "tokenize (BM25 tokens)": ["dadong_qa.text:tokenize"],
    "vocabulary words": ["dadong_qa.text:vocab_words"],
    "BM25 (term counts, stats)": [
        "dadong_qa.index.keyword:KeywordSegment.from_tokens",
        "dadong_qa.index.keyword:KeywordSegment.doc_freq",
        "dadong_qa.index.keyword:KeywordStats.plus",
    ],
    "FAISS": ["dadong_qa.index.backends.faiss_backend:FaissBackend.with_segment"],
    "writes (save, fsync, sha256)": ["dadong_qa.index.storage:save"],
}
ENCODE = "encode"


class Timer:
    """Exclusive wall time per stage: a stage running inside another is charged to itself only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []  # [start, time spent in nested stages]

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([time.perf_counter(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, nested = self._stack.pop()
                spent = time.perf_counter() - start
                self.seconds[stage] += spent - nested
                self.calls[stage] += 1
                if self._stack:
                    self._stack[-1][1] += spent

        timed.__wrapped_stage__ = stage  # type: ignore[attr-defined]
        return timed


def _resolve(spec: str) -> tuple[Any, str, Any] | None:
    """(owner, attribute name, raw attribute) of "module:Qual.name", or None if it does not exist (any more)."""
    mod_name, qual = spec.split(":")
    try:
        owner: Any = importlib.import_module(mod_name)
    except ImportError:
        return None
    *path, name = qual.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    raw = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
    return (owner, name, raw) if raw is not None else None


def instrument(timer: Timer) -> list[str]:
    """Wrap every stage's functions, where they are defined and wherever they were imported."""
    patched = []
    for stage, specs in STAGES.items():
        for spec in specs:
            found = _resolve(spec)
            if found is None:
                continue
            owner, name, raw = found
            if isinstance(raw, classmethod | staticmethod):
                kind = type(raw)
                setattr(owner, name, kind(timer.wrap(stage, raw.__func__)))
            else:
                wrapped = timer.wrap(stage, raw)
                setattr(owner, name, wrapped)
                if not isinstance(owner, type):  # a module function: replace the names that import it
                    for mod in list(sys.modules.values()):
                        if getattr(mod, "__name__", "").startswith("dadong_qa"):
                            for attr, value in list(vars(mod).items()):
                                if value is raw:
                                    setattr(mod, attr, wrapped)
            patched.append(spec)
    return patched


class RecordingEmbedder:
    """The configured encoder, timed, remembering every call's texts (to replay them alone)."""

    def __init__(self, inner: Any, timer: Timer) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls: list[list[str]] = []
        self._encode = timer.wrap(ENCODE, inner.encode)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        return self._encode(texts, progress=progress)

    def __getattr__(self, name: str) -> Any:  # batch helpers of a pipeline that knows the encoder
        return getattr(self.inner, name)


def write_articles(squad: Path, corpus: Path) -> int:
    from dadong_qa.app.evaluate_open import load_squad, write_corpus

    paragraphs = load_squad(squad)
    shutil.rmtree(corpus, ignore_errors=True)
    write_corpus(paragraphs, corpus)
    return len(paragraphs)


def encoder_alone(inner: Any, calls: list[list[str]]) -> list[float]:
    """Seconds the encoder alone takes for each call's texts, with the garbage collector paused as
    the build pauses it while encoding (a collection after a build walks all its objects)."""
    out = []
    gc.disable()
    try:
        for texts in calls:
            t0 = time.perf_counter()
            inner.encode(texts)
            out.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return out


def chunk_and_sentence_texts(index_dir: Path) -> list[list[str]]:
    """The texts of every chunk and every sentence, as they are embedded when each is encoded."""
    from dadong_qa import index as store
    from dadong_qa.text import normalize

    idx = store.load(index_dir, verify=False)
    return [
        [normalize(c.search_text) for c in idx.chunks.values()],
        [normalize(s.text) for s in idx.sentences.values()],
    ]


def profile(squad: Path, work: Path, both: bool = True) -> dict[str, Any]:
    from dadong_qa import api
    from dadong_qa.app import cli
    from dadong_qa.config import DEFAULT_EMBEDDER
    from dadong_qa.embed import get_embedder
    from dadong_qa.text import warm_up

    corpus, index = work / "corpus", work / "index"
    n_files = write_articles(squad, corpus)
    shutil.rmtree(index, ignore_errors=True)
    t0 = time.perf_counter()
    inner = get_embedder(os.environ.get("DADONG_QA_EMBEDDER", DEFAULT_EMBEDDER))
    inner.encode(["预热"])  # weights are read lazily on the first call
    warm_up()
    load_s = time.perf_counter() - t0

    load_before = os.getloadavg()[0]
    timer = Timer()
    patched = instrument(timer)
    recorder = RecordingEmbedder(inner, timer)
    original_embedder = api.QA.embedder
    api.QA.embedder = property(lambda self: recorder)  # type: ignore[method-assign,assignment]
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the report lists every article
            code = cli.main(["--corpus", str(corpus), "--index", str(index), "build"])
        wall = time.perf_counter() - t0
    finally:
        api.QA.embedder = original_embedder  # type: ignore[method-assign]
    if code != 0:
        raise SystemExit(f"build failed with exit status {code}")

    load_after_build = os.getloadavg()[0]
    per_call = encoder_alone(inner, recorder.calls)
    alone = sum(per_call)
    texts = [t for c in recorder.calls for t in c]
    # The yardstick: every chunk and every sentence encoded (what a build encoding both needs).
    both_s = sum(encoder_alone(inner, chunk_and_sentence_texts(index))) if both else None
    stages = {k: round(v, 2) for k, v in sorted(timer.seconds.items(), key=lambda kv: -kv[1])}
    stages["other"] = round(wall - sum(timer.seconds.values()), 2)
    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    return {
        "set": str(squad),
        "files": n_files,
        "counts": manifest["counts"],
        "model_load_s": round(load_s, 2),
        "build_s": round(wall, 2),
        "encoder_alone_s": round(alone, 2),
        "ratio": round(wall / alone, 3),
        "texts_embedded": len(texts),
        "distinct_texts": len(set(texts)),
        "encode_calls": [len(c) for c in recorder.calls],
        "encoder_alone_per_call_s": [round(x, 2) for x in per_call],
        "encode_chunks_and_sentences_s": round(both_s, 2) if both_s is not None else None,
        "ratio_to_chunks_and_sentences": round(wall / both_s, 3) if both_s else None,
        "encoder_texts_per_s": round(len(texts) / alone, 1),
        "stages_s": stages,
        "calls": dict(timer.calls),
        "not_found": [spec for specs in STAGES.values() for spec in specs if spec not in patched],
        "load_avg_1m": [round(load_before, 2), round(load_after_build, 2), round(os.getloadavg()[0], 2)],
    }


def report(r: dict[str, Any]) -> str:
    c = r["counts"]
    lines = [
        f"{r['files']} articles written, indexed {c['docs']} articles, {c['chunks']} chunks, "
        f"{c['sentences']} sentences",
        f"model + jieba load (before the build): {r['model_load_s']} s",
        f"build (dadong-qa build, in-process): {r['build_s']} s",
        f"encoder alone, same {r['texts_embedded']} texts ({r['distinct_texts']} distinct) in the same calls "
        f"{r['encode_calls']}: {r['encoder_alone_s']} s {r['encoder_alone_per_call_s']} "
        f"({r['encoder_texts_per_s']} texts/s)",
        f"ratio build / encoder alone: {r['ratio']}",
        f"encoder alone on every chunk and sentence text: {r['encode_chunks_and_sentences_s']} s; "
        f"build / that: {r['ratio_to_chunks_and_sentences']}",
        f"load average (1 min) before build, after build, at the end: {r['load_avg_1m']}",
        "",
        "| stage | s | share |",
        "|---|---:|---:|",
    ]
    for stage, s in r["stages_s"].items():
        lines.append(f"| {stage} | {s} | {100 * s / r['build_s']:.1f} % |")
    lines.append(f"| **build** | {r['build_s']} | 100 % |")
    if r["not_found"]:
        lines.append(f"(functions not found, so not timed apart: {', '.join(r['not_found'])})")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", type=Path, default=ROOT.parent / "shared/data/qa-train/drcd_test_simplified.json")
    p.add_argument("--work", type=Path, default=Path("/tmp/dadong-qa-build-profile"))
    p.add_argument("--json", action="store_true", help="print the result as JSON too")
    p.add_argument("--quick", action="store_true", help="skip encoding every chunk and sentence text apart")
    a = p.parse_args()
    if not a.set.is_file():
        a.set = Path("/work/shared/data/qa-train/drcd_test_simplified.json")
    r = profile(a.set, a.work, both=not a.quick)
    print(report(r))
    if a.json:
        print(json.dumps(r, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
