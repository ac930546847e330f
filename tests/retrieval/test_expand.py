from __future__ import annotations

import pytest

from dadong_qa.retrieval.expand import analyze, as_written, neighbour_credit, spelled_out
from dadong_qa.retrieval.query import parse_question
from dadong_qa.retrieval.thesaurus import Thesaurus


def test_question_words_time_words_and_particles_are_not_terms():
    terms, years = parse_question("大东区在全国工业百强区中的排名提升到了第几名？")
    assert "第几名" not in terms and "区中" not in terms
    assert {"大东区", "全国", "工业", "百强", "排名", "提升"} <= set(terms)
    assert years == set()
    terms, years = parse_question("2023年清水县计划新建多少所学校？")
    assert years == {"2023"} and "2023" not in terms and "多少" not in terms


def test_thesaurus_gives_multi_character_synonyms():
    assert "列车" in Thesaurus.synonyms("火车")
    assert all(len(w) >= 2 for w in Thesaurus.synonyms("增加"))
    assert "株" in Thesaurus.measure_synonyms("棵")


def test_only_unseen_terms_are_expanded_and_only_to_known_words():
    known = {"列车", "学校", "清水县"}.__contains__
    q = analyze("清水县的火车和学校", known=known)
    assert q.expansions == {"火车": [("列车", 0.7)]}


def test_neighbour_credit_grows_with_similarity():
    assert neighbour_credit(0.5) == 0.0
    assert 0 < neighbour_credit(0.65) < neighbour_credit(0.8) <= 0.7
    assert neighbour_credit(0.99) == 0.7


def test_neighbours_are_used_when_given():
    q = analyze("孩子放学", known=lambda w: False, neighbours=lambda ts: [[("课后", 0.8)] for _ in ts])
    assert ("课后", neighbour_credit(0.8)) in q.expansions["放学"]


def test_a_latin_abbreviation_gets_the_chinese_names_the_articles_use():
    known = {"生产总值", "清水县"}.__contains__
    q = analyze("清水县GDP是多少？", known=known)
    assert q.expansions == {"gdp": [("生产总值", 0.7)]} and q.unmatched == []
    assert analyze("清水县XYZ是多少？", known=known).unmatched == ["xyz"]  # no name known: nothing to match


@pytest.mark.parametrize(
    ("question", "sentence", "shown"),
    [
        ("清水县GDP是多少？", "全县实现地区生产总值320亿元。", "清水县地区生产总值是多少？"),
        ("清水县gdp是多少？", "全县生产总值320亿元。", "清水县生产总值是多少？"),  # the name the sentence writes
        ("清水县GDP是多少？", "全县经济平稳。", "清水县GDP是多少？"),  # the sentence names it not: as asked
        ("清水县X5销量？", "X5销量2万台。", "清水县X5销量？"),  # not an abbreviation
        ("清水县社零总额是多少？", "社会消费品零售总额86亿元。", "清水县社会消费品零售总额是多少？"),
        ("清水县规上工业增加值？", "规模以上工业增加值45亿元。", "清水县规模以上工业增加值？"),
        ("清水县社零是多少？", "社零86亿元，社会消费品零售总额同比增长3%。", "清水县社零是多少？"),  # written as asked
    ],
)
def test_the_reader_reads_an_abbreviation_as_the_sentence_writes_it(question: str, sentence: str, shown: str):
    assert as_written(question, sentence) == shown


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("清水县社零总额是多少？", "清水县社会消费品零售总额是多少？"),  # jieba cuts 社零 into 社 + 零
        ("清水县财政收入有多少？", "清水县一般公共预算收入有多少？"),
        ("清水县固投增长了多少？", "清水县固定资产投资增长了多少？"),
        ("清水县限上社零增速是多少？", "清水县限额以上社会消费品零售总额增速是多少？"),  # two side by side
        ("饭盛女在法规上叫什么？", "饭盛女在法规上叫什么？"),  # 规上 only before what it qualifies
        ("清水县一般公共预算收入有多少？", "清水县一般公共预算收入有多少？"),  # already in full
        ("清水縣社零總額是多少？", "清水县社会消费品零售总额是多少？"),  # read in simplified characters
        ("清水縣ＧＤＰ是多少？", "清水縣ＧＤＰ是多少？"),  # nothing to spell out: as it came
    ],
)
def test_a_chinese_short_form_is_searched_for_by_its_full_name(question: str, searched: str) -> None:
    assert spelled_out(question, known=set().__contains__) == searched


def test_a_short_form_the_articles_write_is_searched_for_as_typed() -> None:
    assert spelled_out("清水县财政收入有多少？", known={"财政收入"}.__contains__) == "清水县财政收入有多少？"
