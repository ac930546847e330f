"""Reading questions and finding candidate answer spans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.spans import candidates, read_question


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("示例县去年接待了多少游客？", "number"),
        ("苹果节开幕式有几个村参加？", "number"),
        ("图书馆哪一年建成？", "date"),
        ("开幕式什么时候举行？", "date"),
        ("这座灯塔是谁设计的？", "person"),
        ("苹果节在哪里举办？", "place"),
        ("他写了哪本书？", "title"),
        ("图书馆新增了什么设备？", "noun"),
        ("这本书是哪一位作家写的？", "person"),
        ("工厂位于哪一个省？", "place"),
        ("示例县图书馆延长开放时间", "other"),
    ],
)
def test_question_answer_type(question: str, answer_type: str) -> None:
    assert read_question(question).answer_type == answer_type


@pytest.mark.parametrize("question", ["为什么延长开放时间？", "如何办理借书证？", "请介绍一下苹果节", "路况怎么样？"])
def test_why_how_and_describe_questions_are_not_factoid(question: str) -> None:
    assert not read_question(question).factoid


def test_question_context_around_the_wh_word() -> None:
    q = read_question("示例县图书馆新增自助借还机多少台？")
    assert (q.wh, q.asked_unit) == ("多少", "台")
    assert q.left.endswith("借还机")
    assert "图书馆" in q.words


def _texts(question: str, sentence: str, kind: str) -> set[str]:
    return {s.text for s in candidates(read_question(question), sentence) if kind in s.kinds}


def test_numbers_with_units_qualifiers_and_changes() -> None:
    sentence = "全年产量超46万辆，产值约940亿元，同比增长6%，工人3000余人。"
    found = _texts("产量是多少？", sentence, "number")
    assert {"46万辆", "超46万辆", "940亿元", "约940亿元", "6%", "同比增长6%", "3000余人"} <= found


def test_dates_and_periods() -> None:
    sentence = "工厂于2022年9月15日投产，9月产量创新高，1985年9月至1987年7月为筹建期。"
    found = _texts("工厂何时投产？", sentence, "date")
    assert {"2022年9月15日", "9月", "1985年9月至1987年7月"} <= found


def test_titles_and_quotes_with_and_without_their_marks() -> None:
    sentence = "他出版了《城南旧事》，书中的“英子”和「东引别墅」都很有名。"
    q = "他出版了哪本书？"
    assert {"《城南旧事》", "城南旧事"} <= _texts(q, sentence, "title")
    assert {"“英子”", "英子", "「东引别墅」", "东引别墅"} <= _texts(q, sentence, "quote")


def test_jieba_names_places_and_organisations() -> None:
    sentence = "华晨宝马大东工厂位于沈阳市。"
    assert "沈阳市" in _texts("工厂在哪里？", sentence, "place")


def test_generic_word_runs_clauses_and_the_whole_sentence() -> None:
    sentence = "示例县图书馆自3月起每天开放至晚上9点，周末照常开放。"
    spans = candidates(read_question("图书馆周末开放吗？"), sentence)
    kinds = {s.text: s.kinds for s in spans}
    assert "clause" in kinds["周末照常开放"]
    assert "sentence" in kinds[sentence.rstrip("。")]
    assert any("generic" in k for k in kinds.values())
    assert all(len(s.text) <= len(sentence) for s in spans)


_CHARS = list("大东区年月日亿元万辆约超《》“”「」，。、的是在0123456789%. 人沈阳市")
_SENTENCE = st.text(alphabet=st.sampled_from(_CHARS), max_size=40)


@settings(max_examples=150, deadline=None)
@given(_SENTENCE, st.sampled_from(["多少？", "哪一年？", "谁？", "什么？", "在哪里？"]))
def test_every_candidate_is_a_verbatim_slice(sentence: str, question: str) -> None:
    for span in candidates(read_question(question), sentence):
        assert sentence[span.start : span.end] == span.text
        assert span.text.strip() == span.text and span.text
