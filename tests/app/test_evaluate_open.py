"""The open-domain protocol on a tiny SQuAD-format file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dadong_qa.app.cli import main
from dadong_qa.app.evaluate_open import at_threshold, load_squad, split_open

SQUAD = {
    "data": [
        {
            "title": "青松湖",
            "paragraphs": [
                {
                    "context": "青松湖位于示例县城北。2024年，青松湖共接待游客38万人次。",
                    "qas": [
                        {"id": "q1", "question": "青松湖位于哪里？", "answers": [{"text": "示例县城北"}]},
                        {"id": "q2", "question": "2024年青松湖接待游客多少人次？", "answers": [{"text": "38万人次"}]},
                        {"id": "empty", "question": " ", "answers": [{"text": "x", "answer_start": 0}]},
                    ],
                }
            ],
        },
        {
            "title": "红石村",
            "paragraphs": [
                {
                    "context": "红石村以种植苹果闻名。村里每年九月举办苹果节。",
                    "qas": [{"id": "q3", "question": "红石村每年几月举办苹果节？", "answers": [{"text": "九月"}]}],
                },
                {
                    "context": "白沙镇的主要产业是渔业，全镇有渔船420艘。",
                    "qas": [
                        {"id": "q4", "question": "白沙镇有多少艘渔船？", "answers": [{"text": "420艘"}]},
                        {"id": "q5", "question": "哪种水果让红石村闻名？", "answers": [{"text": "苹果"}]},
                    ],
                },
            ],
        },
    ]
}


@pytest.fixture()
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_paragraph_is_an_article_and_empty_questions_are_skipped(squad_file: Path):
    paragraphs = load_squad(squad_file)
    assert [p.key for p in paragraphs] == ["p00000", "p00001", "p00002"]
    assert [q[0] for q in paragraphs[0].questions] == ["q1", "q2"]


def test_held_out_questions_are_unanswerable_only_when_no_kept_paragraph_has_the_answer(squad_file: Path):
    paragraphs = load_squad(squad_file)
    for seed in range(20):
        s = split_open(paragraphs, holdout=0.34, seed=seed, sample=None)
        kept = {p.key for p in s.kept}
        assert len(kept) == 2
        for item in s.items:
            assert item.answerable == (item.doc_id in kept)
            if item.id == "q5" and "p00002" not in kept:
                # 苹果 is also in the kept 红石村 paragraph: neither answerable nor unanswerable
                pytest.fail("a held-out question whose answer is elsewhere in the corpus was kept")


SILENT_SQUAD = {
    "data": [
        {
            "title": "青松湖",
            "paragraphs": [
                {
                    "context": "青松湖位于示例县城北。湖边有一座灯塔。2024年，青松湖共接待游客38万人次。",
                    "qas": [
                        {"id": "lake_where", "question": "青松湖位于哪里？", "answers": [{"text": "示例县城北"}]},
                        {"id": "lake_visits", "question": "接待游客多少人次？", "answers": [{"text": "38万人次"}]},
                    ],
                }
            ],
        },
        {
            "title": "古桥",
            "paragraphs": [{"context": "示例县城北有一座古桥。古桥建于明代。", "qas": []}],
        },
    ]
}


def test_a_silenced_question_is_unanswerable_only_when_no_paragraph_still_says_its_answer(tmp_path: Path):
    path = tmp_path / "silent.json"
    path.write_text(json.dumps(SILENT_SQUAD, ensure_ascii=False), encoding="utf-8")
    paragraphs = load_squad(path)
    seen = set()
    for seed in range(20):
        s = split_open(paragraphs, holdout=0.0, seed=seed, sample=None, silent=1.0)
        lake = next(p.context for p in s.kept if p.key == "p00000")
        assert "灯塔" in lake  # the paragraph stays on topic
        items = {item.id: item for item in s.items}
        if "38万人次" not in lake:
            seen.add("visits")
            assert items["lake_visits"].answerable is False and items["lake_visits"].why == "silent"
            assert items["lake_where"].answerable is True
        if "示例县城北" not in lake:
            seen.add("where")
            # 古桥's paragraph still says 示例县城北: neither answerable nor unanswerable
            assert "lake_where" not in items
            assert items["lake_visits"].answerable is True
    assert seen == {"visits", "where"}


def test_metrics_at_a_threshold():
    rows = [
        {
            "answerable": True,
            "answered": True,
            "contains": True,
            "confidence": 0.9,
            "doc_rank": 1,
            "em": 1.0,
            "f1": 1.0,
            "length": 10,
            "latency_ms": 5.0,
        },
        {
            "answerable": True,
            "answered": True,
            "contains": False,
            "confidence": 0.4,
            "doc_rank": None,
            "em": 0.0,
            "f1": 0.2,
            "length": 30,
            "latency_ms": 7.0,
        },
        {
            "answerable": False,
            "answered": True,
            "contains": False,
            "confidence": 0.6,
            "doc_rank": None,
            "em": 0.0,
            "f1": 0.0,
            "length": 20,
            "latency_ms": 9.0,
        },
    ]
    m = at_threshold(rows, 0.5)
    assert (m["contains"], m["false_refusal"], m["refusal"], m["precision"]) == (0.5, 0.5, 0.0, 0.5)
    assert m["doc_recall@5"] == 0.5 and m["em"] == 0.5 and m["mean_length"] == 15
    strict = at_threshold(rows, 0.95)
    assert strict["refusal"] == 1.0 and strict["precision"] is None


def test_short_answer_scores_over_the_answers_that_show_a_span():
    """The protocol's EM / F1 count the answered answerable questions with a short span; the
    stricter em / f1 count every answerable question, refusals and span-less answers as 0."""
    base = {"answerable": True, "answered": True, "contains": True, "confidence": 0.9, "doc_rank": 1, "length": 9}
    rows = [
        {**base, "short": "36名", "em": 1.0, "f1": 1.0},
        {**base, "short": "第36", "em": 0.0, "f1": 0.5},
        {**base, "short": None, "em": 0.0, "f1": 0.3},  # the whole sentence shown
        {**base, "short": "940亿元", "em": 1.0, "f1": 1.0, "confidence": 0.1},  # refused at 0.5
    ]
    m = at_threshold(rows, 0.5)
    assert (m["em_short"], m["f1_short"]) == (0.5, 0.75)
    assert (m["em"], m["f1"]) == (0.25, 0.45)
    assert at_threshold(rows, 0.95)["em_short"] is None


def test_eval_open_command_prints_the_metrics_and_the_curve(squad_file: Path, tmp_path: Path, capsys):
    assert main(["eval-open", str(squad_file), "--holdout", "0.34", "--workdir", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "refusal trade-off" in out and "<- configured" in out
    assert main(["eval-open", str(squad_file), "--holdout", "0.34", "--workdir", str(tmp_path / "w"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"summary", "curve", "items"} <= set(result) and result["items"]
    assert all(0 <= r["f1"] <= 1 for r in result["items"])


def test_a_file_that_is_not_squad_is_a_clear_error(tmp_path: Path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main(["eval-open", str(bad)]) == 2
    assert "not a SQuAD-format" in capsys.readouterr().err
