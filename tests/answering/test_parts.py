from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.parts import split_question


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        # A和B分别是多少: each part keeps the place and the year.
        ("大东区2022年地区生产总值和一般公共预算收入分别是多少？",
         ["大东区2022年地区生产总值是多少？", "大东区2022年一般公共预算收入是多少？"]),
        ("平山县2021年粮食产量与蔬菜产量分别为多少吨？",
         ["平山县2021年粮食产量为多少吨？", "平山县2021年蔬菜产量为多少吨？"]),
        # A、B各是多少
        ("某公司的员工人数、营业收入各是多少？", ["某公司的员工人数是多少？", "某公司的营业收入是多少？"]),
        ("城区、郊区、园区各有几所学校？", ["城区有几所学校？", "郊区有几所学校？", "园区有几所学校？"]),
        # two years
        ("2022年和2023年的社会消费品零售总额分别是多少？",
         ["2022年的社会消费品零售总额是多少？", "2023年的社会消费品零售总额是多少？"]),
        ("大东区2022年和2023年GDP分别是多少？", ["大东区2022年GDP是多少？", "大东区2023年GDP是多少？"]),
        ("GDP在2022年和2023年分别是多少？", ["GDP在2022年是多少？", "GDP在2023年是多少？"]),
        ("2021年和2022年的整车产量是多少？", ["2021年的整车产量是多少？", "2022年的整车产量是多少？"]),
        ("2021年和2022年的重点工作是什么？", ["2021年的重点工作是什么？", "2022年的重点工作是什么？"]),
        # two places
        ("大东区和沈河区的GDP分别是多少？", ["大东区的GDP是多少？", "沈河区的GDP是多少？"]),
        # two quantities without 分别, asking a figure
        ("大东区2022年地区生产总值和一般公共预算收入是多少？",
         ["大东区2022年地区生产总值是多少？", "大东区2022年一般公共预算收入是多少？"]),
        ("整车产量和产值是多少", ["整车产量是多少", "产值是多少"]),
        # a shared head noun after the last item
        ("《平凡的世界》和《活着》的作者分别是谁？", ["《平凡的世界》的作者是谁？", "《活着》的作者是谁？"]),
        # A是多少，B呢
        ("大东区2022年GDP是多少，2023年呢？", ["大东区2022年GDP是多少？", "大东区2023年GDP是多少？"]),
        ("大东区2022年GDP是多少？财政收入呢？", ["大东区2022年GDP是多少？", "大东区2022年财政收入是多少？"]),
        ("2022年上半年GDP是多少，下半年呢？", ["2022年上半年GDP是多少？", "2022年下半年GDP是多少？"]),
        ("大东区的人口有多少，沈河区呢", ["大东区的人口有多少？", "沈河区的人口有多少？"]),
        # two questions
        ("大东区的GDP是多少？有几家高新技术企业？", ["大东区的GDP是多少？", "大东区有几家高新技术企业？"]),
        ("2022年新建了多少公园？2023年计划建多少？", ["2022年新建了多少公园？", "2023年计划建多少公园？"]),
        # a later one that stops at its count counts what the first did, with the same measure word
        ("大东区2022年新建了多少座口袋公园，2023年又计划建设多少座？",
         ["大东区2022年新建了多少座口袋公园？", "大东区2023年又计划建设多少座口袋公园？"]),
        ("平山县有多少家企业？其中有多少家？", ["平山县有多少家企业？", "平山县有多少家？"]),  # not the first again
        # two questions between commas, the later ones following up the first
        ("平山县改造了多少个老旧小区，新增绿地多少公顷？",
         ["平山县改造了多少个老旧小区？", "平山县新增绿地多少公顷？"]),
        ("平山县财政收入是多少，增长了多少？", ["平山县财政收入是多少？", "平山县财政收入增长了多少？"]),
        ("平山县财政收入是多少？同比增长多少？", ["平山县财政收入是多少？", "平山县财政收入同比增长多少？"]),
        # parts inside parts
        ("大东区2022年GDP和财政收入分别是多少，2023年呢？",
         ["大东区2022年GDP是多少？", "大东区2022年财政收入是多少？", "大东区2023年GDP是多少？",
          "大东区2023年财政收入是多少？"]),
    ],
)  # fmt: skip
def test_multi_part_questions_split_with_shared_context(question: str, parts: list[str]):
    assert split_question(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "中国和美国的关系是什么？",
        "中华人民共和国和美国的关系是什么",
        "大东区新增高新技术企业和专精特新企业一共多少家？",  # a total
        "2023年与2022年相比GDP增长了多少？",  # a comparison
        "大东区和沈河区哪个GDP更高？",
        "A和B之间的差距是多少？",
        "大东区2022年一共造了多少辆汽车？",
        "谁是大东区的区长和副区长？",
        "和平区有几所大学？",  # 和 inside a name
        "研发和生产基地在哪里？",  # two things, not asked as figures
        "那2023年呢？",  # a follow-up on its own: the rewriter's job
        "大东区的常住人口有多少？",
        "《战争与和平》的作者是谁？",
        "在中世纪早期的几百年中，欧洲经济最发达的是哪一个国家?",  # 几百年 asks nothing
        "光栅每单位长度内的刻痕多少，主要决定于什么？",  # the second piece is no follow-up of the first
        "《碧血剑》DVD影碟有多少集，多少碟片？",
        "请问，大东区GDP是多少？",
        "“乐享大东”和“大东可玩”是什么？",
        "",
        "   ",
        "？",
    ],
)
def test_single_questions_stay_whole(question: str):
    assert split_question(question) == [question]


_PIECES = ["大东区", "2022年", "2023年", "上半年", "地区生产总值", "收入", "和", "与", "、", "分别", "各", "是",
           "多少", "几个", "呢", "？", "，", "的", "相比", "一共", "《书》", "什么", "A", "1"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=14), st.text(max_size=6))
def test_never_empty_and_every_part_has_content(pieces: list[str], noise: str):
    question = "".join(pieces) + noise
    parts = split_question(question)
    assert parts
    if len(parts) == 1:
        assert parts == [question]
    else:
        assert all(p.strip("？?。！!，,；; \u3000") for p in parts)
        joints = sum(question.count(c) for c in ("和", "与", "、", "？", "，"))
        assert len(parts) <= 2 * (joints + 1)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_gives_non_empty_parts(question: str):
    parts = split_question(question)
    assert parts and all(parts)


def test_an_element_that_asks_itself_gets_no_second_question_word():
    assert split_question("Tom's Café可容纳多少位顾客和人均消费分别是多少？") == [
        "Tom's Café可容纳多少位顾客？",
        "人均消费是多少？",
    ]
