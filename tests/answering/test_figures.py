from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.figures import Figure, figures
from dadong_qa.answering.periods import Period

REVIEW_DATE = "2022-12-20"  # a year-end review of 2022


def _one(sentence: str, **kw) -> Figure:
    found = figures(sentence, article_date=kw.pop("article_date", None), **kw)
    assert len(found) == 1, found
    return found[0]


def _by_text(sentence: str, **kw) -> dict[str, Figure]:
    return {f.text: f for f in figures(sentence, article_date=kw.pop("article_date", None), **kw)}


def test_level_and_growth_share_the_quantity():
    found = _by_text("2022年，某市实现地区生产总值512.3亿元，同比增长4.5%；粮食产量12万吨，同比下降2%。")
    gdp, gdp_growth = found["512.3亿元"], found["同比增长4.5%"]
    assert (gdp.quantity, gdp.growth, gdp.base_value, gdp.base_unit) == ("地区生产总值", False, 512.3e8, "元")
    assert (gdp_growth.quantity, gdp_growth.growth, gdp_growth.value, gdp_growth.unit) == (
        "地区生产总值",
        True,
        4.5,
        "%",
    )
    grain, grain_growth = found["12万吨"], found["同比下降2%"]
    assert grain.quantity == grain_growth.quantity == "粮食产量"
    assert grain.base_value == 120_000_000 and grain.base_unit == "千克"
    assert all(f.period == Period(2022) for f in found.values())


def test_text_and_offsets_are_verbatim():
    sentence = "全县新建约120座口袋公园，植树超过10.9万株，累计投资3-5亿元以上。"
    for f in figures(sentence, article_date=None):
        assert sentence[f.start : f.end] == f.text
    assert [f.text for f in figures(sentence, article_date=None)] == ["约120座", "超过10.9万株", "3-5亿元以上"]


@pytest.mark.parametrize(
    ("sentence", "text", "qualifier", "bound"),
    [
        ("汽车产量超46万辆。", "超46万辆", "超", "at_least"),
        ("新建1100余个基站。", "1100余个", "余", "at_least"),
        ("发放补助4500余万元。", "4500余万元", "余", "at_least"),
        ("发放消费券5000万元以上。", "5000万元以上", "以上", "at_least"),
        ("地区生产总值约为470亿元。", "约为470亿元", "约为", "about"),
        ("游客人数近3万人次。", "近3万人次", "近", "at_most"),
        ("游客人数3万人次左右。", "3万人次左右", "左右", "about"),
        ("产值1082.2亿元。", "1082.2亿元", None, "exact"),
    ],
)
def test_qualifiers(sentence: str, text: str, qualifier: str | None, bound: str):
    f = _one(sentence)
    assert (f.text, f.qualifier, f.bound) == (text, qualifier, bound)


@pytest.mark.parametrize(
    ("sentence", "base_value", "base_unit"),
    [
        ("新增绿地37.5公顷。", 375_000, "平方米"),
        ("规划建设占地16万平方米的产业园。", 160_000, "平方米"),
        ("完成59.2公里管网改造。", 59_200, "米"),
        ("建设2平方公里的园区。", 2_000_000, "平方米"),
        ("收入112.1亿元。", 112.1e8, "元"),
        ("收入1121000万元。", 112.1e8, "元"),
        ("占比增至70%。", 70, "%"),
        ("增加1.5个百分点。", 1.5, "个百分点"),
        ("企业二十家。", 20, "家"),
        ("带动两万人就业。", 20_000, "人"),
        ("带动十万人就业。", 100_000, "人"),
        ("工业品生产金额15,625亿日元。", 15_625e8, "日元"),  # not 元: yen and yuan are not compared
        ("人才公寓2292套。", 2292, "套"),
    ],
)
def test_units_convert_to_a_base(sentence: str, base_value: float, base_unit: str):
    f = _one(sentence)
    assert f.base_value == pytest.approx(base_value) and f.base_unit == base_unit


@pytest.mark.parametrize(
    "sentence",
    [
        "2022年是关键之年。",
        "东中街首批项目将在9月30日集中开业。",
        "宝马x5和5系车型上市，5g网络覆盖全区，pm2.5浓度下降。",
        "推进“一件事一次办”，完成三年行动。",
        "第二届大会在此举办。",
        "服务走进千家万户，打造“民生十条”品牌，建设百亿级平台，数百名工人参加。",
        "1月至8月，项目建设顺利。",
    ],
)
def test_dates_codes_and_names_are_not_figures(sentence: str):
    assert figures(sentence, article_date=None) == []


def test_precision_follows_the_written_digits():
    assert _one("增长46.2万辆。").precision == pytest.approx(1000)
    assert _one("产量46万辆。").precision == pytest.approx(10_000)
    assert _one("总值940亿元。").precision == pytest.approx(10e8)  # 940 may be rounded to tens
    assert _one("总值100亿元。").precision == pytest.approx(10e8)  # but to at most a tenth of it


