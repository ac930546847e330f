from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.figures import figures
from dadong_qa.answering.periods import (
    Period,
    cn_number,
    context_periods,
    context_years,
    describe,
    matches,
    months_as_written,
    question_period,
    same_period,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十二", 12),
        ("二十", 20),
        ("三百五十", 350),
        ("一千零五", 1005),
        ("两", 2),
        ("八", 8),
        ("1,100", 1100),
        ("46.2", 46.2),
    ],
)
def test_cn_number(text: str, value: float):
    assert cn_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "十a", "1.2.3"])
def test_cn_number_rejects_non_numbers(text: str):
    assert cn_number(text) is None


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("2022年大东区整车产量是多少？", Period(2022)),
        ("那2023年呢？", Period(2023)),
        ("2023年上半年社会消费品零售总额是多少？", Period(2023, (1, 6))),
        ("某县2021年下半年新增了多少家企业？", Period(2021, (7, 12))),
        ("2022年1-8月的产值是多少？", Period(2022, (1, 8))),
        ("2022年1月至8月的产值是多少？", Period(2022, (1, 8))),
        ("2022年前八个月的产值是多少？", Period(2022, (1, 8))),
        ("2020年第三季度GDP增长了多少？", Period(2020, (7, 9))),
        ("2020年三季度GDP增长了多少？", Period(2020, (7, 9))),
        ("2020年前三季度GDP是多少？", Period(2020, (1, 9))),
        ("2019年12月份的销量是多少？", Period(2019, (12, 12))),
        ("2019年全年销量是多少？", Period(2019, (1, 12))),
        ("今年以来接待了多少游客？", Period(None, None, to_date=True)),
    ],
)
def test_question_period(question: str, period: Period):
    assert question_period(question) == period


def test_relative_years_in_a_question_need_today():
    assert question_period("今年1至8月的产值是多少？") == Period(None, (1, 8))
    assert question_period("今年1至8月的产值是多少？", today_year=2022) == Period(2022, (1, 8))
    assert question_period("去年的产值是多少？", today_year=2023) == Period(2022)
    assert question_period("去年的产值是多少？") is None  # nothing known about the time


@pytest.mark.parametrize(
    "question",
    [
        "大东区的常住人口有多少？",
        "德科斯科尔线束项目主要为哪些客户生产产品？",
        "东中街首批重点商业项目9月30日开业吗？",
        "",
    ],
)
def test_question_without_a_period(question: str):
    assert question_period(question) is None


def test_question_naming_two_years_has_no_single_period():
    assert question_period("2022年和2023年的地区生产总值分别是多少？") is None


def test_same_year_comparison_base_is_not_a_period():
    assert question_period("比去年同期增长了多少？", today_year=2023) is None


def test_a_question_about_one_year_is_not_answered_by_another():
    q = Period(2023)
    assert matches(q, Period(2022)) is False
    assert matches(q, Period(2022, (1, 8))) is False
    assert matches(q, Period(2023)) is True
    assert matches(q, Period(2023, (1, 6))) is True  # no part asked: any part answers, the answer says which


def test_an_undated_figure_is_unknown_not_a_match():
    assert matches(Period(2023), None) is None
    assert matches(Period(2023), Period(None, (1, 8))) is None


def test_question_without_period_accepts_any_figure():
    assert matches(None, Period(2022)) is True
    assert matches(None, None) is True


def test_parts_of_the_year_must_agree():
    assert matches(Period(2022, (1, 6)), Period(2022, (1, 6))) is True
    assert matches(Period(2022, (1, 6)), Period(2022, (1, 12))) is False
    assert matches(Period(2022, (1, 12)), Period(2022, (1, 8))) is False
    assert matches(Period(2022, (1, 12)), Period(2022)) is True  # "2022年X为…" is the year's figure
    assert matches(Period(2022, (1, 6)), Period(2022)) is None  # cannot tell
    assert matches(Period(None, (1, 8)), Period(None, (1, 8))) is True
    assert matches(Period(None, (1, 8)), Period(2022, (1, 8))) is True
    assert matches(Period(None, (1, 8)), Period(2022, (1, 6))) is False


def test_to_date_periods():
    assert matches(Period(2022, None, True), Period(2022, None, True)) is True
    assert matches(Period(2022, None, True), Period(2022, (1, 8))) is None
    assert matches(Period(2022, (1, 8)), Period(2022, None, True)) is None


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (Period(2022, (1, 12)), "2022年全年"),
        (Period(2023, (1, 6)), "2023年上半年"),
        (Period(2023, (7, 12)), "2023年下半年"),
        (Period(2022, (1, 8)), "2022年1-8月"),
        (Period(2022, (7, 9)), "2022年第三季度"),
        (Period(2022, (1, 9)), "2022年前三季度"),
        (Period(2022, (5, 5)), "2022年5月"),
        (Period(2022, (3, 5)), "2022年3-5月"),
        (Period(2022), "2022年"),
        (Period(2022, None, True), "2022年年初以来"),
        (Period(None, (1, 8)), "1-8月，年份不详"),
        (None, "时间不详"),
        (Period(), "时间不详"),
    ],
)
def test_describe(period: Period | None, text: str):
    assert describe(period) == text


