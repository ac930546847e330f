"""Shared fixtures: a real index built from the seed corpus in a temporary folder."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from dadong_qa import QA, load_settings
from dadong_qa.schema import Answer, Citation, Document, Sentence

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


# Made-up articles, so tests of adding articles do not depend on what the seed articles say.
LIBRARY_ARTICLE = """示例县图书馆延长开放时间

2025-03-01

为方便读者，示例县图书馆自3月起每天开放至晚上9点，周末照常开放。

图书馆今年还将新增自助借还机6台，并开设面向中小学生的阅读课堂。
"""
ORCHARD_ARTICLE = """示例县苹果节开幕

2025-09-20

第七届示例县苹果节于9月20日在红石村开幕。

今年示例县苹果种植面积达到5.2万亩，预计产量9万吨。苹果节期间将举办采摘体验、农产品展销等活动。
"""

# A made-up article, so the app tests do not depend on what the seed articles say.
LAKE_ARTICLE = """青松湖湿地公园去年接待游客再创新高

2025-01-10 08:30

青松湖湿地公园位于示例县城北，是一处以候鸟栖息地为特色的城市湿地。

2024年，青松湖湿地公园共接待游客38万人次，比上年增长12%。2023年，青松湖湿地公园共接待游客34万人次。

公园管理处介绍，2024年公园新建木栈道2.6公里，新增观鸟屋4座。每年冬季，约有1200只白天鹅在湖区越冬。
"""
APP_MAX_FILE_BYTES = 64_000  # small, so the size limit can be tested with a small file


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory):
    """The chat app on a free local port, over the seed articles plus LAKE_ARTICLE.

    Shared by the API and browser tests; they may add articles but not remove these.
    Yields (url, qa).
    """
    from dadong_qa.app.server import serve

    root = tmp_path_factory.mktemp("app")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    (root / "corpus" / "lake.txt").write_text(LAKE_ARTICLE, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index", max_file_bytes=APP_MAX_FILE_BYTES))
    app = serve(qa, host="127.0.0.1", port=free_port(), block=False)
    try:
        yield app.local_url, qa
    finally:
        app.close()


BROWSER_TESTS = "tests/test_browser.py"


def browser_note(skipped: Sequence[pytest.TestReport]) -> str | None:
    """Why the browser tests did not run and how to run them, when they were skipped."""
    reports = [r for r in skipped if r.nodeid.startswith(BROWSER_TESTS)]
    if not reports:
        return None
    reason = str(reports[0].longrepr[-1]) if isinstance(reports[0].longrepr, tuple) else "skipped"
    return (
        f"{len(reports)} browser tests ({BROWSER_TESTS}) were skipped: {reason.removeprefix('Skipped: ')}. "
        "They need Debian's chromium and chromium-driver (and CJK fonts for the screenshots): "
        "sudo apt-get install chromium chromium-driver fonts-wqy-microhei, or run .ci/run, "
        "which installs them and then runs make test as CI does."
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if note := browser_note(terminalreporter.stats.get("skipped", [])):
        terminalreporter.write_sep("-", "browser tests not run")
        terminalreporter.write_line(note)


# An index stand-in for the answer stage: a few sentences in memory, each with a given vector.
DIM = 4


@dataclass
class MemoryStore:
    """A `SentenceStore` over a few articles; each sentence's vector is given."""

    docs: dict[str, Document]
    sentences: dict[int, Sentence] = field(default_factory=dict)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)

    def doc_meta(self, doc_id: str) -> Document:
        return self.docs[doc_id]

    def doc_sentence_ids(self, doc_id: str) -> list[int]:
        return [s.sid for s in self.sentences.values() if s.doc_id == doc_id]

    def chunk_heading(self, cid: int) -> str | None:
        return None

    def sentence_vectors(self, sids: list[int]) -> np.ndarray:
        return np.array([self.vectors[s] for s in sids]).reshape(len(sids), DIM)

    def idf(self, term: str) -> float:
        return float(np.log(1 + 10 / (1 + self.df.get(term, 0))))


def make_store(articles: dict[str, tuple[str, str | None, list[str]]]) -> MemoryStore:
    """articles: doc_id -> (title, date, sentences)."""
    store = MemoryStore({})
    for doc_id, (title, date, sentences) in articles.items():
        store.docs[doc_id] = Document(doc_id, title, "".join(sentences), date=date)
        for text in sentences:
            sid = len(store.sentences)
            store.sentences[sid] = Sentence(sid, doc_id, 0, len(text), text)
            store.vectors[sid] = np.eye(DIM)[sid % DIM]
            for word in {text[i : i + 2] for i in range(len(text) - 1)}:
                store.df[word] = store.df.get(word, 0) + 1
    return store


class CharEmbedder:
    """Deterministic bag-of-characters vectors (similar texts, similar vectors); remembers every
    text it was asked to encode."""

    name = "hash-test"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls: list[str] = []

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls += list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t:
                out[i, int(hashlib.md5(ch.encode()).hexdigest(), 16) % self.dim] += 1.0
        if progress:
            progress(len(texts))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def sample_answer(**kw) -> Answer:
    """An answer whose sentence, title and passage carry markup and Markdown, for rendering tests."""
    cite = Citation(
        sentence="甲地今年建成<b>新桥</b>2座。",
        doc_id="d1",
        title="标题<script>alert(1)</script>",
        date="2025-01-02",
        passage="前一句。甲地今年建成<b>新桥</b>2座。后一句*强调*。",
    )
    base = {"text": "甲地今年建成<b>新桥</b>2座。[1]", "answered": True, "citations": [cite], "passages": []}
    base.update(kw)
    return Answer(**base)
