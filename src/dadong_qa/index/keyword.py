"""BM25 over immutable segments of stored term counts, so the keyword index grows by appending.

bm25s bakes the corpus-wide statistics (document frequencies, average length) into every
stored score, so one new article means re-indexing every chunk. Here a segment keeps only raw
term counts (a term x chunk sparse matrix, written once), and the statistics live in a small
`KeywordStats` that an update adjusts by the added and removed chunks alone. Scores are computed
at query time for the query's few terms, with the same formula as bm25s's default (Lucene idf,
Robertson tf; tests check the two agree).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

K1 = 1.5
B = 0.75
FILES = ("tf.npz", "vocab.json")


@dataclass(eq=False)
class KeywordSegment:
    """Term counts of a fixed set of chunks: rows are chunks (in `chunk_ids` order), columns terms."""

    vocab: list[str]
    tf: sparse.csc_matrix  # int32 counts, shape (rows, terms)
    lengths: np.ndarray  # tokens per row
    _col: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def from_tokens(cls, rows: Iterable[Sequence[str]]) -> KeywordSegment:
        """Rows may be a generator: tokens are consumed one chunk at a time, never all held as strings."""
        vocab: dict[str, int] = {}
        r_idx, c_idx, lengths = array("i"), array("i"), array("f")
        for r, tokens in enumerate(rows):
            lengths.append(len(tokens))
            for t in tokens:
                r_idx.append(r)
                c_idx.append(vocab.setdefault(t, len(vocab)))
        n_rows = len(lengths)
        data = np.ones(len(r_idx), dtype=np.int32)
        rows_arr, cols_arr = np.frombuffer(r_idx, dtype=np.int32), np.frombuffer(c_idx, dtype=np.int32)
        # Duplicate (row, term) pairs are summed into counts by the COO -> CSC conversion.
        tf = sparse.coo_matrix((data, (rows_arr, cols_arr)), shape=(n_rows, len(vocab))).tocsc()
        tf.sum_duplicates()
        return cls(list(vocab), tf, np.frombuffer(lengths, dtype=np.float32).copy())

    @property
    def n_rows(self) -> int:
        return self.tf.shape[0]

    def column(self, term: str) -> int | None:
        if self._col is None:
            self._col = {t: i for i, t in enumerate(self.vocab)}
        return self._col.get(term)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, counts) of the chunks that contain `term`."""
        c = self.column(term)
        if c is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
        lo, hi = self.tf.indptr[c], self.tf.indptr[c + 1]
        return self.tf.indices[lo:hi], self.tf.data[lo:hi]

    def doc_freq(self, rows: np.ndarray | None = None) -> dict[str, int]:
        """Chunks containing each term, counting only `rows` (all rows when None)."""
        mask = np.ones(self.n_rows, dtype=bool) if rows is None else np.isin(np.arange(self.n_rows), rows)
        per_nnz = mask[self.tf.indices].astype(np.int64)
        cols = np.repeat(np.arange(len(self.vocab)), np.diff(self.tf.indptr))
        counts = np.bincount(cols, weights=per_nnz, minlength=len(self.vocab)).astype(np.int64)
        return {self.vocab[i]: int(counts[i]) for i in np.flatnonzero(counts)}

    def select(self, rows: np.ndarray) -> KeywordSegment:
        """A segment of just these rows, in this order (for merging)."""
        tf = self.tf.tocsr()[rows].tocsc()
        used = np.flatnonzero(np.diff(tf.indptr))
        return KeywordSegment([self.vocab[i] for i in used], tf[:, used], self.lengths[rows])

    @classmethod
    def concat(cls, parts: Sequence[KeywordSegment]) -> KeywordSegment:
        vocab: dict[str, int] = {}
        blocks = []
        for p in parts:
            remap = np.array([vocab.setdefault(t, len(vocab)) for t in p.vocab], dtype=np.int64)
            coo = p.tf.tocoo()
            blocks.append((coo.row, remap[coo.col] if len(remap) else coo.col, coo.data, p.n_rows))
        rows, cols, data, offset = [], [], [], 0
        for r, c, d, n in blocks:
            rows.append(r + offset)
            cols.append(c)
            data.append(d)
            offset += n
        tf = sparse.coo_matrix(
            (np.concatenate(data) if data else np.zeros(0, np.int32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(offset, len(vocab)),
        ).tocsc()
        return cls(list(vocab), tf, np.concatenate([p.lengths for p in parts]))

    # ------------------------------------------------------------ files

    def write(self, folder: Path) -> list[str]:
        csc = self.tf
        np.savez(
            folder / "tf.npz",
            data=csc.data.astype(np.int32),
            indices=csc.indices.astype(np.int32),
            indptr=csc.indptr.astype(np.int64),
            shape=np.array(csc.shape, dtype=np.int64),
            lengths=self.lengths,
        )
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        return list(FILES)

    @classmethod
    def read(cls, folder: Path) -> KeywordSegment:
        with np.load(folder / "tf.npz", allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            tf = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
            lengths = z["lengths"]
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        if len(vocab) != shape[1] or len(lengths) != shape[0]:
            raise ValueError(f"{folder}: keyword index shape does not match its vocabulary")
        return cls(vocab, tf, lengths)


@dataclass
class KeywordStats:
    """Corpus-wide BM25 statistics over the live chunks."""

    df: dict[str, int] = field(default_factory=dict)
    n: int = 0
    total_length: float = 0.0

    def plus(self, df: dict[str, int], n: int, length: float, sign: int = 1) -> KeywordStats:
        new = dict(self.df)
        for t, c in df.items():
            v = new.get(t, 0) + sign * c
            if v > 0:
                new[t] = v
            else:
                new.pop(t, None)
        return KeywordStats(new, self.n + sign * n, self.total_length + sign * length)

    def idf(self, term: str) -> float:
        n = max(1, self.n)
        df = self.df.get(term, 0)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    @property
    def avg_length(self) -> float:
        return self.total_length / self.n if self.n else 1.0


def length_norms(segments: Sequence[KeywordSegment], stats: KeywordStats) -> list[np.ndarray]:
    """Per row: the BM25 length normalisation k1 * (1 - b + b * len / avg_len) (cache per version)."""
    avg = max(stats.avg_length, 1e-9)
    return [(K1 * ((1 - B) + B * seg.lengths / avg)).astype(np.float32) for seg in segments]


def score(
    query: Iterable[str],
    segments: Sequence[KeywordSegment],
    stats: KeywordStats,
    norms: Sequence[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """BM25 score of every row of each segment (a repeated query term counts again, as in bm25s)."""
    norms = norms if norms is not None else length_norms(segments, stats)
    out = [np.zeros(seg.n_rows, dtype=np.float32) for seg in segments]
    for term in query:
        if term not in stats.df:
            continue
        idf = np.float32(stats.idf(term))
        for seg, norm, acc in zip(segments, norms, out, strict=True):
            rows, tf = seg.postings(term)
            if len(rows):
                tf = tf.astype(np.float32)
                acc[rows] += idf * tf / (norm[rows] + tf)  # rows are unique within a term's postings
    return out
