"""How answers look in the chat and as plain text (no server)."""

from __future__ import annotations

from conftest import sample_answer
from dadong_qa.app.chat_render import (
    _citation_html,
    answer_messages,
    esc,
    plain_text,
    render_answer,
    render_sources,
)
from dadong_qa.schema import Answer, AnswerPart, Citation, Claim, Conflict, Passage

_answer = sample_answer


def test_esc_neutralises_html_and_markdown() -> None:
    out = esc('<img src=x onerror="1">**粗体** [链接](javascript:x) `代码` $x$')
    for raw in ("<", ">", "**", "[", "](", "`", "$"):
        assert raw not in out


def test_answer_is_escaped_and_cites_with_markers() -> None:
    html = render_answer(_answer())
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert '<sup class="dq-ref">[1]</sup>' in html
    assert 'class="dq-answer"' in html and "dq-refusal" not in html


def test_short_answer_comes_first_in_bold_and_escaped() -> None:
    html = render_answer(_answer(short="2座<i>"))
    assert html.index('class="dq-short"') < html.index('<sup class="dq-ref">')
    assert "<b>2座&lt;i&gt;</b>" in html
    assert "dq-short" not in render_answer(_answer())


def test_a_hint_without_passages_is_no_amber_refusal() -> None:
    hint = Answer(text="请用中文提问。", answered=False)
    messages = answer_messages(hint)
    assert len(messages) == 1 and "dq-hint-only" in messages[0]["content"]
    assert "dq-refusal" not in messages[0]["content"]


def test_streaming_prefix_renders_only_part_of_the_text() -> None:
    partial = render_answer(_answer(), upto=4)
    assert "甲地今年" in partial and "新桥" not in partial


def test_sources_highlight_the_cited_sentence_in_its_passage() -> None:
    html = render_sources(_answer(rewritten_question="甲地<今年>建成几座桥？"))
    assert "<mark>" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert "前一句。<mark>甲地今年建成&lt;b&gt;新桥&lt;/b&gt;2座。</mark>后一句" in html
    assert "*" not in html.replace("&#42;", "")  # Markdown emphasis in article text stays literal
    assert "甲地&lt;今年&gt;建成几座桥？" in html  # the rewritten question is shown, escaped
    assert "2025&#45;01&#45;02" in html


def test_refusal_looks_different_and_lists_closest_passages() -> None:
    passage = Passage(text="最接近的一段话。", doc_id="d1", score=0.3, title="某文", date=None)
    refusal = _answer(text="现有资料中没有找到能回答“问题”的内容。", answered=False, citations=[], passages=[passage])
    msgs = answer_messages(refusal)
    assert 'class="dq-refusal"' in msgs[0]["content"] and "dq-answer" not in msgs[0]["content"]
    assert "最接近的一段话。" in msgs[1]["content"]
    assert "未找到答案" in msgs[1]["metadata"]["title"]
    assert msgs[1]["metadata"]["status"] == "done"  # collapsed until opened


CONFLICT = Conflict(
    quantity="地区生产总值",
    period="2022年",
    claims=[
        Claim("940亿元", 1, "a", "甲报<道>", "2022-12-21"),
        Claim("10000亿元", 2, "b", "乙报", "2023-01-10"),
    ],
)


def test_conflict_banner_reads_the_structured_conflict() -> None:
    html = render_answer(_answer(text="注意：不同来源的数字不一致。甲。[1]乙。[2]", conflict=CONFLICT))
    banner = html[html.index('class="dq-conflict"') : html.index("</ul>")]
    assert "不一致" in banner and "地区生产总值" in banner and "2022年" in banner
    assert "940亿元" in banner and "10000亿元" in banner and "2023&#45;01&#45;10" in banner
    assert "甲报&lt;道&gt;" in banner and '<sup class="dq-ref">[2]</sup>' in banner
    assert "注意：不同来源" not in html  # the banner says it; the text prefix is not repeated
    assert "dq-conflict" not in render_answer(_answer())  # no conflict, no banner


def test_apostrophes_and_quotes_show_as_themselves() -> None:
    # Escaping HTML first and Markdown after turned "'" into a visible "&#x27;".
    out = esc("Tom's \"Café\" 1.5")
    assert out == "Tom&#39;s &#34;Café&#34; 1&#46;5"
    assert "&#35;" not in esc("'\"&<>")  # no entity is escaped twice


def test_plain_text_has_no_html_and_lists_the_citations() -> None:
    answer = _answer(short="2座", period="2025年", conflict=CONFLICT)
    text = plain_text(answer)
    for markup in ("<div", "<sup", "<mark", "dq-", "&#", "&lt;", "&amp;"):
        assert markup not in text  # the sources' own characters stay as they are, verbatim
    lines = text.splitlines()
    assert lines[0] == "2座（2025年）"
    assert "地区生产总值" in lines[1] and "940亿元" in lines[1] and "10000亿元" in lines[1]
    assert lines[-2] == "来源："
    assert lines[-1] == "[1] 《标题<script>alert(1)</script>》 2025-01-02：甲地今年建成<b>新桥</b>2座。"


def test_each_answer_carries_its_plain_text_for_the_copy_button() -> None:
    html = render_answer(_answer(short="2座"))
    assert 'class="dq-copy"' in html
    hidden = html[html.index('<pre class="dq-plain">') + 22 : html.index("</pre>")]
    assert "<" not in hidden and "\n" not in hidden  # escaped, one line: no Markdown block breaks
    assert "dq-copy" not in render_answer(_answer(), upto=4)  # not while streaming


def test_multi_part_answer_lists_each_part_and_the_missing_one() -> None:
    parts = [AnswerPart("甲地建成几座桥？", True, "2座", [1], "2025年"), AnswerPart("乙地呢？", False)]
    html = render_answer(_answer(parts=parts))
    assert html.index('class="dq-parts"') < html.index("甲地今年建成")
    assert "<b>2座</b>" in html and 'class="dq-missing"' in html and "乙地呢：资料中没有找到" in html
    lines = plain_text(_answer(parts=parts)).splitlines()
    assert "· 甲地建成几座桥：2座（2025年）[1]" in lines and "· 乙地呢：资料中没有找到" in lines


def test_citation_links_to_the_whole_article_at_the_sentence() -> None:
    cite = Citation("句子。", "doc/1", "标题", None, sentence_id=7, passage="句子。", period="2022年")
    shown = _citation_html(1, cite)
    assert 'href="/article/doc%2F1?s=7#s7"' in shown and "阅读全文" in shown and "2022年" in shown
    assert "阅读全文" not in _citation_html(1, Citation("句子。", "d", "标题", None))  # no sentence id


def test_a_context_citation_says_so() -> None:
    assert "上下文" in _citation_html(1, Citation("前一句。", "d", "标题", None, context=True))
    assert "上下文" not in _citation_html(1, Citation("句子。", "d", "标题", None))


def test_citation_shows_page_link_and_other_sources() -> None:
    cite = Citation(
        sentence="甲地今年建成新桥2座。",
        doc_id="d1",
        title="标题",
        date=None,
        passage="甲地今年建成新桥2座。",
        page=3,
        url="https://news.example.cn/a?b=1&c=<x>",
        aliases=["另一网站：同一篇<i>稿</i>"],
    )
    shown = _citation_html(1, cite)
    assert "第3页" in shown and 'href="https://news.example.cn/a?b=1&amp;c=&lt;x&gt;"' in shown
    assert "另见" in shown and "<i>" not in shown
    hostile = Citation("句子。", "d1", "标题", None, url="javascript:alert(1)")
    assert "href" not in _citation_html(1, hostile)  # only http(s) addresses become links


