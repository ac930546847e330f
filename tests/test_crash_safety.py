"""Crash safety and locking, through the public behaviour only (no index file names).

`dadong-qa build|add|remove` run as subprocesses and are SIGKILLed at several points: early (at
start-up), at the n-th change seen in the index or corpus folder (during the write), and after
the command reported its change. The index must then load and answer exactly as before the
command or exactly as after it, and running the same command again must reach the "after"
state, corpus folder included. Two `add` commands at once must both land, or the second must
stop with a clear message when it waits longer than the lock timeout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import LAKE_ARTICLE, LIBRARY_ARTICLE, ORCHARD_ARTICLE, ROOT
from dadong_qa import QA, load_settings
from dadong_qa import index as store

pytestmark = pytest.mark.slow

QUESTIONS = [
    "青松湖湿地公园2024年接待了多少游客？",
    "示例县苹果种植面积有多少亩？",
    "示例县图书馆每天开放到几点？",
]


def _settings(root: Path, **kw):
    return load_settings(corpus_dir=root / "corpus", index_dir=root / "index", **kw)


def index_state(root: Path) -> tuple:
    """What a user sees: the article list and the answers (text and cited sentences) to QUESTIONS."""
    qa = QA(_settings(root))
    docs = tuple(d["doc_id"] for d in qa.list_docs())
    answers = []
    for q in QUESTIONS:
        a = qa.ask(q)
        answers.append((a.answered, a.text, tuple((c.doc_id, c.sentence) for c in a.citations)))
    return docs, tuple(answers)


def corpus_state(root: Path) -> tuple:
    """Every file in the corpus folder, hidden ones and .removed/ included."""
    corpus = root / "corpus"
    return tuple(sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()))


def _cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    cmd, *rest = args
    return subprocess.Popen(
        [sys.executable, "-m", "dadong_qa.app.cli", cmd, "--corpus", "corpus", "--index", "index", *rest],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tree(root: Path) -> frozenset[tuple[str, int]]:
    out = set()
    for folder in (root / "index", root / "corpus"):
        for dirpath, _, names in os.walk(folder):
            for n in names:
                p = os.path.join(dirpath, n)
                with contextlib.suppress(FileNotFoundError):  # removed while listing
                    out.add((p, os.stat(p).st_size))
    return frozenset(out)


# A kill point waits on a running command, kills it when reached, and says whether it did.
KillPoint = Callable[[subprocess.Popen, Path], bool]


def after_seconds(delay: float) -> KillPoint:
    def wait(proc: subprocess.Popen, root: Path) -> bool:
        try:
            proc.wait(timeout=delay)
            return False
        except subprocess.TimeoutExpired:
            proc.kill()
            return True

    wait.__name__ = f"after {delay}s"
    return wait


def at_change(n: int) -> KillPoint:
    """Kill at the n-th change seen in the index or corpus folder: in the middle of the write."""

    def wait(proc: subprocess.Popen, root: Path) -> bool:
        last, seen = _tree(root), 0
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            now = _tree(root)
            if now != last:
                seen, last = seen + 1, now
                if seen >= n:
                    proc.kill()
                    return True
            time.sleep(0.0005)
        return False

    wait.__name__ = f"at change {n}"
    return wait


def after_report(proc: subprocess.Popen, root: Path) -> bool:
    """Kill as soon as the command printed what it changed (the index has been switched)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(("added:", "removed:", "replaced:")):
            proc.kill()
            return True
    return False


KILL_POINTS: list[KillPoint] = [after_seconds(0.4), *(at_change(n) for n in (1, 2, 3, 5, 6, 8)), after_report]


@dataclass
class Scenario:
    args: tuple[str, ...]
    prepare: Callable[[Path], None]  # changes made before the command (e.g. files to add)
    redo: Callable[[QA, Path], object]  # the same command, run in-process to finish an interrupted one


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-base")
    (root / "corpus").mkdir()
    (root / "corpus" / "lake.txt").write_text(LAKE_ARTICLE, "utf-8")
    (root / "corpus" / "library.txt").write_text(LIBRARY_ARTICLE, "utf-8")
    (root / "incoming").mkdir()
    (root / "incoming" / "orchard.txt").write_text(ORCHARD_ARTICLE, "utf-8")
    QA(_settings(root)).build()
    return root