def test_ranges_keep_both_ends():
    f = _one("培育3-5家领军企业。")
    assert (f.value, f.value_high, f.quantity) == (3, 5, "培育领军企业")


# Quantity names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "quantity"),
    [
        ("预计实现地区生产总值940亿元。", "地区生产总值"),
        ("整车产量超46万辆、产值达1730亿元。", "整车产量"),
        ("全区技术合同成交额同比增长46.9%。", "技术合同成交额"),
        ("限额以上社会消费品零售总额增速6.6%。", "限额以上社会消费品零售总额"),
        ("新建126座口袋公园。", "新建口袋公园"),  # the noun follows the verb and the figure
        ("引进中科城市数字经济产业园等6个数字经济载体。", "数字经济载体"),  # 等 lists examples
        ("全年接待游客1200万人次。", "接待游客"),
        ("城镇新增就业11292人。", "城镇新增就业"),
    ],
)
def test_quantity_names(sentence: str, quantity: str):
    assert figures(sentence, article_date=None)[0].quantity == quantity


def test_respectively_lists_pair_names_and_figures():
    found = figures("刑事、治安警情分别下降50.3%、22.2%。", article_date=None)
    assert [(f.quantity, f.growth) for f in found] == [("刑事警情", True), ("治安警情", True)]
    found = figures("一般公共预算收入和税收收入分别为80亿元和60亿元。", article_date=None)
    assert [(f.quantity, f.value) for f in found] == [("一般公共预算收入", 80), ("税收收入", 60)]
    assert all(f.listed for f in found)  # each figure is one of a list of names


def test_a_list_of_years_is_not_a_list_of_names():
    found = figures("2022年和2023年的投资分别为100亿元和120亿元。", article_date="2023-12-30")
    assert not any(f.listed for f in found)
    assert not any(f.listed for f in figures("刑事警情下降50.3%。", article_date=None))


def test_respectively_lists_of_years_pair_years_and_figures():
    found = figures("2022年和2023年的投资分别为100亿元和120亿元。", article_date="2023-12-30")
    assert [(f.quantity, f.period) for f in found] == [("投资", Period(2022)), ("投资", Period(2023))]


def test_place_is_the_administrative_name_before_the_figure():
    found = figures("沈阳市大东区2022年地区生产总值是10000亿元，浑南区为1200亿元。", article_date=None)
    assert [f.place for f in found] == ["大东区", "浑南区"]
    assert figures("开行中欧班列600列，新上市企业2家。", article_date=None)[0].place is None


# Periods --------------------------------------------------------------------------------------


def test_explicit_year_and_parts():
    found = _by_text("2023年上半年，全市社会消费品零售总额150.2亿元，其中二季度80亿元。", article_date=None)
    assert found["150.2亿元"].period == Period(2023, (1, 6))
    assert found["80亿元"].period == Period(2023, (4, 6))


@pytest.mark.parametrize(
    ("phrase", "months"),
    [("1-8月", (1, 8)), ("1月至8月", (1, 8)), ("1至8月", (1, 8)), ("前八个月", (1, 8)), ("前8个月", (1, 8)),
     ("第三季度", (7, 9)), ("前三季度", (1, 9)), ("8月份", (8, 8)), ("下半年", (7, 12)), ("全年", (1, 12))],
)  # fmt: skip
def test_parts_of_the_year(phrase: str, months: tuple[int, int]):
    f = _one(f"2022年{phrase}，整车生产28.2万辆。")
    assert f.period == Period(2022, months)


def test_a_detail_after_qizhong_does_not_change_the_rest_of_the_sentence():
    sentence = "1月至8月，完成工业总产值1251.3亿元，其中8月份产值180亿元；限额以上社会消费品零售总额增速6.6%。"
    found = _by_text(sentence, article_date="2022-09-20")
    assert found["1251.3亿元"].period == Period(2022, (1, 8))
    assert found["180亿元"].period == Period(2022, (8, 8))
    assert found["增速6.6%"].period == Period(2022, (1, 8))


def test_relative_years_resolve_against_the_article_date():
    found = _by_text("今年上半年销量120万辆，去年同期为109万辆，明年力争达到300万辆。", article_date="2023-07-15")
    assert found["120万辆"].period == Period(2023, (1, 6))
    assert found["109万辆"].period == Period(2022, (1, 6))
    assert found["109万辆"].quantity == "销量"
    assert found["300万辆"].period == Period(2024)


def test_an_undated_article_never_assumes_a_year():
    f = _one("今年1至8月，整车生产28.2万辆。", article_date=None, context_year="2021")
    assert f.period == Period(None, (1, 8))  # 今年 of an undated article is unknown, not 2021
    assert _one("整车生产28.2万辆。", article_date=None).period is None


