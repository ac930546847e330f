"""Reading questions: the kind of answer asked for, the wh-word and its context."""

from __future__ import annotations

import pytest

from dadong_qa.answering.spans import has_count, ordinals, other_ordinal, read_question


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


@pytest.mark.parametrize(
    "question",
    ["芝加哥博览会简称为什么？", "他被任命为什么官职？", "土拨鼠又被称之为什么？", "“××门”成为什么的代名词？"],
)
def test_a_name_asked_with_wei_shenme_is_factoid(question: str) -> None:
    assert read_question(question).factoid


def test_why_after_a_noun_ending_in_a_naming_verb_still_asks_why() -> None:
    assert not read_question("佐敦谷南道中文名称为什么又叫佐顿谷南道？").factoid


def test_question_context_around_the_wh_word() -> None:
    q = read_question("示例县图书馆新增自助借还机多少台？")
    assert (q.wh, q.asked_unit) == ("多少", "台")
    assert q.left.endswith("借还机")
    assert "图书馆" in q.words


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("给企业发了多少上云补贴？", "元"),  # money: not the 24家 that got it
        ("科技专项补助发了多少钱？", "元"),
        ("护理型床位占比多少？", "%"),
        ("限上社零增速是多少？", "%"),
        ("一般公共预算收入增长了多少？", ""),  # how much money changed: a rate as often
        ("财政收入涨了多少？", ""),
        ("帮扶资金惠及多少人次？", "人次"),  # a measure word after 多少 says it
        ("投资项目有多少个？", "个"),
    ],
)
def test_a_noun_of_money_or_share_names_the_unit(question: str, unit: str) -> None:
    assert read_question(question).asked_unit == unit


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("育有3名子女。", True),
        ("现有两个校区。", True),
        ("惠及2.1万人次。", True),
        ("成功举办第二届大会，发放全市首批自动驾驶测试牌照。", False),  # an ordinal counts nothing
        ("2022年12月举办。", False),  # nor does a date
        ("镇长介绍了民宿发展情况。", False),
    ],
)
def test_a_count_is_a_figure_that_is_neither_an_ordinal_nor_a_date(text: str, counts: bool) -> None:
    assert has_count(text) is counts


def test_a_sentence_giving_the_asked_thing_another_ordinal_speaks_of_another_one() -> None:
    asked = ordinals("谁赢得了第 49 届超级碗？")
    assert asked == {(49.0, "届", "超级")}
    assert other_ordinal(asked, "他在38岁时带领野马队赢得第33届超级碗。")
    assert not other_ordinal(asked, "第四十九届超级碗由爱国者队赢得，第33届超级碗由野马队赢得。")  # 四十九 = 49
    assert not other_ordinal(asked, "爱国者队赢得了超级碗。")  # no ordinal: not a contradiction
    # Another ordinal of another thing, and a question naming a range, are no conflict.
    assert not other_ordinal(ordinals("第二次宣布独立时正值哪场战争？"), "当时处于第一次直奉战争前夕。")
    assert ordinals("从第一届到第四届，考试的题数有什么变化？") == frozenset()
