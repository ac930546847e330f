"""The question parsed once: terms, years, the kind of fact asked for, unit, plan, answer slot."""

from __future__ import annotations

import pytest

from dadong_qa.retrieval.query import WH_WORD, full_years, parse, parse_question


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("清水县新建了多少所学校？", "quantity"),
        ("图书馆是哪一年建成的？", "time"),
        ("这座桥是谁设计的？", "person"),
        ("华晨宝马工厂在哪里？", "place"),
        ("为什么要发放消费券？", None),
    ],
)
def test_answer_type(question: str, kind: str | None):
    assert parse(question).answer_type == kind


def test_terms_years_and_names():
    q = parse("2023年清水县计划新建多少所学校？")
    assert q.years == {"2023"}
    assert "学校" in q.terms and not any(WH_WORD.search(t) for t in q.terms)
    assert parse_question("2023年清水县计划新建多少所学校？") == (q.terms, q.years)


def test_unit_pattern_accepts_the_asked_unit_and_its_synonyms():
    unit = parse("新建了多少所学校？").unit
    assert unit is not None and unit.search("新建学校7所") and not unit.search("新建学校七座")
    area = parse("公园面积有多少？").unit
    assert area is not None and area.search("占地37.5公顷")
    assert parse("为什么要改造社区？").unit is None


def test_plan_or_done():
    assert parse("明年计划新建几所学校？").wants_plan
    assert parse("去年已经完成了多少投资？").wants_done
    # 了 alone is how people type a question about a plan too ("新增了多少个剧场" of a 2023 plan)
    assert not parse("大东区新增了多少个剧场？").wants_done


def test_slot_is_the_words_around_the_question_word():
    q = parse("若游戏中离，则多少分钟内不得进行配对？")
    assert (q.slot_left, q.slot_right) == ("若游戏中离,则", "分钟内不得进行配对")  # normalised: NFKC
    q = parse("玩家的生命数耗完算作什么？")
    assert (q.slot_left, q.slot_right) == ("玩家的生命数耗完算作", "")
    assert parse("介绍一下图书馆").slot_left == ""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("你好", "greeting"),
        ("您好！", "greeting"),
        ("谢谢你", "greeting"),
        ("Hello!", "greeting"),
        ("What is the GDP of Dadong in 2022?", "not_chinese"),
        ("你好，大东区的GDP是多少？", None),
        ("2022年GDP是多少？", None),
        ("12345", None),
    ],
)
def test_small_talk_is_told_apart_from_questions(text: str, kind: str | None):
    assert parse(text).small_talk == kind


def test_an_estimate_is_neither_plan_nor_outcome_by_its_wording():
    # "预计实现" in a year-end report is the year's estimated outcome; in a January one a forecast.
    q = parse("大东区2022年预计实现的地区生产总值是多少？")
    assert not q.wants_plan
    assert parse("大东区2023年计划实现的地区生产总值是多少？").wants_plan


def test_a_change_is_asked_apart_from_a_level():
    assert parse("大东区2022年地区生产总值增长了多少？").asks_change
    assert not parse("大东区2022年地区生产总值是多少？").asks_change
    assert parse("X5比去年同期多卖了多少台？").asks_change  # a comparison with an earlier time
    assert parse("大东区财政收入涨了多少？").asks_change and parse("房价跌了多少？").asks_change  # as people type it
    assert not parse("X5的销量比例是多少？").asks_change
    assert parse("X5比进口的多卖了多少台？").asks_change  # a comparison with another thing
    assert not parse("他在比赛中得了多少分？").asks_change
    # 增加值 is value added, a level: "…规上工业增加值是多少" was answered with its growth 7.1%.
    assert not parse("大东区规上工业增加值是多少？").asks_change
    assert parse("大东区规上工业增加值增长了多少？").asks_change
    assert parse("大东区新增就业增加了多少？").asks_change


@pytest.mark.parametrize(
    "question", ["大东区前八个月整车产量是多少？", "大东区1至8月整车产量是多少？", "大东区第三季度整车产量是多少？"]
)
def test_the_part_of_the_year_a_question_names_is_no_content_term(question: str):
    q = parse(question)
    assert q.terms == ["大东区", "整车", "产量"] and q.period is not None and q.period.months is not None


def test_a_month_alone_stays_in_the_terms():
    assert "五月" in parse("五月艾是什么植物？").terms  # a name, not a period


