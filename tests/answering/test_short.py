"""Short answers: the reader's span, checked and completed for the kind of answer asked for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.answering.reader import SpanGuess
from dadong_qa.answering.short import as_asked, short_answer, wants_long_spans


def guesses(sentence: str, *texts: str) -> list[SpanGuess]:
    """Span-head guesses for the given substrings, best first."""
    out = []
    for n, text in enumerate(texts):
        at = sentence.index(text)
        out.append(SpanGuess(at, at + len(text), 10.0 - n))
    return out


def test_a_figure_is_widened_to_its_unit_and_qualifier() -> None:
    sentence = "全年整车产量超46万辆，同比增长6%。"
    found = short_answer("整车产量是多少？", sentence, guesses(sentence, "46万"))
    assert found is not None and found.text == "超46万辆" and found.kind == "figure"


@pytest.mark.parametrize(
    ("question", "guess", "expected"),
    [
        ("上半年地区生产总值是多少？", "2023年上半年，示例区实现地区生产总值480亿元", "480亿元"),  # not the date
        ("上半年地区生产总值是多少？", "480亿元，同比增长5.5%", "480亿元"),  # not the growth after it
        ("1-6月整车产量是多少？", "1-6月，整车产量25万辆", "25万辆"),  # 6月 is a date
        ("示例区实现地区生产总值480亿元，增长了多少？", "480亿元，同比增长5.5%", "5.5%"),  # stated
        (
            "示例区实现地区生产总值480亿元，比上年变动了多少？",
            "480亿元，同比增长5.5%",
            "同比增长5.5%",
        ),  # the change told
    ],
)
def test_a_long_guess_gives_the_figure_it_overlaps(question: str, guess: str, expected: str) -> None:
    sentence = f"据统计，{guess}。"
    found = short_answer(question, sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected


def test_a_figure_in_the_unit_asked_is_preferred_to_the_guessed_one() -> None:
    sentence = "中海汇德里、龙湖云璟等13万平方米2292套人才公寓加快建设。"
    found = short_answer("人才公寓建了多少平方米？", sentence, guesses(sentence, "2292套"))
    assert found is not None and found.text == "13万平方米"
    found = short_answer("人才公寓建了多少套？", sentence, guesses(sentence, "2292套"))
    assert found is not None and found.text == "2292套"
    sentence = "新增企业93家，建成3个园区。"  # a counting word: the span head's figure stands
    found = short_answer("新增多少个企业？", sentence, guesses(sentence, "93家"))
    assert found is not None and found.text == "93家"


def test_a_how_long_question_keeps_a_duration() -> None:
    sentence = "这项工程历时3年完成。"
    found = short_answer("这项工程用了多少年？", sentence, guesses(sentence, "3年"))
    assert found is not None and found.text == "3年"


def test_a_figure_question_skips_guesses_without_a_figure() -> None:
    sentence = "苹果节期间，示例县共接待游客12万人次。"
    found = short_answer("苹果节接待游客多少人次？", sentence, guesses(sentence, "示例县", "12万人次"))
    assert found is not None and found.text == "12万人次"


def test_no_short_answer_when_no_guess_is_of_the_asked_kind() -> None:
    sentence = "苹果节期间，示例县共接待游客若干。"
    assert short_answer("苹果节接待游客多少人次？", sentence, guesses(sentence, "示例县", "若干")) is None


def test_a_rank_question_takes_a_rank() -> None:
    sentence = "大东区连续五年入选全国工业百强区，排名第36位。"
    found = short_answer("大东区在全国工业百强区排名第几？", sentence, guesses(sentence, "连续五年", "36"))
    assert found is not None and found.text == "第36位" and found.kind == "rank"


MOVED = "连续五年入选“全国工业百强区”，排名从49名跃升至36名。"


@pytest.mark.parametrize(
    ("sentence", "question", "guess", "expected"),
    [
        ("大东区在全国工业百强区排名由第49名跃升至第36名。", "排名第几？", "第49名跃升至第36名", "第36名"),
        ("该校排名从第5位降到第8位。", "排名第几？", "第5位降到第8位", "第8位"),
        ("两队分列第3名和第5名。", "排名第几？", "第3名和第5名", "第3名和第5名"),  # two ranks, not a move
        (MOVED, "排名第几？", "49名", "36名"),  # the rank reached, whichever end the span head found
        (MOVED, "排名进步了多少名？", "49名", "49名跃升至36名"),  # how far it moved: the move as written
        (MOVED, "排名上升了几位？", "36名", "49名跃升至36名"),
    ],
)
def test_a_rank_that_moved_is_the_rank_reached_or_the_move(
    sentence: str, question: str, guess: str, expected: str
) -> None:
    found = short_answer(question, sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected and found.kind == "rank"


@pytest.mark.parametrize(
    ("guess", "expected"),
    [("1990年5", "1990年5月"), ("990年", "1990年"), ("1990", "1990年"), ("1990年", "1990年")],
)
def test_a_date_is_completed_where_the_guess_cuts_it_and_no_further(guess: str, expected: str) -> None:
    sentence = "图书馆于1990年5月动工，1995年开放。"
    found = short_answer("图书馆哪一年动工？", sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected and found.kind == "date"


def test_a_time_no_date_pattern_reads_is_kept_as_guessed() -> None:
    sentence = "新疆的行政制度到了光绪十年才与内地一样。"
    found = short_answer("新疆的制度什么时候与内地一样？", sentence, guesses(sentence, "光绪十年"))
    assert found is not None and found.text == "光绪十年"
    assert short_answer("新疆的制度什么时候与内地一样？", sentence, guesses(sentence, "新疆")) is None


@pytest.mark.parametrize(
    ("sentence", "question", "guess", "expected"),
    [
        ("果实长约15至20厘米。", "果实有多长？", "15", "约15至20厘米"),  # a range
        ("男女生比例约为1：7。", "男女生比例是多少？", "1：7", "1：7"),  # a ratio
        ("巴黎第四区面积为1.601 km²。", "面积是多少？", "1.601", "1.601 km²"),  # a Latin unit
        ("新纪录为3分33秒62。", "新纪录是多少？", "3分", "3分33秒62"),  # a time in parts
        ("44个县遭灾，死亡多达89万人。", "灾难造成多少人死亡？", "44个县遭灾，死亡多达89万人", "多达89万人"),
        ("汽车产业产值达1730亿元。", "汽车产业产值是多少？", "达1730亿元", "1730亿元"),  # 达 bounds nothing
        ("整车产量超46万辆。", "整车产量是多少？", "46万辆", "超46万辆"),  # 超 does
        # Every counting word ends a figure (spans.MEASURE_WORDS, shared with figures.py).
        ("在此监禁者主要分为两类：政治犯和刑事犯。", "在此监禁者分为几类？", "两", "两类"),
        ("该县共有7处发射基地。", "该县共有几处发射基地？", "7", "7处"),
        # A bound written after the figure is part of it unless the question says the bound.
        ("推动2000套以上人才公寓投入使用。", "示例区的人才公寓有多少套？", "2000套", "2000套以上"),
        ("示例市的无霜期为120天左右。", "示例市的无霜期有多少天？", "120天", "120天左右"),
        ("荒漠的降雨量在300公厘以下。", "降雨量低于多少公厘？", "300公厘", "300公厘"),
        ("海水透明度在30米以上。", "透明度超过多少米？", "30米", "30米"),
        ("2007年举办豪华婚礼，耗资5亿日圆。", "婚礼耗资多少日圆？", "5亿", "5亿日圆"),  # a currency ends it
        ("飞弹分为两类：36枚远程拦截弹和64枚近程拦截弹。", "飞弹分为几类？", "两类：36枚", "两类"),  # no ratio
        # 余 / 多 after the multiplier as well as before it
        ("高效办理企业、市民诉求5万余件。", "办理了多少件诉求？", "5万余件", "5万余件"),
        ("发放各类科技专项补助4500余万元。", "发放了多少补助？", "4500余万元", "4500余万元"),
        ("全日制在校生1.3万余人。", "在校生有多少人？", "1.3万", "1.3万余人"),
    ],
)
def test_a_figure_is_read_whole(sentence: str, question: str, guess: str, expected: str) -> None:
    found = short_answer(question, sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected


def test_a_title_keeps_its_marks() -> None:
    sentence = "他在1990年出版了《城南旧事》一书。"
    found = short_answer("他写了哪本书？", sentence, guesses(sentence, "城南旧事"))
    assert found is not None and found.text == "《城南旧事》"


def test_what_the_question_states_is_not_its_answer() -> None:
    sentence = "2022年，清水县地区生产总值320亿元，同比增长5%。"
    found = short_answer("清水县2022年地区生产总值是多少？", sentence, guesses(sentence, "2022年", "320亿元"))
    assert found is not None and found.text == "320亿元"


def test_punctuation_at_the_edges_is_trimmed() -> None:
    sentence = "工厂位于沈阳市，占地100公顷。"
    found = short_answer("工厂位于哪里？", sentence, guesses(sentence, "沈阳市，"))
    assert found is not None and found.text == "沈阳市"


@pytest.mark.parametrize(
    ("sentence", "guess", "expected"),
    [
        ("正德五年（1510年）十月，刘六、刘七在霸州起义。", "正德五年（1510年", "正德五年（1510年）"),  # closed
        (
            "一家名为希尔夏品牌（Hillshire Brands），主要在北美营运。",
            "希尔夏品牌（Hillshire",
            "希尔夏品牌（Hillshire Brands）",
        ),
        ("（今河南）洛阳是东周的都城。", "（今河南）洛阳", "（今河南）洛阳"),  # an aside it holds whole stays
        ("其一（正德年间）建成，其二毁于战火。", "正德年间）建成", "建成"),  # the aside it began inside is left out
        (
            "负责为旗下组合（包括甲、乙、丙、丁、戊、己、庚、辛、壬、癸、子、丑、寅、卯、辰、巳、午、未）出版唱片。",
            "旗下组合（包括甲",
            "旗下组合（包括甲",
        ),  # an aside that runs on stays as the span head cut it
    ],
)
def test_a_span_cuts_no_bracketed_aside_in_two(sentence: str, guess: str, expected: str) -> None:
    found = short_answer("说的是什么？", sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected


def test_a_yes_no_question_gets_the_clause_that_says_it() -> None:
    sentence = "本馆每周二至周日开放，每周一闭馆，节假日照常开放。"
    found = short_answer("周一开门吗？", sentence, guesses(sentence, "周日"))
    assert found is not None and found.text == "每周一闭馆" and found.kind == "clause"


@pytest.mark.parametrize("question", ["", "   "])
def test_no_short_answer_for_an_empty_question(question: str) -> None:
    sentence = "苹果节共接待游客12万人次。"
    assert short_answer(question, sentence, guesses(sentence, "12万人次")) is None


@pytest.mark.parametrize("question", ["为什么苹果节游客多？", "苹果节办得怎么样？", "请介绍苹果节"])
def test_a_why_or_how_question_gets_the_span_as_guessed(question: str) -> None:
    sentence = "因为果子甜，苹果节共接待游客12万人次。"
    found = short_answer(question, sentence, guesses(sentence, "因为果子甜，"))
    assert found is not None and found.text == "因为果子甜" and found.kind == "span"
    assert short_answer(question, sentence, []) is None
    assert wants_long_spans(question) and not wants_long_spans("苹果节接待游客多少人次？")


def test_full_width_text_is_quoted_as_written() -> None:
    sentence = "示例县去年地区生产总值完成１２５亿元。"
    found = short_answer("示例县去年地区生产总值是多少？", sentence, guesses(sentence, "１２５亿"))
    assert found is not None and found.text == "１２５亿元" == sentence[found.start : found.end]


_CHARS = list("示例县年月亿元万辆约超第名位《》“”，。的是在0123456789%人沈阳市ＡＢ１２")


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(_CHARS), min_size=1, max_size=40),
    st.sampled_from(["多少？", "哪一年成立？", "是谁？", "叫什么？", "排名第几？", "开门吗？", "哪本书？"]),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=4),
)
def test_short_answers_are_always_verbatim_slices(sentence: str, question: str, pairs: list[tuple[int, int]]) -> None:
    spans = [SpanGuess(min(a, b) % (len(sentence) + 1), max(a, b) % (len(sentence) + 1), 1.0) for a, b in pairs]
    found = short_answer(question, sentence, spans)
    if found is not None:
        assert sentence[found.start : found.end] == found.text and found.text.strip()


def test_the_whole_sentence_is_no_short_answer() -> None:
    sentence = "因为果子甜，游客多。"
    assert short_answer("为什么游客多？", sentence, guesses(sentence, "因为果子甜，游客多。")) is None


@pytest.mark.parametrize(
    ("figure", "question", "shown"),
    [
        ("同比增长15.2%", "一般公共预算收入增长多少？", "15.2%"),
        ("同比增加23个", "项目增加了多少？", "23个"),
        ("同比增长15.2%", "一般公共预算收入的增速是多少？", "同比增长15.2%"),  # the question says no change word
        ("112.1亿元", "一般公共预算收入增长多少？", "112.1亿元"),
    ],
)
def test_a_figure_leaves_out_the_change_words_the_question_says(figure: str, question: str, shown: str) -> None:
    assert as_asked(figure, question) == shown


@pytest.mark.parametrize(
    ("guess", "expected"),
    [
        ("“振兴新突破、我要当先锋", "“振兴新突破、我要当先锋”"),  # the closing quote comes next: taken in
        ("振兴新突破、我要当先锋”", "“振兴新突破、我要当先锋”"),
        ("“振兴新突破", "振兴新突破"),  # the partner is further on: the lone mark left out
        ("《大东区实施方案", "《大东区实施方案》"),  # a title is given whole
    ],
)
def test_quotes_and_title_marks_come_in_pairs(guess: str, expected: str) -> None:
    sentence = "以“振兴新突破、我要当先锋”的奋进之势，出台《大东区实施方案》。"
    found = short_answer("大东区的口号是什么？", sentence, guesses(sentence, guess))
    assert found is not None and found.text == expected


def test_a_time_of_day_does_not_end_the_clause_that_says_yes_or_no() -> None:
    sentence = "示例县博物馆每周二至周日9:00-17:00开放，每周一闭馆。"
    found = short_answer("博物馆周日开放吗？", sentence, ())
    assert found is not None and found.text == "示例县博物馆每周二至周日9:00-17:00开放"


@pytest.mark.parametrize(
    ("question", "guess", "expected"),
    [
        ("博物馆每周几闭馆？", "一", "每周一"),  # the day, not the numeral
        ("博物馆星期几开放？", "二", "每周二至周日"),  # a run of days is one answer
    ],
)
def test_a_day_of_the_week_question_gets_the_day(question: str, guess: str, expected: str) -> None:
    sentence = "示例县博物馆每周二至周日9:00-17:00开放，每周一闭馆。"
    at = sentence.index("周" + guess) + 1
    found = short_answer(question, sentence, (SpanGuess(at, at + len(guess), 5.0),))
    assert found is not None and found.text == expected


def test_a_day_of_the_week_is_cut_from_a_guess_that_runs_on() -> None:
    sentence = "示例县博物馆每周二至周日9:00-17:00开放，每周一闭馆，法定节假日照常开放。"
    at = sentence.index("一闭馆")
    found = short_answer("博物馆每周几闭馆？", sentence, (SpanGuess(at, len(sentence) - 1, 5.0),))
    assert found is not None and found.text == "每周一"


def test_no_place_where_the_sentence_only_points_at_it() -> None:
    sentence = "一辆辆崭新的X3新能源车将从这里出发进入国际市场。"
    assert short_answer("X3新能源车从哪里出发？", sentence, guesses(sentence, "国际市场")) is None
    # a pointer back at a place the sentence named leaves the named place the answer
    sentence = "游击队前往小龙冈，以该地作为反攻的基地。"
    found = short_answer("被当做是反攻基地的是哪个地方？", sentence, guesses(sentence, "小龙冈"))
    assert found is not None and found.text == "小龙冈"