def test_same_period():
    assert same_period(Period(2022), Period(2022, (1, 12))) is True
    assert same_period(Period(2022), Period(2022, (1, 8))) is False
    assert same_period(Period(2022), Period(2023, (1, 6))) is False
    assert same_period(Period(2022, (1, 6)), Period(2022, (1, 6))) is True
    assert same_period(Period(2022), None) is None
    assert same_period(Period(None, (1, 8)), Period(2022, (1, 8))) is None
    assert same_period(Period(2022, None, True), Period(2022)) is None


def test_context_years_carry_the_last_stated_year_forward():
    sentences = ["回顾过去。", "2021年，全区稳步发展。", "新建公园10座。", "今年将再建5座。", "2024年，目标更高。"]
    assert context_years(sentences, "2022-06-01") == [None, None, 2021, 2021, 2022]
    assert context_years(sentences, None) == [None, None, 2021, 2021, 2021]  # 今年 unknown without a date


def test_periods_figures_is_the_figure_reader():
    (figure,) = figures("2021年平山县粮食产量12.5万吨。", article_date=None)
    assert figure.period == Period(2021) and figure.quantity == "粮食产量" and figure.place == "平山县"


def test_follow_up_about_2023_is_not_answered_by_an_undated_articles_figures():
    # An undated article reporting January-August data: neither its 今年 nor its figures have a year.
    undated = figures("今年1至8月，限额以上社会消费品零售总额增速6.6%。", article_date=None, context_year=None)
    wanted = question_period("那2023年呢？")
    assert wanted == Period(2023)
    assert [matches(wanted, f.period) for f in undated] == [None]
    dated = figures("今年1至8月，限额以上社会消费品零售总额增速6.6%。", article_date="2022-09-20")
    assert [matches(wanted, f.period) for f in dated] == [False]
    assert [describe(f.period) for f in dated] == ["2022年1-8月"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.one_of(st.none(), st.integers(1900, 2100)))
def test_question_period_of_any_text_is_describable(question: str, today: int | None):
    period = question_period(question, today_year=today)
    assert isinstance(describe(period), str)
    assert matches(period, period) in (True, None)


def test_context_periods_carry_the_part_of_the_year_across_semicolons():
    sentences = [
        "1月至8月，完成工业总产值1251.3亿元，其中8月份产值创新高；",
        "限额以上社会消费品零售总额增速6.6%；",
        "全区603个事项实现一次办。",
        "新增企业20家。",
    ]
    context = context_periods(sentences, None)
    assert context == [None, Period(None, (1, 8)), Period(None, (1, 8)), None]
    second = figures(sentences[1], article_date=None, context_months=context[1].months)
    assert [(f.text, f.period) for f in second] == [("增速6.6%", Period(None, (1, 8)))]
    assert context_periods(["2022年上半年，产值100亿元；", "增速5%。"], "2022-08-01") == [None, Period(2022, (1, 6))]


def test_a_part_of_the_year_without_a_year_is_the_articles_year():
    (f,) = figures("1月至8月，整车生产28.2万辆。", article_date="2022-09-20")
    assert f.period == Period(2022, (1, 8))
    (f,) = figures("上半年，整车生产20万辆。", article_date="2023-07-20", context_year=2021)
    assert f.period == Period(2021, (1, 6))  # a year stated earlier in the article comes first
    (f,) = figures("1月至8月，整车生产28.2万辆。", article_date=None)
    assert f.period == Period(None, (1, 8))
    assert question_period("上半年的产值是多少？") == Period(None, (1, 6))
    assert question_period("上半年的产值是多少？", today_year=2023) == Period(2023, (1, 6))


@pytest.mark.parametrize(
    ("question", "text", "shown"),
    [
        ("大东区前八个月整车产量是多少？", "1月至8月,实现整车生产28.2万辆", "大东区1月至8月整车产量是多少？"),
        ("上半年产值多少？", "1-6月产值480亿元", "1-6月产值多少？"),
        ("前三季度产值多少？", "1至8月产值300亿元", "前三季度产值多少？"),  # other months: as asked
        ("1至8月产量多少？", "1月至8月产量28.2万辆", "1至8月产量多少？"),  # the same numbers: as asked
        ("五月艾是什么？", "五月艾又名野艾蒿", "五月艾是什么？"),  # a month alone is no period
        ("2022年产值多少？", "去年产值480亿元", "2022年产值多少？"),  # years: spell_years' job
    ],
)
def test_a_part_of_the_year_is_shown_as_the_sentence_writes_the_same_months(question: str, text: str, shown: str):
    assert months_as_written(question, text) == shown
