"""Read the source: the whole article with the cited sentence highlighted, over HTTP too."""

from __future__ import annotations

import urllib.error
import urllib.request

from conftest import make_store
from dadong_qa.app.article_page import article_link, article_page, render_article
from dadong_qa.schema import Document, Sentence

TEXT = "第一段<b>第一句</b>。第一段第二句。\n第二段唯一一句 & 结束。"


def _doc(**kw) -> Document:
    base = {"doc_id": "d/1", "title": "标题<script>x</script>", "text": TEXT, "date": "2022-12-21"}
    return Document(**(base | kw))


SENTENCES = [
    Sentence(sid, "d/1", start, end, TEXT[start:end]) for sid, (start, end) in enumerate([(0, 14), (14, 21), (22, 35)])
]


def test_every_paragraph_is_shown_and_the_cited_sentence_marked():
    page = render_article(_doc(), SENTENCES, highlight=1)
    assert page.count("<p>") == 2
    assert '<mark id="s1">第一段第二句。</mark>' in page
    assert '<span id="s0">第一段&lt;b&gt;第一句&lt;/b&gt;。</span>' in page  # the article's markup is text
    assert "&amp; 结束" in page and "<script>x" not in page and "scrollIntoView" in page
    assert "2022-12-21" in page


def test_meta_shows_author_source_and_only_web_links():
    page = render_article(_doc(author="记者甲", source="某报", url="https://a.example/x?y=1&z=2"), SENTENCES, None)
    assert "作者：记者甲" in page and "来源：某报" in page
    assert 'href="https://a.example/x?y=1&amp;z=2"' in page and "<mark" not in page
    assert "href" not in render_article(_doc(url="javascript:alert(1)", date=None), SENTENCES, None)
    assert "日期不详" in render_article(_doc(date=None), SENTENCES, None)


def test_link_quotes_the_article_id():
    assert article_link("d/1 x", 7) == "/article/d%2F1%20x?s=7#s7"


def test_an_article_no_longer_indexed_is_a_404_with_a_message():
    store = make_store({"a": ("标题", None, ["一句。"])})
    page, status = article_page(store, "gone", 3)
    assert status == 404 and "已被删除" in page
    page, status = article_page(store, "a", 0)
    assert status == 200 and '<mark id="s0">一句。</mark>' in page


def test_the_server_serves_the_cited_article(served_app):
    url, qa = served_app
    answer = qa.ask("青松湖湿地公园2024年接待了多少游客？")
    cite = answer.citations[0]
    with urllib.request.urlopen(url.rstrip("/") + article_link(cite.doc_id, cite.sentence_id), timeout=30) as r:
        page = r.read().decode("utf-8")
    assert r.status == 200 and f'<mark id="s{cite.sentence_id}">' in page and cite.sentence in page
    try:
        urllib.request.urlopen(url.rstrip("/") + article_link("no-such-article", 0), timeout=30)
        raise AssertionError("a missing article must be a 404")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
