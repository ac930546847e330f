"""The seed articles plus articles a user adds (a 2023 first-half report, a contradicting figure,
a plan): periods are matched, conflicts flagged only when they are conflicts, parts answered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SEED_CORPUS
from dadong_qa import QA, load_settings

ADDED = {
    "h1-2023.txt": "2023年上半年大东区经济运行情况\n\n2023-07-20\n\n"
    "2023年上半年，大东区实现地区生产总值480亿元，同比增长5.5%。社会消费品零售总额150.6亿元，同比增长8%。"
    "一般公共预算收入60.2亿元。1-6月，整车产量25万辆。\n",
    "contradiction.txt": "大东区经济简报\n\n2023-01-10\n\n大东区2022年地区生产总值是10000亿元。\n",
    "plan-2023.txt": "大东区2023年工作计划\n\n2023-02-01\n\n"
    "2023年，大东区计划实现地区生产总值1000亿元，力争社会消费品零售总额达到310亿元，整车产量达到50万辆。\n",
}


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    root: Path = tmp_path_factory.mktemp("added")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    for name, text in ADDED.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    qa.build()
    return qa


@pytest.mark.xfail(strict=True, reason="issue 20: the shipped reader refuses this paraphrase (docs/quality.md)")
def test_full_year_and_january_to_august_are_no_conflict(qa: QA):
    a = qa.ask("大东区2022年一共造了多少辆汽车？")
    assert a.answered and a.short == "超46万辆" and a.period == "2022年"
    assert not a.conflict and "不一致" not in a.text


@pytest.mark.parametrize("question", ["大东区2022年社会消费品零售总额是多少？", "大东区2022年一般公共预算收入是多少？"])
def test_a_later_first_half_report_is_no_conflict(qa: QA, question: str):
    a = qa.ask(question)
    assert a.answered and not a.conflict
    assert all(c.date == "2022-12-21" for c in a.citations)  # the 2022 figure, not 2023's first half


def test_the_planted_contradiction_is_flagged_with_both_citations(qa: QA):
    a = qa.ask("大东区2022年地区生产总值是多少？")
    assert a.answered and a.conflict and a.text.startswith("注意：")
    assert a.conflict.quantity == "地区生产总值" and a.conflict.period == "2022年"
    claims = {c.figure: c for c in a.conflict.claims}
    assert set(claims) == {"940亿元", "10000亿元"}
    assert claims["10000亿元"].date == "2023-01-10" and claims["940亿元"].date == "2022-12-21"
    for claim in claims.values():  # each side is cited, with its own article
        cited = a.citations[claim.citation - 1]
        assert claim.figure in cited.sentence and cited.doc_id == claim.doc_id


def test_a_plan_is_no_conflict_with_outcomes(qa: QA):
    a = qa.ask("2023年大东区计划实现地区生产总值多少？")
    assert a.answered and a.short == "1000亿元" and not a.conflict


def test_a_question_about_a_period_gets_that_period(qa: QA):
    a = qa.ask("大东区2023年上半年地区生产总值是多少？")
    assert a.answered and a.short == "480亿元" and not a.conflict
    assert a.citations[0].date == "2023-07-20"


def test_a_year_is_not_answered_by_an_undated_figure(qa: QA):
    # The undated seed article reports 限额以上社会消费品零售总额增速6.6% for 1-8月 of an unknown year.
    direct = qa.ask("大东区2023年限额以上社会消费品零售总额增速是多少？")
    assert "6.6%" not in direct.text
    follow = qa.ask("那2023年呢？", history=[("大东区限额以上社会消费品零售总额增速是多少？", "")])
    assert follow.rewritten_question and "2023" in follow.rewritten_question
    assert "6.6%" not in follow.text
    plain = qa.ask("大东区限额以上社会消费品零售总额增速是多少？")  # no year asked: answered, period said
    assert plain.answered and plain.short == "6.6%" and plain.period == "1-8月，年份不详"


def test_two_quantities_are_answered_each_with_its_citation(qa: QA):
    a = qa.ask("大东区2022年地区生产总值和一般公共预算收入分别是多少？")
    assert a.answered and [p.answered for p in a.parts] == [True, True]
    budget = a.parts[1]
    assert budget.short == "112.1亿元" and "112.1亿元" in a.citations[budget.citations[0] - 1].sentence
    assert set(a.parts[0].citations).isdisjoint(budget.citations)


def test_a_part_the_sources_lack_is_named(qa: QA):
    a = qa.ask("大东区2022年地区生产总值和税收收入分别是多少？")
    assert a.answered and "部分回答：" in a.text and a.text.endswith("资料中没有找到：大东区2022年税收收入是多少。")
    assert [p.answered for p in a.parts] == [True, False]
