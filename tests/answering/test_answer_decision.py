"""The decision with the reader: its probability, the threshold, the rules, the short answer.

A stand-in reader returns given probabilities per sentence, so each test states what the reader
read and checks what `ExtractiveAnswerer` decides from it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import DIM, make_store
from dadong_qa.answering.answer import AnswerParams, ExtractiveAnswerer, period_scoped
from dadong_qa.answering.evidence import FEATURES
from dadong_qa.answering.policy import AnswerPolicy, Logistic
from dadong_qa.answering.reader import ReaderInput, Reading, SpanGuess
from dadong_qa.retrieval.expand import analyze
from dadong_qa.retrieval.retrieve import Retrieval
from dadong_qa.schema import Passage

STORE = make_store(
    {
        "a": (
            "清水县学校",
            "2023-11-02",
            ["2022年，清水县新建学校7所。", "2023年，清水县新建学校9所。", "县里开通了4条社区公交线路。"],
        ),
    }
)
N = len(FEATURES)
FLAT = AnswerPolicy(FEATURES, Logistic(np.zeros(N), np.ones(N), np.zeros(N), 0.0), {})  # orders by nothing


class StandIn:
    """Reads each sentence with the logit given for it (others: -5); the span is the given text."""

    def __init__(self, logits: dict[str, float], spans: dict[str, str] | None = None) -> None:
        self.logits, self.spans, self.seen = logits, spans or {}, []

    def read(self, items: list[ReaderInput], long_spans: bool = False) -> list[Reading]:
        self.seen.append(items)
        logits = [self.logits.get(i.sentence, -5.0) for i in items]
        total = 1 + sum(math.exp(x) for x in logits)
        out = []
        for item, x in zip(items, logits, strict=True):
            text = self.spans.get(item.sentence)
            spans = (SpanGuess(item.sentence.index(text), item.sentence.index(text) + len(text), 5.0),) if text else ()
            out.append(Reading(x, math.exp(x) / total, spans))
        return out


def answer(
    reader: StandIn,
    question: str,
    threshold: float = 0.5,
    candidates: int = 8,
    policy: AnswerPolicy = FLAT,
    weight: float = 0.0,
    store=STORE,
    min_policy: float = 0.0,
    span_weight: float = 0.0,
    passages: list[Passage] | None = None,
):
    doc_id = next(iter(store.sentences.values())).doc_id
    passages = passages or [Passage(text="", doc_id=doc_id, score=1.0, chunk_id=0, sentence_ids=[0, 1, 2])]
    retrieval = Retrieval(passages, np.ones(DIM) / 2, [], analyze(question), {})
    params = AnswerParams(
        refusal_threshold=threshold,
        reader_candidates=candidates,
        reader_policy_weight=weight,
        reader_min_policy=min_policy,
        reader_span_weight=span_weight,
        reader_span_center=8.0,
    )
    return ExtractiveAnswerer(store, params, policy, reader).answer(question, retrieval)


def test_the_reader_chooses_and_its_probability_is_the_confidence() -> None:
    reader = StandIn({"县里开通了4条社区公交线路。": 3.0}, {"县里开通了4条社区公交线路。": "4条"})
    a = answer(reader, "清水县开通了几条社区公交线路？")
    assert a.answered and a.citations[0].sentence == "县里开通了4条社区公交线路。"
    expected = math.exp(3) / (1 + math.exp(3) + 2 * math.exp(-5))
    assert a.confidence == pytest.approx(expected, abs=1e-4) and a.short == "4条"
    assert reader.seen[0][0].title == "清水县学校"  # the reader reads the title with each sentence


@pytest.mark.parametrize("weight", [0.5, 1.0])
def test_the_policy_weight_adds_the_policys_log_odds(weight: float) -> None:
    # Every sentence gets policy probability sigmoid(1.5): log-odds 1.5 added at `weight`.
    sure = AnswerPolicy(FEATURES, Logistic(np.zeros(N), np.ones(N), np.zeros(N), 1.5), {})
    reader = StandIn({"县里开通了4条社区公交线路。": 0.0})
    a = answer(reader, "清水县开通了几条社区公交线路？", threshold=0.0, policy=sure, weight=weight)
    shift = weight * 1.5
    expected = math.exp(shift) / (1 + math.exp(shift) + 2 * math.exp(-5 + shift))
    assert a.confidence == pytest.approx(expected, abs=1e-4)
    assert answer(reader, "清水县开通了几条社区公交线路？", threshold=0.0, policy=sure).confidence == pytest.approx(
        1 / (2 + 2 * math.exp(-5)), abs=1e-4
    )


def test_a_sure_answer_span_adds_to_the_score_and_an_unsure_one_takes_away() -> None:
    # StandIn's span scores 5.0: at weight 0.5 around 8.0 the score moves by 0.5 * (5 - 8) = -1.5.
    sentence = "县里开通了4条社区公交线路。"
    reader = StandIn({sentence: 1.0}, {sentence: "4条"})
    plain = answer(reader, "清水县开通了几条社区公交线路？", threshold=0.0)
    weighed = answer(reader, "清水县开通了几条社区公交线路？", threshold=0.0, span_weight=0.5)
    assert plain.confidence == pytest.approx(math.exp(1) / (1 + math.exp(1) + 2 * math.exp(-5)), abs=1e-4)
    assert weighed.confidence == pytest.approx(math.exp(-0.5) / (1 + math.exp(-0.5) + 2 * math.exp(-5)), abs=1e-4)
    no_span = StandIn({sentence: 1.0})  # no span found: the logit alone
    alone = answer(no_span, "清水县开通了几条社区公交线路？", threshold=0.0, span_weight=0.5)
    assert alone.confidence == pytest.approx(plain.confidence, abs=1e-4)


def test_below_the_threshold_the_reader_refuses() -> None:
    reader = StandIn({"县里开通了4条社区公交线路。": 0.0})  # p = 0.5 against "none" and the rest
    assert not answer(reader, "清水县开通了几条社区公交线路？", threshold=0.6).answered
    assert answer(reader, "清水县开通了几条社区公交线路？", threshold=0.45).answered


def test_a_rule_that_rules_out_the_top_sentence_lets_the_next_one_answer() -> None:
    # The reader prefers the 2023 sentence, but the question asks about 2022: the year rule rules
    # it out, and its share goes to what is left (the 2022 sentence and "none").
    reader = StandIn({"2023年，清水县新建学校9所。": 4.0, "2022年，清水县新建学校7所。": 2.0})
    a = answer(reader, "2022年清水县新建了多少所学校？")
    assert a.answered and a.citations[0].sentence == "2022年，清水县新建学校7所。"
    assert a.confidence == pytest.approx(math.exp(2) / (1 + math.exp(2)), abs=2e-3)


def test_a_ruled_out_sentence_alone_is_no_answer() -> None:
    reader = StandIn({"2023年，清水县新建学校9所。": 4.0})
    assert not answer(reader, "2022年清水县新建了多少所学校？").answered


def test_only_the_shortlist_is_read() -> None:
    reader = StandIn({})
    answer(reader, "清水县开通了几条社区公交线路？", candidates=2)
    assert len(reader.seen[0]) == 2


def test_sentences_the_policy_rules_out_are_not_read_once_one_is_in() -> None:
    unlikely = AnswerPolicy(FEATURES, Logistic(np.zeros(N), np.ones(N), np.zeros(N), -6.0), {})  # p 0.0025
    reader = StandIn({"2022年，清水县新建学校7所。": 3.0})
    a = answer(reader, "2022年清水县新建了多少所学校？", policy=unlikely, min_policy=0.01)
    assert [i.sentence for i in reader.seen[0]] == ["2022年，清水县新建学校7所。"] and a.answered
    reader = StandIn({})
    answer(reader, "2022年清水县新建了多少所学校？", policy=unlikely)  # no floor: all of them
    assert len(reader.seen[0]) == 3


def test_under_the_floor_the_next_sentence_is_read_when_a_rule_rules_out_the_first() -> None:
    # The rules lower the policy's odds, so a ruled-out sentence rarely comes first; when the
    # policy's model still puts one there, the floor must not leave the shortlist without a
    # sentence that could answer.
    unlikely = AnswerPolicy(FEATURES, Logistic(np.zeros(N), np.ones(N), np.zeros(N), -6.0), {})
    question = "2023年清水县新建了多少所学校？"
    passages = [Passage(text="", doc_id="a", score=1.0, chunk_id=0, sentence_ids=[0, 1, 2])]
    retrieval = Retrieval(passages, np.ones(DIM) / 2, [], analyze(question), {})
    params = AnswerParams(reader_candidates=4, reader_min_policy=0.01)
    answerer = ExtractiveAnswerer(STORE, params, unlikely, StandIn({}))
    ranked = answerer.rank_by_policy(retrieval)
    out = next(c for c in ranked if STORE.sentences[c.sid].text.startswith("2022年"))
    taken, rest = answerer._shortlist([out, *(c for c in ranked if c is not out)])
    texts = [STORE.sentences[c.sid].text for c in taken]
    assert texts == ["2022年，清水县新建学校7所。", "2023年，清水县新建学校9所。"]
    assert len(rest) == len(ranked) - 2


def test_a_second_sentence_joins_when_the_reader_reads_it_as_an_answer_too() -> None:
    reader = StandIn({"2022年，清水县新建学校7所。": 3.0, "2023年，清水县新建学校9所。": 3.0})
    a = answer(reader, "清水县2022年和2023年分别新建了多少所学校？", threshold=0.3)
    assert {c.sentence for c in a.citations} == {"2022年，清水县新建学校7所。", "2023年，清水县新建学校9所。"}


def test_a_question_naming_a_year_shows_the_reader_the_year_the_article_is_in() -> None:
    # News states its year once; the reader's window (the sentence before) may not reach it.
    store = make_store(
        {"b": ("回顾", "2023-01-05", ["2022年，清水县经济平稳。", "全县新建学校7所。", "开通公交线路4条。"])}
    )
    reader = StandIn({})
    answer(reader, "清水县2022年开通了几条公交线路？", store=store)
    before = {i.sentence: i.before for i in reader.seen[0]}
    assert before["开通公交线路4条。"] == "2022年，全县新建学校7所。"
    assert before["全县新建学校7所。"] == "2022年，清水县经济平稳。"  # it states the year already
    reader = StandIn({})
    answer(reader, "清水县开通了几条公交线路？", store=store)  # no year asked: the context as it is
    assert {i.sentence: i.before for i in reader.seen[0]}["开通公交线路4条。"] == "全县新建学校7所。"


TOURISM = make_store(
    {
        "t": (
            "清水县旅游",
            "2022-12-30",
            ["1月至8月，清水县接待游客120万人次。", "2022年全年，清水县接待游客300万人次。", "县里新修了3条旅游公路。"],
        ),
    }
)


@pytest.mark.parametrize("question", ["清水县1至8月接待游客多少人次？", "清水县1至8月接待游客人次？"])
def test_a_question_naming_part_of_the_year_gets_that_parts_figure(question: str) -> None:
    # The reader prefers the full year's figure; the period rule rules it out for 1至8月, with or
    # without a question word ("…人次？" asks for the figure all the same).
    reader = StandIn({"2022年全年，清水县接待游客300万人次。": 4.0, "1月至8月，清水县接待游客120万人次。": 2.0})
    a = answer(reader, question, store=TOURISM)
    assert a.answered and a.citations[0].sentence == "1月至8月，清水县接待游客120万人次。"


@pytest.mark.parametrize(
    ("question", "scoped"),
    [
        ("清水县1至8月接待游客多少人次？", True),  # a figure question naming a part of the year
        ("清水县1至8月接待游客人次？", True),  # no question word: it asks for the period's value
        ("清水县2022年接待游客人次？", True),
        ("清水县接待游客人次？", False),  # no period named
        ("为什么清水县2022年游客多？", False),  # not a factoid
        ("清水县2022年有没有新修公路？", False),  # yes / no
        ("清水县2022年的旅游公路叫什么名字？", False),  # asks for a name, not a figure
    ],
)
def test_which_questions_must_be_answered_with_a_figure_of_their_period(question: str, scoped: bool) -> None:
    assert period_scoped(analyze(question)) is scoped


FIGURES = make_store(
    {
        "f": (
            "清水县经济",
            "2022-12-30",
            [
                "2022年，清水县一般公共预算收入41.2亿元，同比增长8.5%。",
                "华通等37个项目落户产业园，长友等20个项目投产运营。",
                "县里新修了3条公路。",
                "X5累计销量超过2.1万台，比去年同期多出7500余台。",
            ],
        ),
    }
)


@pytest.mark.parametrize(
    ("question", "span", "short"),
    [
        ("清水县一般公共预算收入增长多少？", "41.2亿元", "8.5%"),  # the change asked, not the level
        ("清水县财政收入增长多少？", "41.2亿元", "8.5%"),  # named otherwise: the change of the span's quantity
        ("清水县一般公共预算收入是多少？", "同比增长8.5%", "41.2亿元"),  # the level asked, not the change
        ("清水县一般公共预算收入是多少？", "41.2亿元", "41.2亿元"),
        ("产业园落户了多少项目？", "37个", "37个"),  # 37个 is of 项目落户, named word for word
        ("多少项目投产运营？", "37个", "20个"),  # the figure of what the question names
        ("X5卖了多少台？", "7500余台", "超过2.1万台"),  # a level asked: the one level in the unit
        ("X5比去年同期多卖了多少台？", "7500余台", "7500余台"),  # the difference asked
    ],
)
def test_the_short_figure_is_of_what_the_question_names(question: str, span: str, short: str) -> None:
    sentence = next(s.text for s in FIGURES.sentences.values() if span in s.text)
    passages = [Passage(text="", doc_id="f", score=1.0, chunk_id=0, sentence_ids=list(FIGURES.sentences))]
    a = answer(StandIn({sentence: 3.0}, {sentence: span}), question, store=FIGURES, passages=passages)
    assert a.answered and a.citations[0].sentence == sentence and a.short == short


def test_a_figure_the_question_states_never_replaces_the_short_answer() -> None:
    store = make_store(
        {
            "e": (
                "欧洲国家杯",
                "",
                ["第2届欧洲国家杯于1964年举办，参加预赛的国家增至29个成员国。", "决赛在马德里举行。", "西班牙夺冠。"],
            )
        }
    )
    sentence = "第2届欧洲国家杯于1964年举办，参加预赛的国家增至29个成员国。"
    a = answer(StandIn({sentence: 3.0}, {sentence: "29个"}), "参加第2届欧洲国家杯的国家多达几个会员国？", store=store)
    assert a.answered and a.short == "29个"


def test_the_reader_reads_the_question_in_the_sentences_words() -> None:
    # "前八个月" as the sentence writes the same months; "GDP" as the sentence names it.
    reader = StandIn({})
    answer(reader, "清水县前八个月接待游客多少人次？", store=TOURISM)
    asked = {i.sentence: i.question for i in reader.seen[0]}
    assert asked["1月至8月，清水县接待游客120万人次。"] == "清水县1月至8月接待游客多少人次？"
    assert asked["县里新修了3条旅游公路。"] == "清水县前八个月接待游客多少人次？"
    reader = StandIn({})
    answer(reader, "清水县GDP是多少？", store=FIGURES)
    assert {i.question for i in reader.seen[0]} == {"清水县GDP是多少？"}  # no sentence names it otherwise


REPRINT = make_store(
    {
        "a": ("清水县统计公报", "2023-01-05", ["2022年，清水县新建学校7所。", "县里开通了4条社区公交线路。"]),
        "b": ("清水县经济运行平稳", "2023-01-09", ["县里开通了4条社区公交线路。", "全县新增公交线路共4条。"]),
    }
)


def _on_reprint(reader: StandIn, question: str, threshold: float = 0.6):
    passages = [
        Passage(text="", doc_id="a", score=1.0, chunk_id=0, sentence_ids=[0, 1]),
        Passage(text="", doc_id="b", score=1.0, chunk_id=1, sentence_ids=[2, 3]),
    ]
    return answer(reader, question, threshold=threshold, store=REPRINT, passages=passages)


def test_a_sentence_reprinted_in_another_article_pools_its_probability() -> None:
    # Each copy alone: e^2 / (1 + 2e^2 + ...) = 0.47, under the threshold; together 0.94.
    sentence = "县里开通了4条社区公交线路。"
    reader = StandIn({sentence: 2.0})
    a = _on_reprint(reader, "清水县开通了几条社区公交线路？")
    assert a.answered and a.citations[0].sentence == sentence and len(a.citations) == 1
    assert a.confidence == pytest.approx(2 * math.exp(2) / (1 + 2 * math.exp(2) + 2 * math.exp(-5)), abs=1e-4)


def test_one_short_answer_in_other_words_pools_and_the_best_read_sentence_is_cited() -> None:
    first, other = "县里开通了4条社区公交线路。", "全县新增公交线路共4条。"
    reader = StandIn({first: 1.5, other: 1.8}, {first: "4条", other: "共4条"})  # the figure is the key
    a = _on_reprint(reader, "清水县开通了几条公交线路？")
    assert a.answered and a.citations[0].sentence == other and a.short == "4条"


def test_different_answers_do_not_pool() -> None:
    store = make_store(
        {
            "a": ("清水县统计公报", "2023-01-05", ["县里开通了4条社区公交线路。"]),
            "b": ("清水县经济运行平稳", "2023-01-09", ["全县新增公交线路共5条。"]),
        }
    )
    reader = StandIn({"县里开通了4条社区公交线路。": 1.8, "全县新增公交线路共5条。": 1.8})
    reader.spans = {"县里开通了4条社区公交线路。": "4条", "全县新增公交线路共5条。": "5条"}
    passages = [Passage(text="", doc_id="a", score=1.0, chunk_id=0, sentence_ids=[0, 1])]
    a = answer(reader, "清水县开通了几条公交线路？", threshold=0.6, store=store, passages=passages)
    assert not a.answered and a.confidence == pytest.approx(math.exp(1.8) / (1 + 2 * math.exp(1.8)), abs=1e-4)


def test_a_ruled_out_sentence_lends_no_probability_to_its_answer() -> None:
    store = make_store(
        {"c": ("清水县学校", "2023-11-02", ["2022年，清水县新建学校7所。", "2023年，清水县新建学校7所。"])}
    )
    spans = {"2022年，清水县新建学校7所。": "7所", "2023年，清水县新建学校7所。": "7所"}
    reader = StandIn({"2022年，清水县新建学校7所。": 0.0, "2023年，清水县新建学校7所。": 4.0}, spans)
    passages = [Passage(text="", doc_id="c", score=1.0, chunk_id=0, sentence_ids=[0, 1])]
    a = answer(reader, "2022年清水县新建了多少所学校？", threshold=0.45, store=store, passages=passages)
    # The 2023 sentence is ruled out: it neither lends to nor borrows from the 2022 one, which
    # keeps its own e^0 / (1 + e^0) = 0.5 and is the one cited.
    assert a.answered and a.confidence == pytest.approx(0.5, abs=2e-3)
    assert [c.sentence for c in a.citations] == ["2022年，清水县新建学校7所。"]
