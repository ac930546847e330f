"""Read the source: the whole cleaned article, with the cited sentence highlighted.

A citation in the chat links to `/article/{doc_id}?s={sentence_id}`; the page shows the title,
date, author, source and the web address the article came from, then its paragraphs with the
cited sentence marked and scrolled into view, so a reader checks the context in one click.
Everything on the page comes from article files, so all of it is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import quote

from dadong_qa.schema import Document, Sentence

ARTICLE_PATH = "/article"
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
  line-height: 1.8; color: #1f2937; }
h1 { font-size: 1.4em; line-height: 1.4; }
.meta { color: #6b7280; font-size: 0.95em; }
mark { background: #fde68a; padding: 0 2px; scroll-margin-top: 40vh; }
p { margin: 0.8em 0; }
"""


class ArticleStore(Protocol):
    """What the page reads from an index."""

    sentences: Mapping[int, Sentence]

    def doc_meta(self, doc_id: str) -> Document: ...
    def doc_sentence_ids(self, doc_id: str) -> list[int]: ...


def article_page(store: ArticleStore, doc_id: str, highlight: int | None) -> tuple[str, int]:
    """(HTML, HTTP status) of the page for `doc_id`: 404 with a message when it is not indexed."""
    try:
        doc = store.doc_meta(doc_id)
    except KeyError:
        return not_found_page(doc_id), 404
    sentences = [store.sentences[sid] for sid in store.doc_sentence_ids(doc_id)]
    return render_article(doc, sentences, highlight), 200


def article_link(doc_id: str, sentence_id: int) -> str:
    """The page of `doc_id` with sentence `sentence_id` highlighted."""
    return f"{ARTICLE_PATH}/{quote(doc_id, safe='')}?s={sentence_id}#s{sentence_id}"


def render_article(doc: Document, sentences: list[Sentence], highlight: int | None) -> str:
    """The article as a standalone HTML page; `highlight` is the id of the sentence to mark."""
    body = "".join(f"<p>{_paragraph(doc.text, para, sentences, highlight)}</p>" for para in _paragraphs(doc.text))
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_esc(doc.title or '无标题')}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_esc(doc.title or '无标题')}</h1>{_meta(doc)}{body}"
        # the anchor scrolls there too; this keeps it in the middle of the window
        "<script>document.querySelector('mark')?.scrollIntoView({block: 'center'});</script>"
        "</body></html>"
    )


def not_found_page(doc_id: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>文章不存在</title></head>'
        f"<body><p>索引中没有这篇文章（{_esc(doc_id)}）：它可能已被删除或替换。请回到问答页重新提问。</p></body></html>"
    )


def _meta(doc: Document) -> str:
    parts = [doc.date or "日期不详"]
    parts += [f"作者：{doc.author}"] if doc.author else []
    parts += [f"来源：{doc.source}"] if doc.source else []
    line = " · ".join(_esc(p) for p in parts)
    if doc.url and doc.url.startswith(("http://", "https://")):
        href = html.escape(doc.url, quote=True)
        line += f' · <a href="{href}" rel="noopener noreferrer" target="_blank">原文链接</a>'
    return f'<div class="meta">{line}</div>'


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty line of the cleaned text (paragraphs are joined by "\\n")."""
    out, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((start, start + len(line)))
        start += len(line) + 1
    return out


def _paragraph(text: str, span: tuple[int, int], sentences: list[Sentence], highlight: int | None) -> str:
    """One paragraph, each sentence in it addressable (id="s{sid}"), the highlighted one marked."""
    start, end = span
    pieces, at = [], start
    for s in sentences:
        if s.start < start or s.end > end:
            continue
        pieces.append(_esc(text[at : s.start]))
        tag = "mark" if s.sid == highlight else "span"
        pieces.append(f'<{tag} id="s{s.sid}">{_esc(text[s.start : s.end])}</{tag}>')
        at = s.end
    pieces.append(_esc(text[at:end]))
    return "".join(pieces)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