def _copy(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


def _add_orchard_to_corpus(root: Path) -> None:
    (root / "corpus" / "orchard.txt").write_text(ORCHARD_ARTICLE, "utf-8")
    (root / "corpus" / "library.txt").write_text(LIBRARY_ARTICLE.replace("9点", "10点"), "utf-8")


def _redo_add(qa: QA, root: Path) -> object:
    return qa.add([root / "incoming" / "orchard.txt"])


SCENARIOS = {
    "add": Scenario(("add", "incoming/orchard.txt"), lambda r: None, _redo_add),
    "remove": Scenario(("remove", "lake"), lambda r: None, lambda qa, r: qa.remove(["lake"])),
    "build": Scenario(("build",), _add_orchard_to_corpus, lambda qa, r: qa.build()),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_killed_command_leaves_old_or_new_index(base: Path, tmp_path: Path, name: str) -> None:
    scenario = SCENARIOS[name]
    before = index_state(base)

    done = _copy(base, tmp_path / "done")
    scenario.prepare(done)
    proc = _cli(done, *scenario.args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after, after_corpus = index_state(done), corpus_state(done)
    assert after != before  # the command changes what users see, so the check below can tell

    outcomes = []
    for i, kill_point in enumerate(KILL_POINTS):
        root = _copy(base, tmp_path / f"run{i}")
        scenario.prepare(root)
        proc = _cli(root, *scenario.args)
        killed = kill_point(proc, root)
        proc.wait(timeout=120)
        got = index_state(root)
        which = "before" if got == before else "after" if got == after else "MIXED"
        outcomes.append(f"{kill_point.__name__}: {'killed' if killed else 'finished'} -> {which}")
        assert which != "MIXED", outcomes
        # Running the command again completes it: index and corpus folder as after a clean run.
        scenario.redo(QA(_settings(root)), root)
        assert index_state(root) == after, outcomes
        if name != "build":
            assert corpus_state(root) == after_corpus, outcomes
    print(f"\n{name}: " + "; ".join(outcomes))
    # The points must really interrupt the command, before and after its switch, or the test proves little.
    assert sum(o.endswith("killed -> before") for o in outcomes) >= 2, outcomes
    assert any(o.endswith("killed -> after") for o in outcomes), outcomes


# ---------------------------------------------------------------- two writers


def _article(n: int) -> str:
    return f"示例县第{n}号公告\n\n2025-05-0{n}\n\n示例县第{n}号公告说明，今年新建{n}座文化站，惠及居民{n}万人。\n"


def test_two_adds_at_once_both_land(base: Path, tmp_path: Path) -> None:
    root = _copy(base, tmp_path / "two")
    for n in (1, 2):
        (root / "incoming" / f"notice{n}.txt").write_text(_article(n), "utf-8")
    # Hold the lock so that both commands reach it and wait; then let them go together.
    with store.write_lock(root / "index"):
        procs = [_cli(root, "add", f"incoming/notice{n}.txt") for n in (1, 2)]
        time.sleep(3)
        assert all(p.poll() is None for p in procs)  # waiting, not failed
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    docs, _ = index_state(root)
    assert {"notice1", "notice2", "lake", "library"} <= set(docs)
    store.load(root / "index")  # every checksum verifies
    assert {"notice1.txt", "notice2.txt"} <= set(corpus_state(root))


def test_second_writer_gives_up_clearly_after_lock_timeout(base: Path, tmp_path: Path) -> None:
    root = _copy(base, tmp_path / "locked")
    before, before_corpus = index_state(root), corpus_state(root)
    version = store.current_version(root / "index")
    with store.write_lock(root / "index"):
        proc = _cli(root, "add", "incoming/orchard.txt", env={"DADONG_QA_LOCK_TIMEOUT": "1"})
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert "another dadong-qa process is changing the index" in err and "nothing was changed" in err
    assert store.current_version(root / "index") == version
    assert (index_state(root), corpus_state(root)) == (before, before_corpus)
