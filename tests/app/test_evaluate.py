from __future__ import annotations

import json
from pathlib import Path

import pytest

from dadong_qa import QA
from dadong_qa.app.evaluate import format_table, load_items, refusal_curve, run_eval


@pytest.fixture()
def eval_set(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "a",
            "question": "大东区新增高新技术企业多少家？",
            "kind": "lexical",
            "answerable": True,
            "answers": [["93家"]],
            "evidence": ["新增高新技术企业93家"],
        },
        {
            "id": "b",
            "question": "大东区的海拔是多少米？",
            "kind": "unanswerable",
            "answerable": False,
            "answers": [],
            "evidence": [],
        },
        {
            "id": "c",
            "question": "大东区新增高新技术企业多少家？",
            "kind": "lexical",
            "answerable": True,
            "answers": [["94家"]],
            "evidence": ["不存在的证据句"],
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_metrics_count_right_and_wrong(built_qa: QA, eval_set: Path):
    result = run_eval(built_qa, eval_set)
    s = result["summary"]
    assert s["lexical"]["accuracy"] == 0.5  # "c" expects a wrong figure
    assert s["lexical"]["recall@5"] == 0.5 and s["lexical"]["citation_support"] == 0.5
    assert s["unanswerable"]["refusal"] == 1.0
    assert s["all"]["faithfulness"] == 1.0
    assert s["all"]["p50_ms"] > 0
    assert "lexical" in format_table(s)


def test_refusal_curve_is_monotone(built_qa: QA, eval_set: Path):
    curve = refusal_curve(built_qa, eval_set, thresholds=[0.0, 0.3, 1.0])
    assert [c["refusal"] for c in curve] == sorted(c["refusal"] for c in curve)
    assert curve[0]["false_refusal"] == 0.0 and curve[-1]["false_refusal"] == 1.0


def test_bad_eval_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_items(path)
