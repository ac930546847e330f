from __future__ import annotations

import pytest

from dadong_qa import QA
from dadong_qa.config import Settings
from dadong_qa.retrieval.retrieve import (
    FUSIONS,
    HYBRID_FUSIONS,
    MODES,
    Retriever,
    fuse_bm25,
    fuse_dense,
    fuse_rrf,
    fuse_weighted,
)


def test_hybrid_ranks_exact_wording_first(built_qa: QA):
    r = built_qa.live().retriever.retrieve("开行中欧班列多少列", k=5)
    assert "中欧班列600列" in r.passages[0].text
    assert [p.score for p in r.passages] == sorted((p.score for p in r.passages), reverse=True)
    assert all(0.0 <= p.bm25 <= 1.0 for p in r.passages)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_modes_return_k_passages_with_metadata(built_qa: QA, mode: str):
    r = built_qa.live().retriever.retrieve("老旧小区改造", k=4, mode=mode)
    assert len(r.passages) == 4
    assert all(p.title and p.doc_id and p.sentence_ids for p in r.passages)


def test_unknown_mode_rejected(built_qa: QA):
    with pytest.raises(ValueError, match="mode"):
        built_qa.live().retriever.retrieve("问题", mode="magic")


def test_paraphrase_reaches_answer_through_expansion(built_qa: QA):
    # "绿化" never occurs in the articles; its embedding neighbour "绿地" does.
    r = built_qa.live().retriever.retrieve("去年新增了多少绿化面积", k=5)
    assert "绿化" in r.query.expansions
    assert any("绿地" in w for w, _ in r.query.expansions["绿化"])


# ---------------------------------------------------------------- fusion table


def test_weighted_fusion_mixes_both_sides_and_ignores_negative_cosines() -> None:
    s = Settings(dense_weight=0.25)
    fused = dict((c, score) for score, c in fuse_weighted({1: 0.8, 2: -0.4}, {2: 1.0, 3: 0.5}, s))
    assert fused == pytest.approx({1: 0.2, 2: 0.75, 3: 0.375})


def test_rrf_uses_ranks_only_and_rewards_agreement() -> None:
    s = Settings(rrf_k=60)
    dense, bm25 = {1: 0.9, 2: 0.5, 3: 0.1}, {2: 1.0, 4: 0.2}
    fused = {c: score for score, c in fuse_rrf(dense, bm25, s)}
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)  # 2nd by cosine, 1st by BM25
    assert fused[1] == pytest.approx(1 / 61) and fused[4] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == 2
    rescaled = {c: score for score, c in fuse_rrf({c: v / 10 for c, v in dense.items()}, bm25, s)}
    assert rescaled == fused  # scores only order


def test_single_side_modes_score_by_their_side() -> None:
    dense, bm25 = {1: 0.5}, {2: 0.7}
    assert sorted(fuse_dense(dense, bm25, Settings())) == [(0.0, 2), (0.5, 1)]
    assert sorted(fuse_bm25(dense, bm25, Settings())) == [(0.0, 1), (0.7, 2)]
    assert set(FUSIONS) == {*HYBRID_FUSIONS, *MODES} - {"hybrid"}


def test_unknown_fusion_is_refused_when_the_retriever_is_made() -> None:
    with pytest.raises(ValueError, match="fusion must be one of weighted, rrf, not 'borda'"):
        Retriever(None, None, Settings(fusion="borda"))  # type: ignore[arg-type]


def test_rrf_hybrid_returns_rank_fusion_scores(built_qa: QA) -> None:
    live = built_qa.live()
    settings = live.retriever.settings.with_overrides(fusion="rrf")
    rrf = Retriever(live.index, live.retriever.embedder, settings).retrieve("开行中欧班列多少列", k=5)
    assert all(0 < p.score <= 2 / (settings.rrf_k + 1) + 1e-6 for p in rrf.passages)  # scores are rounded
    assert [p.score for p in rrf.passages] == sorted((p.score for p in rrf.passages), reverse=True)
    assert "中欧班列600列" in " ".join(p.text for p in rrf.passages)
