"""bench/snippets.py: search-result snippets keep their answers where they say, and only those."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("snippets", ROOT / "bench" / "snippets.py")
snippets = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(snippets)

FILLER = "示例县位于平原北部，气候温和，四季分明，境内河流众多，交通便利。"  # 33 characters


def squad(context: str, answers: list[str]) -> dict:
    qas = [
        {"id": f"q{i}", "question": f"问题{i}是什么？", "answers": [{"text": a, "answer_start": context.index(a)}]}
        for i, a in enumerate(answers)
    ]
    return {"data": [{"title": "示例县", "paragraphs": [{"context": context, "qas": qas}]}]}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_every_kept_answer_sits_where_it_says(seed: int):
    context = FILLER * 4 + "县图书馆共有藏书38万册。" + FILLER * 6 + "全县常住人口约52万人。" + FILLER * 3
    out = snippets.convert(squad(context, ["38万册", "52万人"]), seed)
    [article] = out["data"]
    text = article["paragraphs"][0]["context"]
    assert len(text) < len(context)
    for qa in article["paragraphs"][0]["qas"]:
        for answer in qa["answers"]:
            assert text[answer["answer_start"] :].startswith(answer["text"])
    assert article["paragraphs"][0]["qas"], "the anchor question is always kept"


def test_an_answer_is_found_at_its_own_place_not_at_a_lookalike():
    # Both questions' answer is "藏书38万册", at two places far apart: each question is kept only
    # when the snippet holds its own place, and its answer_start points there.
    context = "县馆藏书38万册，居全市第一。" + FILLER * 12 + "另一馆藏书38万册。"
    data = squad(context, ["藏书38万册"])
    data["data"][0]["paragraphs"][0]["qas"].append(
        {
            "id": "far",
            "question": "另一馆藏书多少？",
            "answers": [{"text": "藏书38万册", "answer_start": context.rindex("藏书")}],
        }
    )
    dropped = 0
    for seed in range(30):
        article = snippets.convert(data, seed)["data"][0]["paragraphs"][0]
        text, ids = article["context"], {qa["id"]: qa for qa in article["qas"]}
        for qid, follows in (("q0", "，."), ("far", "。.")):  # "." when the window ends there
            if qid in ids:
                at = ids[qid]["answers"][0]["answer_start"] + len("藏书38万册")
                assert text[at] in follows
        dropped += len(ids) == 1
    assert dropped > 0  # the windows are too short to hold both places


def test_same_seed_same_file():
    data = squad(FILLER * 5 + "答案在这里。" + FILLER * 5, ["答案在这里"])
    assert snippets.convert(data, 3) == snippets.convert(data, 3)


def test_colloquial_questions_keep_their_words():
    rng = random.Random(0)
    for _ in range(20):
        asked = snippets.colloquial("图书馆有什么藏书？", rng)
        assert "图书馆" in asked and "藏书" in asked
