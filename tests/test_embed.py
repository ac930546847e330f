from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dadong_qa import QA, IndexMismatchError, load_settings
from dadong_qa.embed import EmbedderError, get_embedder


def test_default_use_embedder_is_normalised_512d():
    emb = get_embedder("use-multilingual-v3")
    v = emb.encode(["大东区新建口袋公园。", "今天天气很好。", "大东区新建了公园。"])
    assert v.shape == (3, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[2] > v[0] @ v[1]  # related sentences are closer
    assert emb.encode([]).shape == (0, 512)


def _tiny_sentence_transformer(folder: Path) -> Path:
    """A randomly initialised BERT wrapped as a sentence-transformers model, built offline."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer

    chars = sorted(
        set("大东区新建口袋公园今天气很好了一个我们地区生产总值亿元年月日多少是什么哪些") | set("0123456789")
    )
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    hf = folder / "hf"
    hf.mkdir(parents=True)
    (hf / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    BertTokenizerFast(vocab_file=str(hf / "vocab.txt"), tokenize_chinese_chars=True).save_pretrained(hf)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    BertModel(config).save_pretrained(hf)
    word = Transformer(str(hf), max_seq_length=128)
    pool = Pooling(32, pooling_mode="mean")
    out = folder / "tiny-st"
    SentenceTransformer(modules=[word, pool], device="cpu").save(str(out))
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_sentence_transformer(tmp_path_factory.mktemp("st"))


def test_sentence_transformers_path_runs_the_whole_pipeline(tiny_model: Path, tmp_path: Path, seed_corpus: Path):
    shutil.copytree(seed_corpus, tmp_path / "corpus")
    qa = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", embedder=str(tiny_model)))
    qa.build()
    status = qa.status()
    assert status["embedder"] == str(tiny_model) and status["dim"] == 32
    answer = qa.ask("地区生产总值是多少亿元？")
    assert answer.passages and all(p.doc_id for p in answer.passages)
    # The index remembers its embedder: opening it with the default one must fail clearly.
    with pytest.raises(IndexMismatchError, match="dadong-qa build"):
        QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")).ask("测试问题")


def test_unknown_model_fails_with_clear_message(tmp_path: Path):
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model"):
        get_embedder(str(tmp_path / "no-such-model"))


def test_model_name_not_in_the_cache_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import os
    import time

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-cache"))  # an empty cache
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    t0 = time.perf_counter()
    with pytest.raises(EmbedderError, match="huggingface-cli download"):
        get_embedder("BAAI/bge-small-zh-v1.5")
    # No hub retries: fails in well under the ~78 s the retries took (generous for a slow machine).
    assert time.perf_counter() - t0 < 20
    assert "HF_HUB_OFFLINE" not in os.environ  # the setting is restored after loading
