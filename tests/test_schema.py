"""schema.py: the records passed between stages, and the Answer's JSON form."""

from __future__ import annotations

import json

from dadong_qa.schema import Answer, AnswerPart, Chunk, Citation, Claim, Conflict, Document, Passage


def _citation(**kw) -> Citation:
    base = {"sentence": "预计实现地区生产总值940亿元。", "doc_id": "d1", "title": "标题", "date": "2023-01-05"}
    return Citation(**(base | kw))


def test_answer_to_dict_is_json_with_nested_citations_and_passages() -> None:
    answer = Answer(
        text="预计实现地区生产总值940亿元。[1]",
        answered=True,
        citations=[_citation(page=3, aliases=["另一家网站"])],
        passages=[Passage(text="……", doc_id="d1", score=0.8, chunk_id=4, sentence_ids=[7, 8], rerank=None)],
        short="940亿元",
        timings_ms={"total": 12.5},
    )
    d = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert d["text"] == answer.text and d["answered"] is True and d["short"] == "940亿元"
    assert d["citations"][0] == {
        "sentence": "预计实现地区生产总值940亿元。",
        "doc_id": "d1",
        "title": "标题",
        "date": "2023-01-05",
        "sentence_id": -1,
        "passage": "",
        "score": 0.0,
        "page": 3,
        "url": None,
        "aliases": ["另一家网站"],
        "period": None,
        "context": False,
    }
    assert d["passages"][0]["sentence_ids"] == [7, 8] and d["passages"][0]["rerank"] is None
    assert d["timings_ms"] == {"total": 12.5}


def test_answer_to_dict_has_the_public_fields() -> None:
    d = Answer(text="资料中没有相关信息。", answered=False).to_dict()
    assert {"text", "answered", "citations", "passages", "question", "rewritten_question", "short"} <= set(d)
    assert d["citations"] == [] and d["passages"] == [] and d["short"] is None
    assert d["generator"] == "extractive" and d["fallback"] is False


def test_to_dict_is_a_copy() -> None:
    answer = Answer(text="t", answered=True, citations=[_citation()])
    d = answer.to_dict()
    d["citations"][0]["sentence"] = "changed"
    d["notes"].append("x")
    assert answer.citations[0].sentence == "预计实现地区生产总值940亿元。" and answer.notes == []


def test_list_defaults_are_not_shared_between_records() -> None:
    a, b = Answer(text="", answered=False), Answer(text="", answered=False)
    a.notes.append("only a")
    assert b.notes == []
    d1, d2 = Document(doc_id="x", title="t", text="."), Document(doc_id="y", title="t", text=".")
    d1.headings.append((0, "一、概况"))
    d1.aliases.append("src")
    assert d2.headings == [] and d2.aliases == []


def test_chunk_search_text_puts_the_heading_first() -> None:
    chunk = Chunk(cid=0, doc_id="d", sentence_ids=[0, 1], text="全年新增绿地10公顷。", heading="城市建设")
    assert chunk.search_text == "城市建设\n全年新增绿地10公顷。"
    assert chunk.text == "全年新增绿地10公顷。"  # the cited text never includes the heading


def test_chunk_without_heading_searches_its_text() -> None:
    chunk = Chunk(cid=1, doc_id="d", sentence_ids=[2], text="正文。")
    assert chunk.search_text == "正文。"
    assert Chunk(cid=2, doc_id="d", sentence_ids=[], text="正文。", heading="").search_text == "正文。"


def test_conflict_and_parts_serialise_as_nested_objects() -> None:
    claims = [Claim("940亿元", 1, "d1", "甲", "2023-01-05"), Claim("950亿元", 2, "d2", "乙", None)]
    answer = Answer(
        text="t",
        answered=True,
        conflict=Conflict(quantity="地区生产总值", period="2022年", claims=claims),
        parts=[AnswerPart(question="A是多少？", answered=True, short="940亿元", citations=[1])],
    )
    d = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert d["conflict"]["quantity"] == "地区生产总值"
    assert [c["figure"] for c in d["conflict"]["claims"]] == ["940亿元", "950亿元"]
    assert d["parts"] == [
        {"question": "A是多少？", "answered": True, "short": "940亿元", "citations": [1], "period": None}
    ]
    assert Answer(text="", answered=False).to_dict()["conflict"] is None
