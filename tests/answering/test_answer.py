"""Answer-stage behaviour on a small synthetic corpus written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dadong_qa import QA, load_settings

ARTICLES = {
    "river_a.txt": """清水县推进社区改造-清水日报

来源: 2022-11-02 08:00

2021年，清水县新建学校5所，改造社区28个。
2022年，清水县新建学校7所，全县共有35个社区完成改造，惠及居民1.2万户。
清水县还新建了一座体育馆，可容纳观众3000人。
""",
    "river_b.txt": """清水县社区改造成效明显-山河新闻网

来源: 2022-12-15 09:30

据统计，2022年清水县共有36个社区完成改造，居民满意度明显提升。
县里开通了4条社区公交线路，方便老人出行。
""",
    "lake.txt": """湖滨镇发展旅游业

来源: 2023-05-01 10:00

湖滨镇去年接待游客120万人次，旅游收入达到3.5亿元。
镇上新建民宿80家，带动村民就业600人。
""",
}


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    root: Path = tmp_path_factory.mktemp("answer")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=corpus, index_dir=root / "index"))
    qa.build()
    return qa


def test_answer_cites_verbatim_sentence_with_metadata(qa: QA):
    a = qa.ask("湖滨镇新建了多少家民宿？")
    assert a.answered and "80家" in a.text and "[1]" in a.text
    c = a.citations[0]
    assert c.sentence == "镇上新建民宿80家，带动村民就业600人。"
    assert (c.doc_id, c.title, c.date) == ("lake", "湖滨镇发展旅游业", "2023-05-01")
    assert c.sentence in c.passage


def test_unrelated_question_is_refused_with_passages(qa: QA):
    a = qa.ask("清水县的县委书记是谁？")
    assert not a.answered and not a.citations and "没有找到" in a.text
    assert a.passages


def test_conflicting_figures_are_reported_and_both_cited(qa: QA):
    a = qa.ask("清水县共有多少个社区完成改造？")
    assert a.answered and a.conflict
    assert "35个社区" in a.text and "36个社区" in a.text
    assert {c.doc_id for c in a.citations} >= {"river_a", "river_b"}
    assert "不一致" in a.text


def test_question_about_two_years_gets_a_sentence_for_each(qa: QA):
    a = qa.ask("清水县2021年和2022年分别新建了多少所学校？")
    assert a.answered
    assert "5所" in a.text and "7所" in a.text


def test_year_not_in_sources_is_refused(qa: QA):
    a = qa.ask("清水县2019年新建了多少所学校？")
    assert not a.answered


def test_no_padding_with_unrelated_sentences(qa: QA):
    a = qa.ask("清水县新建的体育馆可以容纳多少观众？")
    assert a.answered and "3000人" in a.text
    assert len(a.citations) == 1


def test_relative_year_in_source_is_resolved_from_article_date(qa: QA):
    # The lake article (dated 2023) says 去年, i.e. 2022.
    a = qa.ask("湖滨镇2022年接待游客多少人次？")
    assert a.answered and "120万人次" in a.text


def test_answers_are_deterministic(qa: QA):
    q = "清水县开通了几条社区公交线路？"
    assert qa.ask(q).to_dict() | {"timings_ms": {}} == qa.ask(q).to_dict() | {"timings_ms": {}}


def test_factoid_answer_has_a_short_answer_from_the_cited_sentence(qa: QA):
    a = qa.ask("湖滨镇新建了多少家民宿？")
    assert a.answered and a.short == "80家" and a.short in a.citations[0].sentence
    assert a.to_dict()["short"] == "80家"


def test_a_refusal_has_no_short_answer_and_a_why_answer_quotes_its_sentence(qa: QA):
    assert qa.ask("清水县的县委书记是谁？").short is None
    why = qa.ask("湖滨镇为什么新建民宿？")
    # the span head's span, which may run the sentence; never text the sentence lacks
    assert why.short is None or (why.answered and why.short in why.citations[0].sentence)


@pytest.mark.parametrize("text", ["你好", "谢谢！", "How many schools were built?"])
def test_greetings_and_other_languages_get_a_hint_not_a_refusal(qa: QA, text: str):
    a = qa.ask(text)
    assert not a.answered and not a.citations and not a.passages
    assert ("没有找到" not in a.text and "中文" in a.text) or "请直接提问" in a.text


H1_2023 = """大东区2023年上半年经济运行情况

2023-07-20

2023年上半年，大东区社会消费品零售总额完成150.2亿元，同比增长8%。

上半年，大东区整车产量达到25万辆。
"""
CONTRADICTION = """大东区经济数据通报

2023-01-10

2022年，大东区地区生产总值是10000亿元。
"""


@pytest.mark.slow
def test_conflicts_only_for_the_same_quantity_period_and_kind(tmp_path: Path, seed_corpus: Path):
    import shutil

    shutil.copytree(seed_corpus, tmp_path / "corpus")
    (tmp_path / "corpus" / "h1.txt").write_text(H1_2023, encoding="utf-8")
    (tmp_path / "corpus" / "wrong.txt").write_text(CONTRADICTION, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"))
    qa.build()
    # full year 2022 (超46万辆) vs January-August (28.2万辆), and 2022 vs 2023 H1: no banner
    assert not qa.ask("大东区2022年一共造了多少辆汽车？").conflict
    assert not qa.ask("大东区2022年社会消费品零售总额是多少？").conflict
    # the planted contradiction: the same quantity, place, year and kind, both cited
    a = qa.ask("大东区2022年地区生产总值是多少？")
    assert a.conflict and "10000亿元" in a.text and "940亿元" in a.text
    assert {"wrong", "000_0f957d856a3f9b1b"} <= {c.doc_id for c in a.citations}


HYPO = """次磷酸的管制

来源: 2023-03-01 10:00

次磷酸是一种无色油状液体，易溶于水。
次磷酸可以将碘还原为氢碘酸，而氢碘酸又可以将麻黄碱还原为甲基苯丙胺。因此，次磷酸被缉毒署列为第一类易制毒化学品，购买及使用受到严格管制。
次磷酸盐常用于化学镀镍。
"""


def test_a_why_answer_cites_the_cause_before_its_therefore_as_context(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "hypo.txt").write_text(HYPO, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"))
    qa.build()
    a = qa.ask("为什么次磷酸的购买及使用受到严格管制？")
    assert a.answered
    assert [c.sentence[:6] for c in a.citations] == ["次磷酸可以将", "因此，次磷酸"]
    assert [c.context for c in a.citations] == [True, False] and a.citations[0].score == 0.0
    assert a.text.startswith("次磷酸可以将碘还原为氢碘酸") and a.text.index("[1]") < a.text.index("因此")
    assert a.short is None  # a span of the consequence is no reason
    # A factoid answer from the same sentence stands alone; so does the why answer with the setting off.
    assert [c.sentence[:6] for c in qa.ask("次磷酸被列为第几类易制毒化学品？").citations] == ["因此，次磷酸"]
    off = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", answer_context=False))
    assert [c.sentence[:6] for c in off.ask("为什么次磷酸的购买及使用受到严格管制？").citations] == ["因此，次磷酸"]
