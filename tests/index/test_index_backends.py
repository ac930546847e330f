"""The backend registry: one list of backends, used by the settings and by the index."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from dadong_qa.config import load_settings
from dadong_qa.index import backends
from dadong_qa.index.backends import BACKENDS, StoredVersion, load_backend, new_backend


def test_settings_accept_exactly_the_registered_backends():
    for kind in BACKENDS:
        assert load_settings(index_backend=kind).index_backend == kind
    with pytest.raises(ValueError, match="index_backend must be one of faiss, milvus"):
        load_settings(index_backend="annoy")


def test_unknown_backend_is_refused_with_the_choices(tmp_path: Path):
    with pytest.raises(ValueError, match="choose one of faiss, milvus"):
        new_backend("annoy", 4, "", tmp_path)
    stored = StoredVersion({"kind": "annoy"}, tmp_path, [], [], [], "", tmp_path)
    with pytest.raises(ValueError, match="'annoy' in the manifest"):
        load_backend(4, stored)


def test_a_new_backend_is_one_module_and_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """What adding a backend takes: a module with a class that has `create` and `open`, and its entry."""
    module = types.ModuleType(f"{backends.__name__}.toy_backend")

    class ToyBackend:
        kind = "toy"

        def __init__(self, dim: int, where: str) -> None:
            self.dim, self.where = dim, where

        @classmethod
        def create(cls, dim: int, uri: str, index_dir: Path) -> ToyBackend:
            return cls(dim, f"new:{uri or index_dir}")

        @classmethod
        def open(cls, dim: int, stored: StoredVersion) -> ToyBackend:
            return cls(dim, f"open:{stored.info['where']}")

    module.ToyBackend = ToyBackend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(BACKENDS, "toy", "toy_backend:ToyBackend")

    assert load_settings(index_backend="toy").index_backend == "toy"
    made = new_backend("toy", 4, "", tmp_path)
    assert isinstance(made, ToyBackend) and made.where == f"new:{tmp_path}"
    opened = load_backend(4, StoredVersion({"kind": "toy", "where": "x"}, tmp_path, [], [], [], "", tmp_path))
    assert isinstance(opened, ToyBackend) and opened.where == "open:x"


def test_faiss_is_the_default_for_old_manifests(tmp_path: Path):
    stored = StoredVersion({}, tmp_path, [], [], [], "", tmp_path)
    assert load_backend(4, stored).kind == "faiss"
