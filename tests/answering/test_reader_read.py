"""`Reader.read` on a tiny untrained reader: the shape of what it returns, not its judgement."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dadong_qa.answering.reader import Reader, ReaderInput
from dadong_qa.answering.reader import read as read_module
from dadong_qa.answering.reader.e5 import load_file
from dadong_qa.answering.reader.model import ReaderNet, Row, SpanPick
from dadong_qa.answering.reader.read import load
from dadong_qa.answering.reader.weights import save_reader

Q = "湖滨镇新建了多少家民宿？"
ITEMS = [
    ReaderInput(Q, "镇上新建民宿80家，带动村民就业600人。", "湖滨镇去年接待游客120万人次。", "湖滨镇发展旅游业"),
    ReaderInput(Q, "湖滨镇去年接待游客120万人次，旅游收入达到3.5亿元。", "", "湖滨镇发展旅游业"),
    ReaderInput(Q, "清水县还新建了一座体育馆。", "", "清水县"),
]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    torch.manual_seed(1)
    folder: Path = tmp_path_factory.mktemp("tiny")
    save_reader(folder, ReaderNet(load_file(), 1), {"config": {"max_len": 96, "max_pieces": 8}})
    return load(str(folder))


def test_one_reading_per_candidate_with_probabilities_of_a_distribution(reader: Reader) -> None:
    readings = reader.read(ITEMS)
    assert len(readings) == len(ITEMS)
    probs = [r.probability for r in readings]
    assert all(0 < p < 1 for p in probs) and sum(probs) < 1  # the rest is "none of them"


def test_spans_lie_inside_their_sentence_best_first(reader: Reader) -> None:
    for item, reading in zip(ITEMS, reader.read(ITEMS), strict=True):
        assert reading.spans
        assert all(0 <= s.start < s.end <= len(item.sentence) for s in reading.spans)
        assert [s.score for s in reading.spans] == sorted((s.score for s in reading.spans), reverse=True)
        assert len({s.start for s in reading.spans}) == len(reading.spans)  # each starts elsewhere


def test_reading_is_deterministic_and_order_free(reader: Reader) -> None:
    first = reader.read(ITEMS)
    again = reader.read(list(reversed(ITEMS)))[::-1]
    for a, b in zip(first, again, strict=True):
        assert a.logit == pytest.approx(b.logit, abs=0.05)  # bfloat16 batches pad differently
    assert reader.read([]) == []


def test_load_is_cached_per_folder(reader: Reader) -> None:
    assert load(str(reader.source)) is reader


def test_long_spans_lift_the_cap_and_leave_the_logits_alone(reader: Reader, monkeypatch: pytest.MonkeyPatch) -> None:
    caps: list[int] = []
    real = read_module.best_span

    def recording(start: torch.Tensor, end: torch.Tensor, row: Row, max_pieces: int) -> SpanPick:
        caps.append(max_pieces)
        return real(start, end, row, max_pieces)

    monkeypatch.setattr(read_module, "best_span", recording)
    capped = reader.read(ITEMS)
    assert set(caps) == {8}  # the fixture's max_pieces
    caps.clear()
    long = reader.read(ITEMS, long_spans=True)
    assert min(caps) >= 96  # the whole row: any span inside the sentence
    assert [a.logit for a in capped] == [b.logit for b in long]


def test_load_sets_the_readers_threads(reader: Reader) -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert load(str(reader.source), threads=1) is reader  # the same weights, loaded once
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
