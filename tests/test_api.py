from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dadong_qa import QA, Answer, QuestionError
from dadong_qa.api import default_qa
from dadong_qa.index import IndexMissingError

ROOT = Path(__file__).resolve().parent.parent


def test_answer_contract(built_qa: QA):
    a = built_qa.ask("2022年大东区整车产量超过多少万辆？")
    assert isinstance(a, Answer) and a.answered
    assert "46万辆" in a.text and "[1]" in a.text
    c = a.citations[0]
    assert c.sentence in built_qa.index.docs[c.doc_id].doc.text  # verbatim
    assert c.title and c.date == "2022-12-21"
    assert a.passages and [p.score for p in a.passages] == sorted((p.score for p in a.passages), reverse=True)
    assert all(p.text and p.doc_id for p in a.passages)
    d = a.to_dict()
    assert d["citations"][0]["sentence"] == c.sentence and d["answered"] is True


def test_refuses_when_sources_do_not_say(built_qa: QA):
    a = built_qa.ask("大东区的海拔高度是多少米？")
    assert not a.answered and not a.citations
    assert "没有找到" in a.text
    assert a.passages  # still shows the closest passages


@pytest.mark.parametrize("q", ["", "   ", "\n\t"])
def test_empty_question_is_a_clear_error(built_qa: QA, q: str):
    with pytest.raises(QuestionError, match="empty"):
        built_qa.ask(q)


def test_huge_question_is_a_clear_error(built_qa: QA):
    with pytest.raises(QuestionError, match="too long"):
        built_qa.ask("大东区" * 10_000)


def test_modes_all_return_passages(built_qa: QA):
    for mode in ("bm25", "dense", "hybrid"):
        assert built_qa.ask("老旧小区改造", mode=mode).passages


def test_default_ask_uses_env_paths_and_builds_once(built_qa: QA, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import dadong_qa.api as api

    monkeypatch.setattr(api, "_default", None)
    monkeypatch.setenv("DADONG_QA_CORPUS", str(built_qa.settings.corpus_dir))
    monkeypatch.setenv("DADONG_QA_INDEX", str(built_qa.settings.index_dir))
    monkeypatch.chdir(tmp_path)  # nothing here: the env vars must be what is used
    from dadong_qa import ask

    a = ask("全区规上工业总产值首次突破多少亿元？")
    assert a.answered and "2000亿元" in a.text
    assert default_qa() is default_qa()
    assert default_qa().settings.index_dir == built_qa.settings.index_dir


def test_cwd_defaults_build_on_first_use(tmp_path: Path, seed_corpus: Path, monkeypatch: pytest.MonkeyPatch):
    import shutil

    shutil.copytree(seed_corpus, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DADONG_QA_CORPUS", raising=False)
    monkeypatch.delenv("DADONG_QA_INDEX", raising=False)
    qa = QA()
    with pytest.raises(IndexMissingError):  # asking never builds ...
        qa.ask("大东区发放了多少万元消费券？")
    assert not (tmp_path / "index" / "CURRENT").exists()
    assert qa.ensure_index()  # ... the app and the ask() helper build explicitly, once
    assert not qa.ensure_index()
    assert qa.ask("大东区发放了多少万元消费券？").passages
    assert (tmp_path / "index" / "CURRENT").is_file()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "dadong_qa.app.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_round_trip(tmp_path: Path, seed_corpus: Path):
    import json
    import shutil

    shutil.copytree(seed_corpus, tmp_path / "corpus")
    r = _cli("build", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 articles" in r.stdout
    r = _cli("list", "--json", cwd=tmp_path)
    assert {d["doc_id"] for d in json.loads(r.stdout)} == {"000_0f957d856a3f9b1b", "003_1e56cd1d5de5c129"}
    r = _cli("ask", "大东区新增高新技术企业多少家？", "--json", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert data["answered"] and "93家" in data["text"] and data["citations"][0]["title"]
    art = tmp_path / "new.md"
    art.write_text("# 南湖区开通夜间公交\n\n南湖区开通夜间公交线路5条，运营时间延长至凌晨1点。\n", encoding="utf-8")
    r = _cli("add", str(art), cwd=tmp_path)
    assert r.returncode == 0 and "added: new" in r.stdout
    r = _cli("ask", "南湖区开通了几条夜间公交线路？", cwd=tmp_path)
    assert "5条" in r.stdout
    r = _cli("remove", "new", cwd=tmp_path)
    assert r.returncode == 0 and "removed: new" in r.stdout
    r = _cli("ask", "", cwd=tmp_path)
    assert r.returncode == 2 and "empty" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli("--index", str(tmp_path / "elsewhere"), "ask", "问题", cwd=empty)
    assert r.returncode == 2 and "dadong-qa build" in r.stderr


def test_warm_loads_the_reader_before_the_first_question(built_qa: QA):
    qa = QA(built_qa.settings)  # its own answerer: nothing read yet
    assert qa.live().answerer._reader is None
    qa.warm()
    assert qa.live().answerer._reader is not None
    off = QA(built_qa.settings.with_overrides(reader=False))
    off.warm()
    assert off.live().answerer._reader is None
