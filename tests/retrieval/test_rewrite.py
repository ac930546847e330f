"""Follow-up questions are made standalone by general rules of Chinese ellipsis.

The examples use made-up places and topics, not the seed articles or the dev questions.
"""

from __future__ import annotations

import pytest

from dadong_qa.retrieval.rewrite import rewrite, standalone_question, stands_alone, user_questions

PREV = "和平区2021年财政收入是多少？"


@pytest.mark.parametrize(
    ("follow_up", "must_have", "must_not_have"),
    [
        # time in the follow-up replaces the previous time; the rest of the question carries over
        ("那2022年呢？", ["和平区", "2022年", "财政收入", "多少"], ["2021年"]),
        ("２０２２年呢？", ["和平区", "2022年", "财政收入"], ["2021年"]),
        # a new word in the fragment joins the inherited question
        ("那2022年的目标呢？", ["和平区", "2022年", "目标", "财政收入"], ["2021年"]),
        # a part of the year keeps the previous year
        ("那么，上半年呢？", ["和平区", "2021年上半年", "财政收入"], []),
        # a place of the same kind replaces the previous one
        ("那铁西区呢？", ["铁西区", "2021年", "财政收入"], ["和平区"]),
        # a pronoun stands for the previous subject
        ("它的常住人口有多少？", ["和平区", "2021年", "常住人口"], ["它"]),
        ("其中税收收入占多少？", ["和平区", "税收收入"], ["其中"]),
        # connectives and a missing subject inherit the subject and the time
        ("还有哪些重点工程？", ["和平区", "2021年", "还有哪些重点工程"], []),
        ("新建了多少所学校？", ["和平区", "2021年", "新建了多少所学校"], []),
        # a follow-up with its own time keeps it
        ("它2020年的财政收入呢？", ["和平区", "2020年"], ["2021年"]),
        # a fragment naming another thing asks about it instead; an aspect of it ("增速") joins it
        ("社会消费品零售总额呢？", ["和平区", "2021年", "社会消费品零售总额"], ["财政收入"]),
        ("GDP呢？", ["和平区2021年GDP"], ["财政收入"]),
        ("社零呢？", ["和平区2021年社零"], ["财政收入"]),  # a short form names a quantity, though short
        ("增速呢？", ["和平区2021年财政收入增速"], []),
        # one that only asks asks about the whole previous topic, not its place alone
        ("增长了多少？", ["和平区2021年财政收入增长了多少"], []),
        ("同比增长多少？", ["和平区2021年财政收入同比增长多少"], []),
        ("那排第几呢？", ["和平区2021年财政收入排第几"], []),
    ],
)
def test_follow_ups_become_standalone(follow_up: str, must_have: list[str], must_not_have: list[str]) -> None:
    out = rewrite(follow_up, PREV)
    assert out is not None
    for part in must_have:
        assert part in out, (follow_up, out)
    for part in must_not_have:
        assert part not in out, (follow_up, out)


@pytest.mark.parametrize(
    "question",
    [
        "铁西区2022年财政收入是多少？",  # names its own place and time
        "和平区的面积有多大？",  # names the previous subject itself
        "星光剧院在哪里？",  # a new topic with its own subject
    ],
)
def test_complete_questions_are_left_alone(question: str) -> None:
    assert rewrite(question, PREV) is None


def test_a_follow_up_that_only_asks_drops_what_the_previous_question_asked_with() -> None:
    assert rewrite("排第几？", "清水县2022年工业产值增长了多少？") == "清水县2022年工业产值排第几？"


def test_follow_up_naming_another_place_keeps_it() -> None:
    out = rewrite("那铁西区的财政收入是多少？", PREV)
    assert out is not None and "铁西区" in out and "和平区" not in out and "2021年" in out


def test_no_previous_question_means_no_rewrite() -> None:
    assert rewrite("那2022年呢？", None) is None
    assert standalone_question("那2022年呢？", []) is None


def test_chain_of_follow_ups_keeps_the_topic() -> None:
    history = [
        {"role": "user", "content": PREV},
        {"role": "assistant", "content": "……"},
        {"role": "user", "content": [{"type": "text", "text": "那2022年呢？"}]},  # Gradio's normalised form
        {"role": "assistant", "content": "……", "metadata": {"title": "来源"}},
    ]
    out = standalone_question("那铁西区呢？", history)
    assert out is not None
    assert "铁西区" in out and "2022年" in out and "财政收入" in out
    assert "和平区" not in out and "2021年" not in out


def test_history_as_pairs_and_window() -> None:
    pairs = [("星光剧院在哪里？", "……"), (PREV, "……")]
    assert standalone_question("那2022年呢？", pairs) == standalone_question("那2022年呢？", pairs[1:])
    # With a window of one turn only the last question counts.
    out = standalone_question("它有几个座位？", [(PREV, "…"), ("星光剧院在哪里？", "…")], turns=1)
    assert out is not None and "星光剧院" in out and "和平区" not in out


def test_user_questions_reads_both_formats_and_rejects_others() -> None:
    assert user_questions([("问一", "答一"), ["问二", "答二"]]) == ["问一", "问二"]
    assert user_questions([{"role": "assistant", "content": "答"}, {"role": "user", "content": " 问 "}]) == ["问"]
    with pytest.raises(TypeError, match="history"):
        user_questions(["not a turn"])


def test_qa_ask_uses_history(built_qa) -> None:
    # Same answer for the follow-up as for the rewritten question asked directly.
    first = "星光剧院在哪里？"
    follow = built_qa.ask("它有几个座位？", history=[{"role": "user", "content": first}])
    assert follow.question == "它有几个座位？"
    assert follow.rewritten_question is not None and "星光剧院" in follow.rewritten_question
    direct = built_qa.ask(follow.rewritten_question)
    assert follow.text.replace(follow.rewritten_question, "") == direct.text.replace(follow.rewritten_question, "")
    plain = built_qa.ask(first)
    assert plain.rewritten_question is None


def test_qa_ask_rejects_malformed_history(built_qa) -> None:
    from dadong_qa import QuestionError

    with pytest.raises(QuestionError, match="history"):
        built_qa.ask("那2022年呢？", history=["just a string"])


@pytest.mark.parametrize(
    ("question", "alone"),
    [
        ("给企业发了多少上云补贴？", True),  # no subject of its own, but a whole question
        ("新增绿地多少公顷？", True),
        ("那2023年呢？", False),  # a fragment
        ("它的人口有多少？", False),  # a pronoun
        ("还有哪些项目？", False),  # a connective
        ("增长了多少？", False),  # asks about what was asked before
        ("社零呢？", False),
    ],
)
def test_a_question_that_stands_alone_as_asked(question: str, alone: bool) -> None:
    assert stands_alone(question) is alone
