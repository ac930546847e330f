"""Scale benchmark: build, load, ask, add and remove at 1k..100k+ chunks, for each index backend.

    python bench/scale.py --chunks 1000 10000 100000 --backends faiss milvus

For each size a synthetic corpus is generated (bench/synth.py, deterministic by seed). Each
(size, backend) runs in fresh child processes so peak RSS and cold load are honest:
- build: `QA.build()` wall time (`build s`: with the real encoder, USE-multilingual-v3, this is a
  whole build, encoding included); the time spent in the encoder is measured apart.
  Vectors are cached per text in the work folder, so the second backend (and re-runs) reuse
  the first one's embeddings: `index build s` excludes encoding either way, and `build s` is
  only a whole build on the run that encoded (`embed s` is then that run's encoding time).
  `--vectors hash` uses hashed stand-in vectors instead of the encoder (rows labelled `hash`).
- serve: cold load, warm `ask()` p50/p95 over a fixed question list, recall of planted facts,
  add one new article (embedded for real), remove one article, peak RSS.
- ann (FAISS only): recall@10 and latency of the HNSW segments against exact search.
Prints a table and writes docs/benchmarks.md (with --write). Rows of docs/benchmarks.json that a
run does not redo are kept (each row says when it was measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import synth  # noqa: E402

from dadong_qa import QA, load_settings  # noqa: E402
from dadong_qa import index as store  # noqa: E402
from dadong_qa.embed import get_embedder  # noqa: E402
from dadong_qa.index.backends import BACKENDS  # noqa: E402


class CachedEmbedder:
    """The configured embedder behind a per-text vector cache kept in the work folder."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        inner = get_embedder()
        self.name, self.dim = inner.name, inner.dim
        self._inner = inner
        self.model_seconds = 0.0
        self._keys: dict[bytes, int] = {}
        self._table = np.zeros((0, self.dim), dtype=np.float32)
        self._new: dict[bytes, np.ndarray] = {}  # embedded since the last save
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                keys, self._table = z["keys"], z["vectors"]
            self._keys = {bytes(k): i for i, k in enumerate(keys)}

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).hexdigest().encode()  # hex: numpy "S" drops trailing NULs

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        uniq: dict[bytes, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in self._keys and k not in self._new:
                uniq.setdefault(k, t)
        if uniq:
            t0 = time.perf_counter()
            vecs = self._inner.encode(list(uniq.values()), progress=progress)
            self.model_seconds += time.perf_counter() - t0
            self._new.update(zip(uniq, vecs, strict=True))
            if len(uniq) >= 1000:
                self.save()  # a long build interrupted later keeps what it embedded
        elif progress:
            progress(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._table[self._keys[k]] if k in self._keys else self._new[k]
        return out

    def save(self) -> None:
        if not self._new:
            return
        keys = np.array([*sorted(self._keys, key=self._keys.get), *self._new], dtype="S40")
        table = np.vstack([self._table, np.array(list(self._new.values()), dtype=np.float32)])
        tmp = self.cache.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=table)
        tmp.replace(self.cache)
        self._keys = {bytes(k): i for i, k in enumerate(keys)}
        self._table, self._new = table, {}


class HashEmbedder:
    """Stand-in vectors for scale runs: hashed character uni/bigram counts, L2-normalised.

    USE embeds ~250 texts/s on two idle cores, so 100k chunks (~300k texts with sentences)
    take 20+ minutes of pure embedding per run, and far longer on a busy machine. The index
    figures (build excluding embedding, disk, load, search, add/remove, RSS) do not depend on
    what the vectors mean, and these still make lexically similar texts close, so planted facts
    stay findable. USE's own cost is measured separately (`--vectors use`, and per question).
    Needs scikit-learn (installed with sentence-transformers).
    """

    name, dim = "bench-char-hash", 512

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._vec = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=self.dim, norm="l2")
        self.model_seconds = 0.0

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        t0 = time.perf_counter()
        out = self._vec.transform(list(texts)).toarray().astype(np.float32) if texts else np.zeros((0, self.dim))
        self.model_seconds += time.perf_counter() - t0
        if progress:
            progress(len(texts))
        return np.asarray(out, dtype=np.float32)

    def save(self) -> None:
        return None


