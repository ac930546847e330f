"""Recall/latency of the FAISS index types the index uses, on stored vectors, against exact search.

    python bench/ann_recall.py VECTORS.npz [--n 20000] [--queries 100]

VECTORS.npz holds `vectors` (rows L2-normalised), e.g. the USE vector cache bench/scale.py
keeps in its work folder (`c10000/vectors.npz`). Queries are USE vectors of the fixed bench
questions. Prints one row per (index, efSearch): recall@10 by id, recall@10 counting ties
(a hit scoring at least the exact 10th score), and single-query milliseconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import synth  # noqa: E402

from dadong_qa.embed import get_embedder  # noqa: E402
from dadong_qa.index.backends import faiss_backend as fb  # noqa: E402
from dadong_qa.text import normalize  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("vectors", type=Path)
    p.add_argument("--n", type=int, default=0, help="use the first n vectors (0: all)")
    p.add_argument("--queries", type=int, default=100)
    a = p.parse_args()
    with np.load(a.vectors, allow_pickle=False) as z:
        vecs = np.ascontiguousarray(z["vectors"], dtype=np.float32)
    if a.n:
        vecs = vecs[: a.n]
    queries = get_embedder().encode([normalize(q) for q in synth.latency_questions(n=a.queries)])
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    truth_d, truth_i = exact.search(queries, 10)
    faiss.omp_set_num_threads(1)
    t = time.perf_counter()
    for q in queries:
        exact.search(q.reshape(1, -1), 10)
    flat_ms = (time.perf_counter() - t) * 1000 / len(queries)
    print(f"n={len(vecs)} dim={vecs.shape[1]} queries={len(queries)}")
    print("| index | efSearch | recall@10 (ids) | recall@10 (ties) | ms/query |")
    print("|---|---:|---:|---:|---:|")
    print(f"| IndexFlatIP (exact) | – | 1.0 | 1.0 | {flat_ms:.2f} |")
    faiss.omp_set_num_threads(2)
    t = time.perf_counter()
    hnsw = fb.make_faiss_index(vecs.shape[1], fb.FLAT_MAX + 1)
    hnsw.add_with_ids(vecs, np.arange(len(vecs), dtype=np.int64))
    build_s = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    for ef in sorted({32, 64, 128, fb.EF_SEARCH, 512}):
        params = faiss.SearchParametersHNSW(efSearch=ef)
        t = time.perf_counter()
        got = [hnsw.search(q.reshape(1, -1), 10, params=params) for q in queries]
        ms = (time.perf_counter() - t) * 1000 / len(queries)
        by_id = np.mean([len(set(g[1][0]) & set(ti)) / 10 for g, ti in zip(got, truth_i, strict=True)])
        ties = np.mean([np.sum(g[0][0] >= td[-1] - 1e-6) / 10 for g, td in zip(got, truth_d, strict=True)])
        print(f"| HNSW M={fb.HNSW_M} efC={fb.EF_CONSTRUCTION} | {ef} | {by_id:.3f} | {ties:.3f} | {ms:.2f} |")
    print(f"HNSW build: {build_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
