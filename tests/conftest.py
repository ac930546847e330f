"""Shared fixtures: a real index built from the seed corpus in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dadong_qa import QA, load_settings

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    return SEED_CORPUS


@pytest.fixture(scope="session")
def built_qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    """QA over a copy of the seed corpus, index built once per test session. Do not change it."""
    root = tmp_path_factory.mktemp("seed")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    qa.build()
    return qa


@pytest.fixture()
def fresh_qa(tmp_path: Path) -> QA:
    """QA over its own copy of the seed corpus, index built; free to change."""
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    qa = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"))
    qa.build()
    return qa