def _embedder(vectors: str, cache: Path) -> Any:
    return CachedEmbedder(cache) if vectors == "use" else HashEmbedder()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_mb(index_dir: Path) -> float:
    """Size of the live version (plus a Milvus Lite database in the index folder)."""
    seen, total = set(), 0
    live = index_dir / store.current_version(index_dir)
    for dirpath, _, files in [*os.walk(live), *os.walk(index_dir / "milvus.db")]:
        for f in files:
            st = os.lstat(os.path.join(dirpath, f))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total / 1e6


VECTORS = "use"  # set by --vectors


def _paths(work: Path, chunks: int, backend: str) -> tuple[Path, Path, Path]:
    base = work / f"c{chunks}"
    return base / "corpus", base / f"index-{backend}-{VECTORS}", base / "vectors.npz"


def _qa(work: Path, chunks: int, backend: str, embedder: Any) -> QA:
    corpus, index_dir, _ = _paths(work, chunks, backend)
    settings = load_settings(corpus_dir=corpus, index_dir=index_dir, index_backend=backend)
    return QA(settings, embedder=embedder)


class _Log:
    def __init__(self, label: str) -> None:
        self.label, self.last = label, {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        step = max(1, total // 20)
        if done == total or done // step != self.last.get(stage, -1):
            self.last[stage] = done // step
            print(f"[{self.label}] {stage} {done}/{total} {time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- child phases


def phase_build(work: Path, chunks: int, backend: str, seed: int) -> dict[str, Any]:
    _, index_dir, cache = _paths(work, chunks, backend)
    emb = _embedder(VECTORS, cache)
    qa = _qa(work, chunks, backend, emb)
    t0 = time.perf_counter()
    report = qa.build(progress=_Log(f"{chunks}/{backend}"))
    wall = time.perf_counter() - t0
    emb.save()
    # Embedding is measured when the vectors are first computed; later runs reuse them.
    embed_log = work / f"c{chunks}" / f"embed_seconds_{VECTORS}.json"
    if emb.model_seconds > 0.5 * wall:
        embed_log.write_text(
            json.dumps({"seconds": round(emb.model_seconds, 2), "build_s": round(wall, 2), "when": time.ctime()})
        )
    first = json.loads(embed_log.read_text()) if embed_log.is_file() else {}
    s = qa.status()
    return {
        "docs": s["docs"],
        "chunks": s["chunks"],
        "sentences": s["sentences"],
        "build_s": first.get("build_s", round(wall, 2)) if VECTORS == "use" else round(wall, 2),
        "build_this_run_s": round(wall, 2),
        "embed_s": first.get("seconds"),
        "embed_this_run_s": round(emb.model_seconds, 2),
        "index_build_s": round(wall - emb.model_seconds, 2),
        "errors": len(report.errors),
        "disk_mb": round(_disk_mb(index_dir), 1),
        "build_rss_mb": round(_rss_mb(), 1),
    }


def phase_serve(work: Path, chunks: int, backend: str, seed: int) -> dict[str, Any]:
    corpus, _, cache = _paths(work, chunks, backend)
    facts = json.loads((work / f"c{chunks}" / "planted.json").read_text(encoding="utf-8"))
    emb = _embedder(VECTORS, cache)
    qa = _qa(work, chunks, backend, emb)
    from dadong_qa.text import warm_up

    warm_up()
    emb.encode(["预热"])  # the model is process-wide and loaded by the app at start, not per load
    t0 = time.perf_counter()
    qa.live()
    cold = time.perf_counter() - t0
    questions = synth.latency_questions()
    for q in questions[:5]:
        qa.ask(q)
    lat = []
    for q in questions:
        t = time.perf_counter()
        qa.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    use_ms = None
    if VECTORS != "use":  # what the real encoder adds to each question
        use = get_embedder()
        use.encode(["预热"])
        times = []
        for q in questions:
            t = time.perf_counter()
            use.encode([q])
            times.append((time.perf_counter() - t) * 1000)
        use_ms = round(statistics.median(times), 1)
    hit = answered = 0
    for f in facts:
        a = qa.ask(f["question"])
        hit += any(f["answer"] in p.text for p in a.passages)
        answered += a.answered and f["answer"] in a.text
    extra, fact = synth.extra_article(work / f"c{chunks}", seed, 1)
    t = time.perf_counter()
    rep = qa.add([extra])
    add_s = time.perf_counter() - t
    a = qa.ask(fact.question)
    added_found = a.answered and fact.answer in a.text
    t = time.perf_counter()
    rem = qa.remove([rep.added[0]])
    remove_s = time.perf_counter() - t
    a = qa.ask(fact.question)
    removed_gone = all(p.doc_id != rep.added[0] for p in a.passages)
    # Put the corpus back as it was, for the next run.
    retired = corpus / ".removed" / extra.name
    if retired.exists():
        retired.unlink()
    return {
        "cold_load_s": round(cold, 2),
        "ask_p50_ms": round(statistics.median(lat), 1),
        "ask_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1),
        "use_query_p50_ms": use_ms,
        "planted_recall_top5": round(hit / len(facts), 3),
        "planted_answered": round(answered / len(facts), 3),
        "add_s": round(add_s, 3),
        "add_found": bool(added_found),
        "remove_s": round(remove_s, 3),
        "remove_gone": bool(removed_gone and rem.removed),
        "serve_rss_mb": round(_rss_mb(), 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews latency
    }


def phase_ann(work: Path, chunks: int, backend: str, seed: int) -> dict[str, Any]:
    """Recall@10 and latency of the FAISS index as built, against exact search over the same vectors."""
    import faiss

    from dadong_qa.index.backends import faiss_backend as fb

    _, index_dir, cache = _paths(work, chunks, backend)
    emb = _embedder(VECTORS, cache)
    idx = store.load(index_dir, verify=False)
    queries = emb.encode(synth.latency_questions())
    out: dict[str, Any] = {}
    for sentences, label in ((False, "chunks"), (True, "sentences")):
        ids = np.array(sorted(idx.sentences if sentences else idx.chunks), dtype=np.int64)
        vecs = idx.backend.vectors(ids.tolist(), sentences=sentences)
        exact = faiss.IndexFlatIP(idx.dim)
        exact.add(vecs)
        t = time.perf_counter()
        _, truth = exact.search(queries, 10)
        flat_ms = (time.perf_counter() - t) * 1000 / len(queries)
        t = time.perf_counter()
        got = [idx.backend.search(q, 10, sentences) for q in queries]
        ann_ms = (time.perf_counter() - t) * 1000 / len(queries)
        pairs = zip(got, truth, strict=True)
        recall = np.mean([len({i for i, _ in g} & set(ids[t_].tolist())) / 10 for g, t_ in pairs])
        kinds = {type(faiss.downcast_index(p[int(sentences)].index)).__name__ for p in idx.backend.segments.values()}
        out[label] = {
            "n": len(ids),
            "types": sorted(kinds),
            "recall_at_10": round(float(recall), 4),
            "index_ms": round(ann_ms, 2),
            "exact_ms": round(flat_ms, 2),
        }
    out["flat_max"] = fb.FLAT_MAX
    out["ef_search"] = fb.EF_SEARCH
    return out


PHASES = {"build": phase_build, "serve": phase_serve, "ann": phase_ann}


def _child(phase: str, work: Path, chunks: int, backend: str, seed: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", phase, "--work", str(work), "--seed", str(seed), "--vectors", VECTORS]
    cmd += ["--chunks", str(chunks), "--backends", backend]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- report

COLUMNS = [
    ("size", "target"),
    ("chunks", "chunks"),
    ("backend", "backend"),
    ("vectors", "vectors"),
    ("when", "measured"),
    ("build_s", "build s"),
    ("embed_s", "embed s"),
    ("index_build_s", "index build s"),
    ("disk_mb", "disk MB"),
    ("build_rss_mb", "build peak RSS MB"),
    ("cold_load_s", "cold load s"),
    ("ask_p50_ms", "ask p50 ms"),
    ("ask_p95_ms", "ask p95 ms"),
    ("use_query_p50_ms", "+USE query p50 ms"),
    ("add_s", "add 1 article s"),
    ("remove_s", "remove 1 article s"),
    ("serve_rss_mb", "serve peak RSS MB"),
    ("planted_recall_top5", "planted recall@5"),
    ("load_avg_1m", "load avg"),  # other work on the 2 cores: latencies above ~2 are the machine's, not the index's
]


def table(rows: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(h for _, h in COLUMNS) + " |"
    sep = "|" + "|".join("---:" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join("–" if r.get(k) is None else str(r[k]) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def machine() -> str:
    mem = "?"
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, Python {platform.python_version()}, {platform.system()}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    p.add_argument("--work", type=Path, default=Path("/tmp/dadong-qa-bench"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--vectors", choices=["use", "hash"], default="use", help="real USE vectors or fast stand-ins")
    p.add_argument("--reuse", action="store_true", help="keep results already in the work folder")
    p.add_argument("--write", action="store_true", help="write docs/benchmarks.md from all results")
    p.add_argument("--child", choices=list(PHASES), help=argparse.SUPPRESS)
    a = p.parse_args()
    global VECTORS
    VECTORS = a.vectors
    if a.child:
        print(json.dumps(PHASES[a.child](a.work, a.chunks[0], a.backends[0], a.seed)))
        return 0
    a.work.mkdir(parents=True, exist_ok=True)
    results_path = a.work / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else _doc_rows()
    for chunks in a.chunks:
        base = a.work / f"c{chunks}"
        if not (base / "planted.json").is_file():
            facts = synth.generate(base / "corpus", chunks, a.seed)
            (base / "planted.json").write_text(json.dumps([f.__dict__ for f in facts], ensure_ascii=False))
        for backend in a.backends:
            key = f"{chunks}/{backend}/{a.vectors}"
            if a.reuse and key in results:
                continue
            row: dict[str, Any] = {"size": chunks, "backend": backend, "vectors": a.vectors}
            row["when"] = time.strftime("%Y-%m-%d %H:%M")
            row.update(_child("build", a.work, chunks, backend, a.seed))
            row.update(_child("serve", a.work, chunks, backend, a.seed))
            if backend == "faiss":
                row["ann"] = _child("ann", a.work, chunks, backend, a.seed)
            results[key] = row
            results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
            print(json.dumps(row, ensure_ascii=False), flush=True)
    rows = sorted(results.values(), key=lambda r: (r["size"], r["backend"], r["vectors"]))
    print(table(rows))
    print(ann_table(rows))
    if a.write:
        args = [x for x in sys.argv[1:] if x not in ("--reuse", "--write")]
        write_doc(rows, " ".join(["python", "bench/scale.py", *args]))
    return 0


def _doc_rows() -> dict[str, dict[str, Any]]:
    """The rows already in docs/benchmarks.json, keyed like results.json (a run replaces the ones it redoes)."""
    path = ROOT / "docs" / "benchmarks.json"
    rows = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    return {f"{r['size']}/{r['backend']}/{r['vectors']}": r for r in rows}


def ann_table(rows: list[dict[str, Any]]) -> str:
    out = ["| chunks | vectors | set | n | index type | recall@10 | index ms/query | exact ms/query |"]
    out.append("|" + "---:|" * 8)
    for r in rows:
        for label in ("chunks", "sentences"):
            a = r.get("ann", {}).get(label)
            if a:
                kinds = "+".join(a["types"])
                out.append(
                    f"| {r['chunks']} | {r['vectors']} | {label} | {a['n']} | {kinds} | {a['recall_at_10']} | "
                    f"{a['index_ms']} | {a['exact_ms']} |"
                )
    return "\n".join(out)


START, END = "<!-- scale.py results: start -->", "<!-- scale.py results: end -->"


def write_doc(rows: list[dict[str, Any]], command: str) -> None:
    """Replace the generated block of docs/benchmarks.md (the prose around it is kept)."""
    block = "\n".join(
        [
            START,
            f"Machine: {machine()}. Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by:",
            "",
            f"    {command}",
            "",
            table(rows),
            "",
            "FAISS search as built (HNSW above `FLAT_MAX` vectors per segment) against exact search:",
            "",
            ann_table(rows),
            END,
        ]
    )
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")
    (ROOT / "docs" / "benchmarks.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
