from __future__ import annotations

import math
from pathlib import Path

import pytest

from dadong_qa.answering.conflict import (
    Conflict,
    SourcedFigure,
    alike,
    find_conflicts,
    interval,
    plans_beside_outcomes,
    quantity_key,
)
from dadong_qa.answering.figures import figures
from dadong_qa.answering.periods import Period, context_periods
from dadong_qa.ingestion.chunk import split_sentences
from dadong_qa.ingestion.ingest import parse_article, read_file

REVIEW = "2022-12-21"  # a year-end review of 2022


def _sourced(doc_id: str, date: str | None, sentence: str, context_year: int | None = None) -> list[SourcedFigure]:
    found = figures(sentence, article_date=date, context_year=context_year)
    return [SourcedFigure(f, sentence, doc_id, date) for f in found]


def _conflicts(*articles: tuple[str, str | None, str, int | None]) -> list[Conflict]:
    items = [s for doc_id, date, sentence, year in articles for s in _sourced(doc_id, date, sentence, year)]
    return find_conflicts(items)


def test_planted_contradiction_is_flagged_with_both_sources():
    review = "预计实现地区生产总值940亿元,同比增长6%;一般公共预算收入112.1亿元,同比增长15.2%。"
    planted = "大东区2022年地区生产总值是10000亿元。"
    (conflict,) = _conflicts(("review", REVIEW, review, 2022), ("planted", "2023-01-10", planted, None))
    assert conflict.quantity == "地区生产总值" and conflict.period == Period(2022)
    assert {conflict.first.figure.text, conflict.second.figure.text} == {"940亿元", "10000亿元"}
    assert set(conflict.doc_ids) == {"review", "planted"}
    assert {conflict.first.sentence, conflict.second.sentence} == {review, planted}
    assert {conflict.first.date, conflict.second.date} == {REVIEW, "2023-01-10"}


def test_full_year_and_january_to_august_do_not_conflict():
    full = ("review", REVIEW, "2022年，全区整车产量超46万辆、产值达1730亿元。", None)
    part = ("autumn", "2022-09-15", "1月至8月，实现整车产量28.2万辆，产值达1082.2亿元。", None)
    undated = ("undated", None, "1月至8月，实现整车产量28.2万辆，产值达1082.2亿元。", None)
    assert _conflicts(full, part) == []
    assert _conflicts(full, undated) == []


def test_full_year_2022_and_first_half_2023_do_not_conflict():
    full = ("review", REVIEW, "社会消费品零售总额286.5亿元,同比增长3%。", 2022)
    half = ("h1", "2023-07-20", "2023年上半年，大东区社会消费品零售总额150.6亿元，同比增长8%。", None)
    assert _conflicts(full, half) == []


def test_plan_and_actuals_do_not_conflict():
    plan = ("plan", "2023-02-01", "2023年，大东区力争整车产量达到50万辆，计划实现地区生产总值1000亿元。", None)
    actual = ("autumn", "2023-09-15", "今年1-8月，大东区整车产量30.5万辆。", None)
    year_end = ("year-end", "2024-01-10", "2023年，大东区整车产量48万辆，地区生产总值990亿元。", None)
    assert _conflicts(plan, actual) == []
    assert _conflicts(plan, year_end) == []  # a target missed is no contradiction between sources


def test_two_outcomes_for_the_same_year_that_differ_conflict():
    a = ("a", "2024-01-10", "2023年，大东区整车产量48万辆。", None)
    b = ("b", "2024-02-01", "2023年大东区整车产量为52万辆。", None)
    (conflict,) = _conflicts(a, b)
    assert conflict.quantity == "整车产量"


def test_rounding_and_qualifiers_are_not_conflicts():
    over = ("a", REVIEW, "整车产量超46万辆。", 2022)
    assert _conflicts(over, ("b", REVIEW, "2022年整车产量46.2万辆。", None)) == []
    assert _conflicts(over, ("b", REVIEW, "2022年整车产量约46万辆。", None)) == []
    assert len(_conflicts(over, ("b", REVIEW, "2022年整车产量40万辆。", None))) == 1  # 40 is not over 46
    about = ("a", REVIEW, "2022年地区生产总值约为470亿元。", None)
    assert _conflicts(about, ("b", REVIEW, "2022年地区生产总值480亿元。", None)) == []
    assert len(_conflicts(about, ("b", REVIEW, "2022年地区生产总值600亿元。", None))) == 1
    assert _conflicts(("a", REVIEW, "2022年增长6%。", None), ("b", REVIEW, "2022年增长6.2%。", None)) == []


