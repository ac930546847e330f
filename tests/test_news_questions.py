"""News questions a new user asked of the seed articles (issue 20), end to end with the shipped reader.

Each question's right outcome was read off the articles by hand: an answer citing the sentence
that says it (with the short answer of the asked kind), or a refusal where the articles are
silent. Three more articles (a 2023 half-year report, a 2023 plan, a 2022 review with another car
figure) and a museum notice are added in the second group, as a user would upload them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dadong_qa import QA, load_settings

pytestmark = pytest.mark.slow

H1_2023 = """大东区2023年上半年经济运行情况

2023-07-20

2023年上半年，大东区实现地区生产总值480.6亿元，同比增长5.8%。

上半年，全区整车产量24.9万辆，社会消费品零售总额完成150.2亿元。
"""
PLAN_2023 = """大东区2023年经济工作安排

2023-01-16

2023年，大东区力争地区生产总值增长6.5%，整车产量突破50万辆。

全区将新开工亿元以上项目150个，持续优化营商环境。
"""
REVIEW_2022 = """回眸2022：大东区汽车产业稳中有进

2023-02-08

2022年，大东区整车产量44.7万辆，汽车产业产值达1730亿元。

宝马配套产业园新落户项目37个。
"""
NOTICE = """示例县博物馆开放时间公告

2024-03-01

示例县博物馆每周二至周日9:00-17:00开放，每周一闭馆，法定节假日照常开放。

