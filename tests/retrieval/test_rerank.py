from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dadong_qa import QA
from dadong_qa.retrieval.rerank import CrossEncoderReranker, RerankerError, get_reranker


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised one-label BERT classifier saved locally: a CrossEncoder, offline."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("ce")
    chars = sorted(set("大东区新建口袋公园中欧班列开行多少列座年月日的了是在和有0123456789"))
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]), "utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=5 + len(chars),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_cross_encoder_scores_in_unit_interval(tiny_cross_encoder: Path):
    r = CrossEncoderReranker(str(tiny_cross_encoder))
    s = r.score("中欧班列开行多少列", ["开行中欧班列600列", "新建126座口袋公园"])
    assert s.shape == (2,) and np.all((s >= 0) & (s <= 1))
    assert r.score("问题", []).shape == (0,)


def test_reranker_reorders_top_candidates(built_qa: QA, tiny_cross_encoder: Path):
    qa = QA(built_qa.settings.with_overrides(reranker=str(tiny_cross_encoder), rerank_top=10))
    a = qa.ask("大东区2022年开行了多少列中欧班列？")
    scores = [p.rerank for p in a.passages]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # the cross-encoder decided the order
    assert all(c.sentence in qa.index.docs[c.doc_id].doc.text for c in a.citations)


def test_reranker_off_by_default_and_missing_model_is_clear(built_qa: QA, tmp_path: Path):
    assert get_reranker("") is None
    assert all(p.rerank is None for p in built_qa.ask("口袋公园").passages)
    with pytest.raises(RerankerError, match="cannot load cross-encoder"):
        get_reranker(str(tmp_path / "missing"))
