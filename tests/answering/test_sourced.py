"""Figures read in their article's context, and how they fit the period a question asks about."""

from __future__ import annotations

from conftest import make_store
from dadong_qa.answering.periods import Period, question_period
from dadong_qa.answering.sourced import FigureReader


def _reader() -> FigureReader:
    return FigureReader(
        make_store(
            {
                "review": (
                    "年终回顾",
                    "2022-12-21",
                    ["2022年，甲区经济稳中有进。", "地区生产总值940亿元，同比增长6%。", "刑事警情下降50.3%。"],
                ),
                "undated": ("甲区经济", None, ["1月至8月，规上工业产值1251.3亿元；", "零售总额增速6.6%；"]),
                "plan": ("计划", "2023-02-01", ["2023年，甲区计划实现地区生产总值1000亿元。"]),
                "added": (
                    "科技",
                    "2022-12-20",
                    [
                        "甲区新增高新技术企业93家，总数达到350家。",
                        "甲区新增专精特新企业20家，新建5G基站300个。",
                        "新增高新技术企业93家，科技型企业数量翻一番。",
                        "清水县是人口大县，常住人口80万人。",
                        "清水县是人口大县，有80万人。",
                        "低保户、特困分散供养人员救助标准分别高出全市11.5%、7.4%。",
                    ],
                ),
            }
        )
    )


def test_a_figure_takes_the_year_stated_before_it_in_its_article():
    reader = _reader()
    gdp, growth = reader.figures(1)
    assert growth.figure.growth and growth.figure.text == "同比增长6%"
    assert gdp.figure.text == "940亿元" and gdp.figure.period == Period(2022)
    assert gdp.doc_id == "review" and gdp.date == "2022-12-21" and gdp.sid == 1
    assert reader.period_fit(1, question_period("2022年甲区地区生产总值是多少？")) == "match"
    assert reader.period_fit(1, question_period("2023年甲区地区生产总值是多少？")) == "other"


def test_an_undated_article_never_answers_a_question_about_a_year():
    reader = _reader()
    assert reader.figures(4)[0].figure.period == Period(None, (1, 8))  # 1-8月 carried over the semicolon
    assert reader.period_fit(4, question_period("2023年甲区零售总额增速是多少？")) == "unknown"
    assert reader.period_fit(4, question_period("2022年甲区零售总额增速是多少？")) == "unknown"


def test_a_dated_article_reports_its_own_year_when_the_text_names_none():
    reader = FigureReader(make_store({"d": ("简报", "2022-12-21", ["刑事警情下降50.3%。"])}))
    (figure,) = reader.figures(0)
    assert figure.figure.period is None  # the text says nothing of time ...
    assert reader.dated(figure) == Period(2022)  # ... the article's date places it
    assert reader.period_fit(0, question_period("2022年刑事警情下降了多少？")) == "match"
    assert reader.period_fit(0, question_period("2021年刑事警情下降了多少？")) == "other"


def test_no_named_period_or_no_figure_is_no_period_question():
    reader = _reader()
    assert reader.period_fit(1, None) == "none"
    assert reader.period_fit(1, question_period("甲区地区生产总值是多少？")) == "none"  # no period named
    assert reader.period_fit(0, question_period("2022年甲区经济怎么样？")) == "none"  # no figure in it


def test_a_part_of_the_year_is_a_period_without_a_year():
    reader = _reader()
    # "1至8月…" is answered by a 1-8月 figure, of whatever year, and not by a whole year's one
    assert reader.period_fit(3, question_period("1至8月甲区规上工业产值是多少？")) == "match"
    assert reader.period_fit(1, question_period("1至8月甲区地区生产总值是多少？")) == "unknown"
    assert reader.period_fit(3, question_period("上半年甲区规上工业产值是多少？")) == "other"