@pytest.mark.parametrize(
    ("traditional", "simple"),
    [
        ("大東區規上工業增加值增長了多少", "大东区规上工业增加值增长了多少"),
        ("大東區前八個月整車產量是多少？", "大东区前八个月整车产量是多少？"),
        ("博物館週一開門嗎？", "博物馆周一开门吗？"),
        ("大东区二〇二二年GDP是多少？", "大东区2022年GDP是多少？"),
        ("大东区２０２２年ＧＤＰ是多少？", "大东区2022年GDP是多少？"),  # full-width letters and digits
    ],
)
def test_a_question_is_read_in_simplified_characters_with_years_in_digits(traditional: str, simple: str):
    assert parse(traditional) == parse(simple)
    assert parse(traditional).text == simple


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("大东区22年GDP是多少", "大东区2022年GDP是多少"),
        ("08年北京奥运跳水队的领队是谁？", "2008年北京奥运跳水队的领队是谁？"),
        ("赢得1960年和66年欧洲冠军杯", "赢得1960年和1966年欧洲冠军杯"),
        ("98年抗洪", "1998年抗洪"),  # 2098 is more than a year ahead
    ],
)
def test_two_digit_years_are_read_in_full(typed: str, read: str):
    assert full_years(typed, this_year=2026) == read


@pytest.mark.parametrize(
    "typed",
    [
        "民国16年，马良担任了什么职务？",  # an era's year
        "明治29年台湾总督府补助哪儿的商船？",
        "在《神秘博士》的前15年间，谁是最频繁的音乐贡献者？",  # spans of years
        "为什么尚真王统治的50年被认为是最强盛的时期？",
        "户籍人口的53年后为多少？",
        "他工作了22年",
        "1950、60年代湾仔的红灯区",  # a decade
        "在1620-21年间",  # a range
        "公元前12年至10年的军事哨所",
    ],
)
def test_spans_eras_and_ranges_stay_as_typed(typed: str):
    assert full_years(typed, this_year=2026) == typed


def test_a_two_digit_year_is_a_year_the_rules_see():
    assert parse("大东区21年规上工业增加值增长多少").years == {"2021"}


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("你知道大东区规上工业增加值增长了多少吗？", "大东区规上工业增加值增长了多少？"),
        ("能告诉我大东区新增绿地多少公顷吗", "大东区新增绿地多少公顷？"),
        ("《雪山飞狐》的监制人是谁吗？", "《雪山飞狐》的监制人是谁？"),  # as CMRC train asks it
        ("你知道大东区有博物馆吗？", "大东区有博物馆吗？"),  # a yes/no question stays one
        ("丙烯颜料有毒吗？", "丙烯颜料有毒吗？"),
        ("几乎所有人都去了吗？", "几乎所有人都去了吗？"),  # 几乎 is no question word
        ("你知道吗？", "你知道吗？"),
    ],
)
def test_a_question_is_read_out_of_its_yes_no_frame(typed: str, read: str):
    assert parse(typed).text == read


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("文中提及，麦可杜卡基思曾为哪一州的州长?", "麦可杜卡基思曾为哪一州的州长?"),  # as DRCD asks
        ("文中提到的左派社会主义政府为哪一个人所领导?", "左派社会主义政府为哪一个人所领导?"),
        ("根据文章，大东区GDP是多少？", "大东区GDP是多少？"),
        ("新闻里说大东区GDP是多少？", "大东区GDP是多少？"),
        ("文中列举了哪些美国歌手？", "列举了哪些美国歌手？"),  # the verb stays when it is the question's
        ("本文作者是谁？", "本文作者是谁？"),  # too short to be more than the reference
    ],
)
def test_a_reference_to_the_text_is_not_part_of_the_question(typed: str, read: str):
    assert parse(typed).text == read


def test_how_many_questions_are_told_from_ranks_dates_and_which_ones():
    for q in ("发放了多少张牌照？", "有几个校区？", "开展了多少次活动？", "他几岁登基？", "惠及多少人次？"):
        assert parse(q).asks_count, q
    # a count by its measure word only; not what another question word asks, nor an order
    for q in ("投资多少钱？", "为什么可以几个星期不喝水？", "是高丽王朝的多少任君主？", "被改编成那几种形式？"):
        assert not parse(q).asks_count, q
    not_counts = ("排名第几？", "有哪几座卫星城？", "签了多少年的合约？", "几月开业？", "好几次登榜的是谁？")
    for q in (*not_counts, "几点开门？", "巴西的名次是多少？", "排名多少？"):
        assert not parse(q).asks_count, q


def test_a_name_asked_with_wei_shenme_is_no_why_question():
    assert not parse("次磷酸被列为什么化学品？").asks_reason
    assert parse("次磷酸为什么被列为易制毒化学品？").asks_reason
    assert parse("中文名称为什么又叫佐顿谷南道？").asks_reason