def test_units_are_converted_before_comparing():
    a = ("a", REVIEW, "2022年一般公共预算收入112.1亿元。", None)
    assert _conflicts(a, ("b", REVIEW, "2022年一般公共预算收入1121000万元。", None)) == []
    assert len(_conflicts(a, ("b", REVIEW, "2022年一般公共预算收入2121000万元。", None))) == 1
    area = ("a", REVIEW, "2022年新增绿地37.5公顷。", None)
    assert _conflicts(area, ("b", REVIEW, "2022年新增绿地37.5万平方米。", None)) == []


def test_different_places_do_not_conflict_but_an_unnamed_one_may():
    a = ("a", REVIEW, "2022年大东区地区生产总值940亿元。", None)
    assert _conflicts(a, ("b", REVIEW, "2022年浑南区地区生产总值1200亿元。", None)) == []
    assert len(_conflicts(a, ("b", REVIEW, "2022年地区生产总值1200亿元。", None))) == 1


def test_level_and_growth_are_different_quantities():
    a = ("a", REVIEW, "2022年地区生产总值940亿元，同比增长6%。", None)
    b = ("b", REVIEW, "2022年地区生产总值同比增长8%。", None)
    (conflict,) = _conflicts(a, b)
    assert conflict.first.figure.growth and conflict.second.figure.growth


def test_unknown_years_and_names_never_conflict():
    a = ("a", None, "地区生产总值940亿元。", None)
    b = ("b", None, "地区生产总值10000亿元。", None)
    assert _conflicts(a, b) == []  # no year known for either
    c = ("c", REVIEW, "今年以来接待游客1200万人次。", None)
    d = ("d", REVIEW, "今年以来接待游客1500万人次。", None)
    assert _conflicts(c, d) == []  # 年初以来: up to different dates
    e = ("e", REVIEW, "2022年，增长6%。", None)
    f = ("f", REVIEW, "2022年，增长9%。", None)
    assert _conflicts(e, f) == []  # growth of what?


def test_figures_of_one_article_are_not_compared():
    a = ("a", REVIEW, "2022年，地区生产总值940亿元。", None)
    b = ("a", REVIEW, "2022年，地区生产总值10000亿元。", None)
    assert _conflicts(a, b) == []


def test_a_repeated_pair_is_reported_once():
    a = ("a", REVIEW, "2022年，地区生产总值940亿元。", None)
    b = ("b", REVIEW, "2022年，地区生产总值10000亿元。", None)
    assert len(_conflicts(a, a, b, b)) == 1


@pytest.mark.parametrize(
    ("name", "key"),
    [("GDP", "地区生产总值"), ("生产总值", "地区生产总值"), ("规上工业增加值", "规模以上工业增加值"),
     ("社会消费品零售总额", "社会消费品零售总额"), ("社会消费品零售总额", "社会消费品零售总额"),
     ("財政收入", "一般公共预算收入"), ("整车产量 ", "整车产量")],
)  # fmt: skip
def test_quantity_key(name: str, key: str):
    assert quantity_key(name) == key


def test_interval_bounds():
    (over,) = figures("超46万辆。", article_date=None)
    assert interval(over) == (455_000, math.inf)
    (near,) = figures("近3万人。", article_date=None)
    assert interval(near) == (-math.inf, 35_000)  # 3万: written to the 万
    (exact,) = figures("46.2万辆。", article_date=None)
    assert interval(exact) == pytest.approx((461_500, 462_500))


# The seed corpus plus articles a user might add ---------------------------------------------------

