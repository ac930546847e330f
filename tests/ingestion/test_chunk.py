from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.ingestion.chunk import ChunkParams, chunk_document, split_sentences
from dadong_qa.schema import Document
from dadong_qa.text import WORDISH


def _texts(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_splits_on_chinese_punctuation_and_closing_quotes():
    text = "他说：“今年要建10所学校。”随后离开了。真的吗？是的！分两步走；第一步已完成……然后呢"
    assert _texts(text) == [
        "他说：“今年要建10所学校。”",
        "随后离开了。",
        "真的吗？",
        "是的！",
        "分两步走；",
        "第一步已完成……",
        "然后呢",
    ]


def test_tiny_fragments_join_previous_sentence():
    assert _texts("项目全部完工。好。") == ["项目全部完工。好。"]


def test_paragraph_break_ends_sentence():
    assert _texts("第一段没有句号\n第二段。") == ["第一段没有句号", "第二段。"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["大东区", "新建", "12个", "公园", "，", "。", "！", "？", "；", "\n", " ", "“", "”", "abc"]),
        max_size=60,
    )
)
def test_spans_are_verbatim_ordered_and_cover_all_content(parts: list[str]):
    text = "".join(parts)
    spans = split_sentences(text)
    last = 0
    for a, b in spans:
        assert last <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        last = b
    covered = "".join(text[a:b] for a, b in spans)
    assert WORDISH.findall(covered) == WORDISH.findall(text)


def _doc() -> Document:
    body = "第一句。第二句。第三句。第四句。第五句。\n小标题\n第六句说别的。第七句。"
    return Document(doc_id="d", title="t", text=body, headings=[(body.index("小标题"), "小标题")])


def test_chunks_overlap_and_stay_within_sections():
    sentences, chunks = chunk_document(_doc(), first_sid=10, first_cid=100, params=ChunkParams(3, 1, 400))
    assert [s.sid for s in sentences] == list(range(10, 17))
    assert "小标题" not in [s.text for s in sentences]
    assert [c.sentence_ids for c in chunks] == [[10, 11, 12], [12, 13, 14], [15, 16]]
    assert chunks[-1].heading == "小标题" and chunks[0].heading is None
    assert chunks[-1].search_text.startswith("小标题\n")
    for c in chunks:
        assert c.text == _doc().text[sentences[c.sentence_ids[0] - 10].start : sentences[c.sentence_ids[-1] - 10].end]


def test_chunk_respects_max_chars():
    doc = Document(doc_id="d", title="t", text="一" * 50 + "。" + "二" * 50 + "。" + "三" * 50 + "。")
    _, chunks = chunk_document(doc, 0, 0, ChunkParams(3, 1, 120))
    assert all(len(c.text) <= 120 or len(c.sentence_ids) == 1 for c in chunks)
    assert {s for c in chunks for s in c.sentence_ids} == {0, 1, 2}
