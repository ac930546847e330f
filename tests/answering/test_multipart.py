"""Multi-part questions: each part answered on its own, joined with the missing parts named."""

from __future__ import annotations

from pathlib import Path

import pytest

from dadong_qa import QA, load_settings
from dadong_qa.answering.multipart import MISSING_TEMPLATE, PARTIAL_PREFIX, join
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Answer, Citation, Claim, Conflict

ARTICLE = """清水县2022年经济运行情况

2023-01-15

2022年，清水县地区生产总值320亿元，同比增长5%。一般公共预算收入41.2亿元。
全县新建学校7所，改造社区35个。
"""


def _cite(sentence: str, sid: int) -> Citation:
    return Citation(sentence=sentence, doc_id="d", title="标题", date="2023-01-15", sentence_id=sid)


def _answered(sentence: str, sid: int, short: str) -> Answer:
    return Answer(text=f"{sentence}[1]", answered=True, citations=[_cite(sentence, sid)], short=short, confidence=0.8)


REFUSED = Answer(text="现有资料中没有找到能回答“乙”的内容。", answered=False, confidence=0.1)
WHOLE = Retrieval([], None, [], None, {})  # type: ignore[arg-type]


def test_each_part_keeps_its_own_citation():
    answers = [_answered("甲为1个。", 4, "1个"), _answered("乙为2个。", 9, "2个")]
    a = join("甲和乙分别是多少？", ["甲是多少？", "乙是多少？"], answers, WHOLE)
    assert a.answered and a.text == "甲为1个。[1]乙为2个。[2]"
    assert [c.sentence_id for c in a.citations] == [4, 9]
    assert [(p.question, p.answered, p.short, p.citations) for p in a.parts] == [
        ("甲是多少？", True, "1个", [1]),
        ("乙是多少？", True, "2个", [2]),
    ]
    assert a.short is None and a.confidence == 0.8


def test_a_sentence_answering_two_parts_is_cited_once():
    both = _answered("甲、乙分别为1个、2个。", 4, "1个")
    a = join("甲和乙分别是多少？", ["甲是多少？", "乙是多少？"], [both, both], WHOLE)
    assert a.text == "甲、乙分别为1个、2个。[1]" and len(a.citations) == 1
    assert [p.citations for p in a.parts] == [[1], [1]]


def test_a_part_the_sources_lack_is_named_as_missing():
    a = join("甲和乙分别是多少？", ["甲是多少？", "乙是多少？"], [_answered("甲为1个。", 4, "1个"), REFUSED], WHOLE)
    assert a.answered and a.text.startswith(PARTIAL_PREFIX)
    assert a.text.endswith(MISSING_TEMPLATE.format(parts="乙是多少"))
    assert [p.answered for p in a.parts] == [True, False] and a.parts[1].citations == []


def test_a_conflict_keeps_its_claims_numbered_in_the_joined_list():
    conflict = Conflict("产值", "2022年", [Claim("1个", 1, "d", "标题", None), Claim("3个", 2, "e", "另文", None)])
    second = Answer(
        text="乙为1个。[1]乙为3个。[2]",
        answered=True,
        citations=[_cite("乙为1个。", 7), _cite("乙为3个。", 8)],
        conflict=conflict,
        confidence=0.7,
    )
    a = join("甲和乙分别是多少？", ["甲是多少？", "乙是多少？"], [_answered("甲为1个。", 4, "1个"), second], WHOLE)
    assert a.conflict is not None and [c.citation for c in a.conflict.claims] == [2, 3]
    assert a.text.startswith("注意：")


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    root: Path = tmp_path_factory.mktemp("multipart")
    (root / "corpus").mkdir()
    (root / "corpus" / "county.txt").write_text(ARTICLE, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    qa.build()
    return qa


def test_both_parts_are_answered_through_ask(qa: QA):
    a = qa.ask("清水县2022年地区生产总值和一般公共预算收入分别是多少？")
    assert a.answered and len(a.parts) == 2 and all(p.answered for p in a.parts)
    assert "320亿元" in a.text and "41.2亿元" in a.text


def test_the_missing_part_is_said_through_ask(qa: QA):
    a = qa.ask("清水县2022年地区生产总值和常住人口分别是多少？")
    assert a.answered and a.text.startswith(PARTIAL_PREFIX) and "常住人口" in a.text
    assert [p.answered for p in a.parts] == [True, False]
    assert a.parts[0].short == "320亿元"


def test_a_one_part_question_has_no_parts(qa: QA):
    a = qa.ask("清水县新建了几所学校？")
    assert a.answered and a.parts == []
