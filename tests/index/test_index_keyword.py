from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from dadong_qa.index.keyword import KeywordSegment, KeywordStats, score

DOCS = [
    "大东区 地区 生产总值 940 亿元 增长".split(),
    "大东区 工业 百强区 排名 36 名 工业".split(),
    "老旧 小区 改造 121 个 大东区".split(),
    "沈阳 汽车 产业 工业 产值 增长 增长".split(),
    [],
]
QUERIES = [["大东区", "工业"], ["增长"], ["汽车", "增长", "增长"], ["没有的词"], []]


def _stats(seg: KeywordSegment) -> KeywordStats:
    return KeywordStats(seg.doc_freq(), seg.n_rows, float(seg.lengths.sum()))


@pytest.mark.parametrize("query", QUERIES)
def test_scores_match_bm25s(query: list[str]):
    docs = DOCS[:-1]  # bm25s cannot index an empty document
    seg = KeywordSegment.from_tokens(docs)
    ours = score(query, [seg], _stats(seg))[0]
    ref = bm25s.BM25()  # defaults: Lucene idf, k1=1.5, b=0.75
    ref.index(docs, show_progress=False)
    ids = ref.get_tokens_ids(query)
    expected = np.asarray(ref.get_scores_from_ids(ids)) if ids else np.zeros(len(docs))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert (ours > 0).any() == bool(ids)


def test_empty_chunk_scores_zero():
    seg = KeywordSegment.from_tokens(DOCS)
    assert score(["大东区"], [seg], _stats(seg))[0][-1] == 0


def test_split_segments_with_global_stats_score_like_one_segment():
    whole = KeywordSegment.from_tokens(DOCS)
    a, b = KeywordSegment.from_tokens(DOCS[:2]), KeywordSegment.from_tokens(DOCS[2:])
    stats = KeywordStats().plus(a.doc_freq(), a.n_rows, float(a.lengths.sum()))
    stats = stats.plus(b.doc_freq(), b.n_rows, float(b.lengths.sum()))
    assert stats == _stats(whole)
    for q in QUERIES:
        parts = np.concatenate(score(q, [a, b], stats))
        np.testing.assert_allclose(parts, score(q, [whole], stats)[0], rtol=1e-6)


def test_removing_rows_subtracts_exactly_their_counts():
    seg = KeywordSegment.from_tokens(DOCS)
    stats = _stats(seg).plus(seg.doc_freq(np.array([1, 3])), 2, float(seg.lengths[[1, 3]].sum()), sign=-1)
    rest = KeywordSegment.from_tokens([DOCS[0], DOCS[2], DOCS[4]])
    assert stats == _stats(rest)
    assert "工业" not in stats.df and stats.df["大东区"] == 2


def test_select_and_concat_keep_rows_and_counts():
    seg = KeywordSegment.from_tokens(DOCS)
    picked = seg.select(np.array([3, 0]))
    assert picked.n_rows == 2 and picked.doc_freq() == KeywordSegment.from_tokens([DOCS[3], DOCS[0]]).doc_freq()
    joined = KeywordSegment.concat([picked, KeywordSegment.from_tokens(DOCS[1:3])])
    ref = KeywordSegment.from_tokens([DOCS[3], DOCS[0], DOCS[1], DOCS[2]])
    stats = _stats(ref)
    for q in QUERIES:
        np.testing.assert_allclose(score(q, [joined], stats)[0], score(q, [ref], stats)[0], rtol=1e-6)


def test_write_read_round_trip(tmp_path: Path):
    seg = KeywordSegment.from_tokens(DOCS)
    seg.write(tmp_path)
    back = KeywordSegment.read(tmp_path)
    assert back.vocab == seg.vocab and (back.tf != seg.tf).nnz == 0
    np.testing.assert_array_equal(back.lengths, seg.lengths)
    np.load(tmp_path / "tf.npz", allow_pickle=False)  # no pickled objects


def test_idf_of_unseen_term_is_the_maximum():
    stats = _stats(KeywordSegment.from_tokens(DOCS))
    assert stats.idf("没有的词") > stats.idf("工业") > stats.idf("大东区")