def test_context_year_stands_in_when_the_sentence_names_none():
    f = _one("整车产量超46万辆。", article_date=REVIEW_DATE, context_year="2022")
    assert f.period == Period(2022)
    assert _one("整车产量超46万辆。", article_date=REVIEW_DATE).period is None  # the date alone is no year


def test_comparison_with_last_year_is_not_the_figures_period():
    f = _one("销量比去年同期多出7500余台。", article_date="2022-09-01", context_year=2022)
    assert f.period == Period(2022) and f.growth


def test_today_to_date():
    assert _one("今年以来，接待游客1200万人次。", article_date="2022-09-01").period == Period(2022, None, True)


# Plan or outcome ------------------------------------------------------------------------------


def test_estimate_of_the_articles_own_year_is_an_outcome():
    f = _one("预计实现地区生产总值940亿元。", article_date=REVIEW_DATE, context_year=2022)
    assert f.kind == "estimate" and not f.is_plan


def test_estimate_of_a_later_year_is_a_forecast():
    f = _one("预计2023年地区生产总值达到1000亿元。", article_date=REVIEW_DATE)
    assert f.kind == "forecast" and f.is_plan
    assert _one("预计地区生产总值1000亿元。", article_date=None).kind == "forecast"  # year unknown


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("力争完成签约项目204个。", "target"),
        ("目标是新增企业100家。", "target"),
        ("计划投资25亿元。", "plan"),
        ("将新建2000套人才公寓。", "plan"),
        ("拟新增上市企业2家。", "plan"),
        ("新建人才公寓2000套。", "outcome"),
        ("落实“兴沈英才计划”，3名企业家获奖。", "outcome"),  # a programme's name is no plan
        ("将近3万人参加。", "outcome"),
        ("争取实现规上工业增加值增长8%。", "target"),
        ("争取年内开工项目30个。", "target"),
        # 争取 before a thing reports what was won; 目标 as a noun and 模拟 plan nothing
        ("争取“揭榜挂帅”技术攻关等政策支持，发放各类科技专项补助4500余万元。", "outcome"),
        ("争取上级资金3.2亿元。", "outcome"),
        ("围绕共同富裕目标，发放帮扶救助资金7018万元。", "outcome"),
        ("模拟飞行训练120小时。", "outcome"),
    ],
)
def test_plan_words(sentence: str, kind: str):
    assert _one(sentence, article_date=REVIEW_DATE, context_year=2022).kind == kind


def test_a_later_year_without_plan_words_is_a_plan():
    f = _one("发放消费券5000万元以上。", article_date=REVIEW_DATE, context_year="2023")
    assert f.kind == "plan" and f.period == Period(2023)


def test_a_plan_word_does_not_reach_a_later_clause_about_another_year():
    found = _by_text("力争2023年完成签约项目204个，去年同期为150个。", article_date="2023-03-01")
    assert found["204个"].kind == "target"
    assert found["150个"].kind == "outcome" and found["150个"].period == Period(2022)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["2022年", "今年", "上半年", "1-8月", "其中", "预计", "力争", "分别", "同比增长", "大东区", "、",
             "和", "，", "；", "。", "12", "3.5", "万", "亿元", "辆", "%", "超", "余", "约", "以上", "新建", "公园",
             "等", "x5"]
        ),
        max_size=30,
    ),
    st.sampled_from([None, "2022-12-20"]),
)  # fmt: skip
def test_any_text_gives_consistent_figures(parts: list[str], date: str | None):
    sentence = "".join(parts)
    for f in figures(sentence, article_date=date, context_year=None):
        assert sentence[f.start : f.end] == f.text
        assert f.unit and f.precision > 0  # "12万" has no measure word: base unit ""
        assert f.period is None or f.period.year in (None, 2021, 2022)


def test_context_year_may_be_text_or_number_and_results_are_fresh_lists():
    a = figures("整车产量46万辆。", article_date="2022-12-20", context_year="2022")
    b = figures("整车产量46万辆。", article_date="2022-12-20", context_year=2022)
    assert a == b and a is not b
    a.clear()  # a caller changing its list does not change the next caller's
    assert figures("整车产量46万辆。", article_date="2022-12-20", context_year=2022) == b
    assert figures("整车产量46万辆。", article_date=None, context_year="2022年")[0].period == Period(2022)
    assert figures("整车产量46万辆。", article_date="unknown", context_year="")[0].period is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=12)), st.one_of(st.none(), st.integers(-5, 3000)))
def test_arbitrary_input_never_breaks(sentence: str, date: str | None, year: int | None):
    for f in figures(sentence, article_date=date, context_year=year):
        assert sentence[f.start : f.end] == f.text
