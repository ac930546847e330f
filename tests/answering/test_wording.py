"""How a sentence's words meet the question's (answering/wording.py)."""

from __future__ import annotations

from dadong_qa.answering.wording import longest_common_run, longest_edge, match_credit, slot_fit


def test_longest_common_run():
    assert longest_common_run("新建学校", "今年新建学校7所") == 4
    assert longest_common_run("机场", "新建学校") == 0
    assert longest_common_run("", "x") == 0


def test_match_credit():
    assert match_credit("学校", [], "新建学校", "", "") == 1.0
    assert match_credit("面积", [], "占地37.5公顷", "", "") == 1.0  # a figure in the dimension's unit
    assert match_credit("学堂", [("学校", 0.7)], "新建学校", "", "") == 0.7
    assert match_credit("清水县", [], "全县", "清水县社会事业", "") == 0.8  # only in the title
    assert match_credit("机场", [], "新建学校", "", "") == 0.0


def test_slot_fit_frames_a_gap_between_the_question_words():
    # "…即算为[什么]": the question's words before its question word end where the answer starts
    assert slot_fit("即算为", "", "生命数耗完即算为踢爆", 3, 0) == 1.0
    assert slot_fit("新建", "所", "今年新建学校7所", 2, 1) == 1.0
    assert slot_fit("新建", "所", "新建完成，共7所", 2, 1) == 1.0
    assert slot_fit("开通", "条", "县里开通了", 2, 0) == 0.0  # the right side is missing
    assert longest_edge("今年新建", "新建学校", from_end=True) == 2