def test_the_label_says_the_period_and_whether_the_figure_is_a_plan():
    reader = _reader()
    assert reader.label(reader.figures(1)[0]) == "2022年"
    assert reader.label(reader.figures(5)[0]) == "2023年计划"  # the plan article's 1000亿元
    assert reader.label(reader.figures(3)[0]) == "1-8月，年份不详"  # undated, an outcome
    target = FigureReader(make_store({"u": ("无日期", None, ["力争新增企业100家。"])}))
    assert target.label(target.figures(0)[0]) == "目标"  # no period known: the kind alone


def test_the_figure_a_short_answer_is_part_of():
    reader = _reader()
    assert reader.of_span(1, "940亿元").figure.text == "940亿元"
    assert reader.of_span(1, "6%").figure.text == "同比增长6%"  # the span inside a figure's text
    assert reader.of_span(1, "大东区") is None and reader.of_span(1, None) is None


def test_a_single_month_alone_is_no_period_question():
    # "五月艾" is a plant, "十月革命" a revolution: a month without a year is mostly part of a name
    assert not Period(None, (5, 5)).names_a_period
    assert Period(None, (1, 8)).names_a_period and Period(2022).names_a_period
    assert _reader().period_fit(1, question_period("五月艾生长的地区海拔约是多少米？")) == "none"


def test_the_short_answer_becomes_the_figure_the_question_asks_for():
    reader = _reader()  # sentence 1: "地区生产总值940亿元，同比增长6%。"
    assert reader.asked_figure("甲区地区生产总值是多少？", False, 1, "同比增长6%") == "940亿元"  # the level
    assert reader.asked_figure("甲区地区生产总值增长多少？", True, 1, "940亿元") == "6%"  # the change
    assert reader.asked_figure("甲区GDP增长多少？", True, 1, "940亿元") == "6%"  # of the span's quantity
    assert reader.asked_figure("甲区地区生产总值是多少？", False, 1, "940亿元") == "940亿元"
    assert reader.asked_figure("甲区经济怎么样？", False, 0, "稳中有进") == "稳中有进"  # no figure: as it is


def test_a_level_question_gets_the_level_beside_what_was_added():
    reader = _reader()  # sentences 6 and 7, of the "added" article
    assert reader.asked_figure("甲区有多少家高新技术企业？", False, 6, "93家") == "350家"  # the total
    assert reader.asked_figure("甲区新增了多少家高新技术企业？", False, 6, "93家") == "93家"  # asked as added
    assert reader.asked_figure("甲区有多少家专精特新企业？", False, 7, "20家") == "20家"  # no total given


def test_no_figure_of_another_quantity_when_a_clause_tells_of_the_asked_one():
    reader = _reader()  # sentences 8-10, of the "added" article
    # 93家 counts 高新技术企业; the clause about 科技型企业 gives no number: no short answer
    assert reader.asked_figure("清水县科技型企业有多少家？", False, 8, "93家") is None
    assert reader.asked_figure("清水县高新技术企业新增多少家？", False, 8, "93家") == "93家"
    assert reader.asked_figure("清水县人口有多少？", False, 9, "80万人") == "80万人"  # 常住人口 is 人口's
    assert reader.asked_figure("清水县人口有多少？", False, 10, "80万人") == "80万人"  # the subject's clause


def test_a_figure_of_a_respectively_list_is_the_one_whose_name_the_question_begins_alike():
    reader = _reader()  # sentence 11: the last name carries the head noun the two share (救助标准)
    assert reader.asked_figure("特困人员救助标准高出全市多少？", True, 11, "11.5%") == "7.4%"
    assert reader.asked_figure("低保户救助标准高出全市多少？", True, 11, "11.5%") == "11.5%"
    assert reader.asked_figure("低保户救助标准高出全市多少？", True, 11, "7.4%") == "11.5%"
    assert reader.asked_figure("救助标准高出全市多少？", True, 11, "11.5%") == "11.5%"  # names neither: as read