参观实行免费预约制度，每日限额3000人。
"""


# Issue 20's seed questions the shipped reader still refuses or misreads (docs/quality.md, "The
# reader"): strict, so a reader that gets one right turns its mark into a failure to remove.
READER_MISSES = pytest.mark.xfail(strict=True, reason="issue 20 target not met by the shipped reader (docs/quality.md)")


@pytest.fixture(scope="module")
def seed(built_qa: QA) -> QA:
    return built_qa


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path) -> QA:
    root = tmp_path_factory.mktemp("grown")
    shutil.copytree(seed_corpus, root / "corpus")
    added = {"h1.txt": H1_2023, "plan.txt": PLAN_2023, "review.txt": REVIEW_2022, "notice.txt": NOTICE}
    for name, text in added.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    qa.build()
    return qa


@READER_MISSES
@pytest.mark.parametrize("question", ["大东区2022年GDP是多少？", "大东区2022年地区生产总值是多少？"])
def test_the_gdp_is_answered_however_it_is_named(seed: QA, question: str) -> None:
    a = seed.ask(question)
    assert a.answered and "940亿元" in a.citations[0].sentence and a.short == "940亿元"


@pytest.mark.parametrize(
    "question", ["大东区1至8月整车产量是多少？", "大东区1至8月整车产量？", "大东区前八个月整车产量是多少？"]
)
def test_a_period_the_question_names_picks_the_figure_of_that_period(seed: QA, question: str) -> None:
    a = seed.ask(question)
    assert a.answered and a.short == "28.2万辆" and "46万辆" not in a.citations[0].sentence


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("大东区的一般公共预算收入增长多少？", "15.2%"),  # the change asked: not the level 112.1亿元
        ("宝马配套产业园落户了多少项目？", "37个"),  # not the 20个 of the projects put into operation
        ("华晨宝马X5卖了多少台？", "超过2.1万台"),  # the sales, not the 7500余台 more than last year
        ("华晨宝马X5比进口的多卖了多少台？", "7500余台"),  # the difference: was the 2.1万台 sold
        ("大东区社零总额是多少？", "286.5亿元"),  # short forms: refused at p 0.00 and 0.35 before
        ("大东区的财政收入有多少？", "112.1亿元"),
        ("大东区2023年要推动多少套人才公寓投入使用？", "2000套以上"),  # was "2000": 套 ended no figure
        ("大东区的人才公寓有多少套？", "2292套"),  # what is reported, not the 2023 plan's 2000套以上
        ("大东区的人才公寓建了多少平方米？", "13万平方米"),  # was the 2292套 beside it
        ("大东区百强区排名进步了多少名？", "49名跃升至36名"),  # was 49名, the rank it left
        ("给企业发了多少上云补贴？", "1978万元"),  # money asked: was the 24家 that got it
        ("大东区财政收入涨了多少？", "同比增长15.2%"),  # 涨 asks the change: was the level 112.1亿元
        # a year-end review's sentences read as plans (争取…政策支持, 围绕…目标): refused at p 0.00
        ("科技专项补助发了多少钱？", "4500余万元"),
        ("救助资金发了多少？", "7018万元"),
        # what is, not the 2023 plan beside it: 60个 at p 0.85, and 80% vs 70% refused at p 0.52
        ("养老服务试点社区有几个？", "30个"),
        ("护理型床位占比多少？", "70%"),
        ("大东区办理了多少件企业市民诉求？", "5万余件"),  # was 5万: 余 after the multiplier ended it
        # a 分别 list: "特困人员" begins as the second name does (was the first's 11.5%)
        ("特困人员救助标准高出全市多少？", "7.4%"),
    ],
)
def test_the_short_answer_is_the_figure_asked_for(seed: QA, question: str, short: str) -> None:
    a = seed.ask(question)
    assert a.answered and a.short == short


def test_a_plan_answers_alone_and_says_it_is_a_plan(seed: QA) -> None:
    a = seed.ask("氢燃料电池汽车产业园占地多少？")  # only the 2023 plan says it
    assert a.answered and a.short == "16万平方米" and a.period == "2023年计划"


@pytest.mark.parametrize(
    ("question", "short"), [("大东区新增了多少个剧场？", "7个"), ("大东路串联了多少个文化节点？", "26个")]
)
def test_a_question_with_le_about_a_plan_gets_the_plan_labelled(seed: QA, question: str, short: str) -> None:
    # 了 read as "what was done" ruled the 2023 plan out and refused both at p 0.00.
    a = seed.ask(question)
    assert a.answered and a.short == short and a.period == "2023年计划"


def test_one_quantity_for_two_periods_answers_a_question_naming_none(seed: QA) -> None:
    # 1-8月's 1082.2亿元 (p 0.59) and 2022's 1730亿元 (p 0.38) split the reader's probability: refused
    a = seed.ask("大东区汽车产业产值达到了多少亿？")
    assert a.answered and a.short in {"1082.2亿元", "1730亿元"} and a.period is not None


def test_a_how_many_question_is_refused_where_the_sentence_gives_no_count(seed: QA) -> None:
    # "发放全市首批自动驾驶测试牌照" says no number; it answered at p 0.86.
    assert not seed.ask("大东区发放了多少张自动驾驶测试牌照？").answered


def test_a_whole_question_after_another_is_answered_as_asked(seed: QA) -> None:
    # The rewrite read it as a follow-up ("氢燃料电池汽车产业园给企业发了多少上云补贴") and refused it.
    history = [("氢燃料电池汽车产业园占地多少？", "16万平方米")]
    a = seed.ask("给企业发了多少上云补贴？", history=history)
    assert a.answered and a.short == "1978万元" and a.rewritten_question is None
    a = seed.ask("那2023年呢？", history=history)  # a fragment keeps the conversation's subject
    assert a.rewritten_question == "氢燃料电池汽车产业园2023年占地多少？"


def test_no_figure_of_another_quantity_is_the_short_answer(seed: QA) -> None:
    # "新增高新技术企业93家,科技型企业数量翻一番": 93家 was the short answer, at p 0.95.
    a = seed.ask("大东区科技型企业有多少家？")
    assert a.short is None and (not a.answered or "科技型企业数量翻一番" in a.citations[0].sentence)


@pytest.mark.parametrize(
    "question",
    [
        "和平区一般公共预算收入是多少？",  # a district the articles never name
        "浑南区规上工业增加值是多少？",
        "大连市开行中欧班列多少列？",  # named only in 大连港: its figures are still 大东区's
        "沈阳市一般公共预算收入是多少？",  # the city: the headline's district figure is not the city's
    ],
)
def test_a_figure_of_another_place_is_refused(seed: QA, question: str) -> None:
    # Each was answered with 大东区's figure at p 0.87-1.00 before places.py.
    assert not seed.ask(question).answered


@pytest.mark.parametrize(
    "question", ["沈阳大东区城镇新增就业人数", "沈阳市大东区城镇新增就业多少人？", "大東區城鎮新增就業多少人？"]
)
def test_the_place_the_articles_are_about_is_answered_however_it_is_written(seed: QA, question: str) -> None:
    a = seed.ask(question)
    assert a.answered and a.short == "11292人"


def test_two_questions_between_commas_are_answered_each(seed: QA) -> None:
    # Refused as one question (p 0.23) before the comma split.
    a = seed.ask("大东区老旧小区改造了多少个，新增绿地多少公顷？")
    assert a.answered and [p.short for p in a.parts] == ["121个", "37.5公顷"]


@READER_MISSES
def test_a_rank_question_gets_a_rank(seed: QA) -> None:
    a = seed.ask("大东区在全国工业百强区排名第几？")
    assert a.answered and a.short == "36名"


def test_an_abbreviation_is_read_as_the_article_writes_it(grown: QA) -> None:
    # The half-year report writes 地区生产总值; the question says GDP (refused at p 0.00 before).
    a = grown.ask("大东区2023年上半年GDP是多少？")
    assert a.answered and a.short == "480.6亿元"
    a = grown.ask("大东区2023年上半年GDP增长了多少？")  # its change, though GDP is not 地区生产总值 verbatim
    assert a.answered and a.short == "5.8%"


def test_a_day_of_the_week_question_gets_the_day(grown: QA) -> None:
    a = grown.ask("博物馆每周几闭馆？")
    assert a.answered and a.short == "每周一"


@READER_MISSES
def test_added_articles_do_not_turn_an_answer_into_a_refusal(grown: QA) -> None:
    a = grown.ask("大东区2022年地区生产总值是多少？")
    assert a.answered and a.short == "940亿元"


def test_the_same_figure_from_two_articles_is_flagged(grown: QA) -> None:
    a = grown.ask("大东区2022年整车产量是多少？")
    assert a.answered and a.conflict is not None
    assert {c.figure for c in a.conflict.claims} >= {"超46万辆", "44.7万辆"}


def test_a_plan_is_not_the_answer_to_what_happened(grown: QA) -> None:
    a = grown.ask("大东区2023年上半年整车产量是多少？")
    assert a.answered and a.short == "24.9万辆"


@READER_MISSES
def test_a_yes_no_question_is_answered_with_what_the_notice_says(grown: QA) -> None:
    a = grown.ask("博物馆周一开门吗？")
    assert a.answered and a.short is not None and "周一闭馆" in a.short


def test_what_no_article_says_is_refused(grown: QA) -> None:
    assert not grown.ask("大东区2022年的常住人口是多少？").answered
