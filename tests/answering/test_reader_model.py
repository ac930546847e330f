"""How a candidate becomes the reader's input row, and how spans are read off the head."""

from __future__ import annotations

import pytest
import torch

from dadong_qa.answering.reader.e5 import Tokenizer, load_file
from dadong_qa.answering.reader.model import Batch, Limits, ReaderInput, as_trained, best_span, encode


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(load_file())


def test_row_layout_marks_the_sentence(tokenizer: Tokenizer) -> None:
    item = ReaderInput("产量是多少？", "全年产量46万辆。", before="汽车是支柱产业。", title="大东区经济")
    row = encode(tokenizer, item, Limits())
    assert row.ids[0] == tokenizer.bos and row.ids[-1] == tokenizer.eos
    sentence = [i for i, t in enumerate(row.types) if t == 1]
    assert sentence == list(range(row.first, row.first + len(row.spans)))
    assert "".join(item.sentence[a:b] for a, b in row.spans) == item.sentence


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("产量是多少", "产量是多少？"),
        ("京东MALL什么时候开业啊", "京东MALL什么时候开业啊？"),
        ("周一开门吗。", "周一开门吗？"),
        ("几点开门!! ", "几点开门？"),
        ("产量是多少?", "产量是多少?"),  # a question mark of either width stays as typed
        ("产量是多少？", "产量是多少？"),
        ("臺北市人口有多少", "台北市人口有多少？"),  # simplified, as the reader was trained
        ("色当会战  哪天开打", "色当会战哪天开打？"),  # no space between Chinese characters
        ("二〇二二年产量是多少", "2022年产量是多少？"),  # years in digits
        ("产量是多少😂👍🏻", "产量是多少？"),  # no emoji
        ("❤️产量是多少？", "产量是多少？"),
        ("iPhone 15 多少钱", "iPhone 15 多少钱？"),  # but between Latin words and digits
    ],
)
def test_a_question_is_read_ending_in_a_question_mark(typed: str, read: str) -> None:
    assert as_trained(typed) == read


def test_a_question_typed_without_its_mark_is_the_same_row(tokenizer: Tokenizer) -> None:
    typed, asked = (ReaderInput(q, "全年产量46万辆。", title="大东区经济") for q in ("产量是多少", "产量是多少？"))
    assert encode(tokenizer, typed, Limits()) == encode(tokenizer, asked, Limits())


def test_a_traditional_sentence_is_read_in_simplified_characters_offset_for_offset(tokenizer: Tokenizer) -> None:
    traditional = ReaderInput("臺灣鐵路全長多少公里？", "臺灣鐵路全長約1065公里。", title="臺灣鐵路")
    simple = ReaderInput("台湾铁路全长多少公里？", "台湾铁路全长约1065公里。", title="台湾铁路")
    assert encode(tokenizer, traditional, Limits()) == encode(tokenizer, simple, Limits())


def test_context_gives_way_to_the_sentence_when_a_row_is_too_long(tokenizer: Tokenizer) -> None:
    long_before = "这是前一句很长的背景介绍。" * 20
    item = ReaderInput("问题？", "答案句子有一个数字12万人。", before=long_before, title="标题" * 30)
    limits = Limits(max_len=40, question=10, title=8, before=20)
    row = encode(tokenizer, item, limits)
    assert len(row.ids) <= 40
    assert "".join(item.sentence[a:b] for a, b in row.spans) == item.sentence  # the sentence is whole


def test_a_sentence_longer_than_a_row_is_cut_at_the_end(tokenizer: Tokenizer) -> None:
    item = ReaderInput("问题？", "很长的句子" * 100)
    row = encode(tokenizer, item, Limits(max_len=32))
    assert len(row.ids) == 32 and row.spans[-1][1] < len(item.sentence)


def test_best_span_stays_inside_the_sentence_and_its_length_limit(tokenizer: Tokenizer) -> None:
    row = encode(tokenizer, ReaderInput("问题？", "沈阳市大东区二〇二二年的产值是九百四十亿元。"), Limits())
    batch = Batch.of([row])
    width = batch.ids.shape[1]
    start = torch.full((width,), -1e4)
    end = torch.full((width,), -1e4)
    start[row.first + 2] = 5.0
    end[row.first + 1] = 9.0  # before the start: not allowed
    end[row.first + 4] = 3.0
    pick = best_span(start, end, row, max_pieces=3)
    assert (pick.first, pick.last) == (2, 4)
    assert (pick.start, pick.end) == (row.spans[2][0], row.spans[4][1])
    assert best_span(start, end, row, max_pieces=2).last - 2 < 2


def test_a_long_sentence_is_read_where_the_question_words_are(tokenizer: Tokenizer) -> None:
    sentence = "，".join(["前面的内容与问题无关"] * 12 + ["全区整车产量超46万辆"] + ["后面的内容也无关"] * 6) + "。"
    row = encode(tokenizer, ReaderInput("整车产量是多少？", sentence), Limits(max_len=48))
    read = sentence[row.spans[0][0] : row.spans[-1][1]]
    assert "整车产量超46万辆" in read and not read.startswith("前面")
