from __future__ import annotations

import pytest

from dadong_qa import QA


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