_ADDED = {
    "h1-2023": ("2023-07-20", "2023年上半年大东区经济运行情况",
                "2023年上半年，大东区实现地区生产总值480亿元，同比增长5.5%。社会消费品零售总额150.6亿元，同比增长8%。"
                "一般公共预算收入60.2亿元。1-6月，整车产量25万辆。"),
    "contradiction": ("2023-01-10", "大东区经济简报", "大东区2022年地区生产总值是10000亿元。"),
    "plan-2023": ("2023-02-01", "大东区2023年工作计划",
                  "2023年，大东区计划实现地区生产总值1000亿元，力争社会消费品零售总额达到310亿元，整车产量达到50万辆。"),
}  # fmt: skip


def _article_figures(doc_id: str, date: str | None, text: str) -> list[SourcedFigure]:
    sentences = [text[a:b] for a, b in split_sentences(text)]
    out = []
    for sentence, context in zip(sentences, context_periods(sentences, date), strict=True):
        year, months = (context.year, context.months) if context else (None, None)
        found = figures(sentence, article_date=date, context_year=year, context_months=months)
        out.extend(SourcedFigure(f, sentence, doc_id, date) for f in found)
    return out


def test_seed_corpus_with_added_articles_flags_only_the_planted_contradiction(seed_corpus: Path):
    items = []
    for path in sorted(seed_corpus.glob("*.txt")):
        doc = read_file(path)
        items += _article_figures(doc.doc_id, doc.date, doc.text)
    assert len(items) > 100  # the seed articles are full of figures
    assert find_conflicts(items) == []  # the seed articles agree with each other
    for doc_id, (date, title, body) in _ADDED.items():
        doc = parse_article(f"{title}\n\n{body}", f"{doc_id}.txt", doc_id=doc_id)
        items += _article_figures(doc_id, date, doc.text)
    conflicts = find_conflicts(items)
    assert [(c.quantity, sorted([c.first.figure.text, c.second.figure.text])) for c in conflicts] == [
        ("地区生产总值", ["10000亿元", "940亿元"])
    ]
    assert "contradiction" in conflicts[0].doc_ids


def test_the_same_measure_of_two_different_things_does_not_conflict():
    """Issue 21: 翠微峰索道 2.3公里 and 松花江大桥 3.2公里 got a red banner. Each sentence names its
    subject in the clause before 全长, so the bare 全长 of the two were compared as one quantity."""
    cableway = ("cableway", "2024-05-09", "翠微峰索道于2023年建成，全长2.3公里。", None)
    bridge = ("bridge", "2024-05-10", "松花江大桥于2023年建成通车，全长3.2公里。", None)
    assert _conflicts(cableway, bridge) == []
    other = ("cableway2", "2024-05-11", "翠微峰索道于2023年建成，全长2.8公里。", None)
    (conflict,) = _conflicts(cableway, other)  # the same thing measured twice still conflicts
    assert conflict.quantity == "翠微峰索道全长"


def test_alike_figures_share_a_name_loosely_and_their_unit():
    (plan,) = figures("政府购买居家养老服务试点社区增至60个。", article_date=REVIEW, context_year=2023)
    (done,) = figures("政府购买养老服务试点社区增至30个。", article_date=REVIEW, context_year=2022)
    (other,) = figures("打造33个“两邻”特色社区。", article_date=REVIEW, context_year=2022)
    (share,) = figures("政府购买养老服务试点社区占比30%。", article_date=REVIEW, context_year=2022)
    assert alike(plan, done) and alike(done, plan)
    assert not alike(plan, other)  # 社区 alone is not the quantity
    assert not alike(done, share)  # another unit


def test_a_plan_beside_a_reported_figure_of_the_same_quantity():
    plan = _sourced("review", REVIEW, "全区养老机构护理型床位占比提升至80%。", 2023)
    done = _sourced("review", REVIEW, "投入521万元改造社会福利院，全区养老机构护理型床位占比增至70%。", 2022)
    park = _sourced("review", REVIEW, "建设占地16万平方米氢燃料电池汽车产业园。", 2023)
    assert plans_beside_outcomes([plan, done]) == {0}
    assert plans_beside_outcomes([park, done]) == set()  # alone, a plan is no plan beside anything
    undated = _sourced("history", None, "该厂计划将产量提升至80%。")
    assert plans_beside_outcomes([undated, done]) == set()  # undated plan words tell history as often
