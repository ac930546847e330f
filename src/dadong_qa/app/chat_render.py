"""How an answer looks in the chat, and as plain text for copying.

Everything shown comes from article files or from users, so it is escaped before it reaches
the page (`esc`): article text can never inject HTML or Markdown. The chat's own copy buttons
would copy that HTML source, so the app hides them: each answer carries its plain-text form
(`plain_text`: the answer, then the citations as a list) on its own copy button, and the page
script (`PAGE_SCRIPT`) copies that, builds the conversation's plain text for "复制全部对话", and
gives each message an aria label of its visible text rather than its HTML source.
"""

from __future__ import annotations

import html
import re
from typing import Any

from dadong_qa.answering.answer import CONFLICT_PREFIX
from dadong_qa.app.article_page import article_link
from dadong_qa.schema import Answer, AnswerPart, Citation, Conflict, Passage

CLOSEST_SHOWN = 3  # passages listed under a refusal
_CLOSEST_CHARS = 220

CSS = """
.dq-answer { line-height: 1.7; }
.dq-short { font-size: 1.15em; margin-bottom: 0.2em; }
.dq-period { color: #6b7280; font-size: 0.85em; font-weight: normal; margin-left: 4px; }
.dq-ref { color: #2563eb; font-weight: 600; }
.dq-refusal { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f;
  padding: 8px 12px; border-radius: 6px; }
.dq-refusal .dq-hint { font-size: 0.9em; margin-top: 4px; opacity: 0.85; }
.dq-conflict { border-left: 4px solid #dc2626; background: #fef2f2; color: #991b1b;
  padding: 6px 10px; border-radius: 6px; margin-bottom: 6px; }
.dq-conflict ul { margin: 4px 0 0; font-weight: normal; }
.dq-parts { margin: 2px 0 8px; padding-left: 1.2em; }
.dq-missing { color: #92400e; }
.dq-error { color: #b91c1c; }
.dq-draft { color: #6b7280; font-style: italic; }
.dq-note { color: #6b7280; font-size: 0.85em; margin-top: 4px; }
.dq-plain { display: none; }
.dq-copy { margin-top: 6px; font-size: 0.8em; color: #4b5563; border: 1px solid #d1d5db;
  border-radius: 4px; padding: 1px 8px; background: #fff; cursor: pointer; }
.dq-rewrite { background: #eef2ff; padding: 4px 8px; border-radius: 4px; margin-bottom: 8px; }
.dq-sources { font-size: 14px; color: #1f2937; }
.dq-cite { margin: 8px 0 12px; }
.dq-cite-head { font-weight: 600; }
.dq-meta { color: #6b7280; font-weight: normal; }
.dq-passage { border-left: 3px solid #d1d5db; margin: 4px 0 0; padding: 4px 10px; color: #374151; }
.dq-passage mark { background: #fde68a; color: inherit; padding: 0 2px; }
"""

# Runs in the page (added to <head>). Clicks on an answer's copy button copy its plain text;
# the "copy all" button copies the whole conversation; message aria labels, which Gradio sets
# to the message's HTML source, get the text a reader sees. window.__dqCopied keeps the last
# copied text, for the browser test (headless Chromium has no readable clipboard).
PAGE_SCRIPT = """
<script>
(() => {
  const copy = (text) => {
    window.__dqCopied = text;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).catch(() => {});
      return;
    }
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) {}
    area.remove();
  };
  window.dqConversationText = () => {
    const lines = [];
    document.querySelectorAll('#chat [data-testid="user"], #chat [data-testid="bot"]').forEach((m) => {
      if (m.closest('.thought') || m.querySelector('.thought')) return;
      const plain = m.querySelector('.dq-plain');
      if (m.getAttribute('data-testid') === 'user') lines.push('问：' + m.innerText.trim());
      else if (plain) lines.push('答：' + plain.textContent);
      else if (m.innerText.trim()) lines.push('答：' + m.innerText.trim());
    });
    return lines.join('\\n\\n');
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('.dq-copy');
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    const plain = button.parentElement.querySelector('.dq-plain');
    copy(plain ? plain.textContent : '');
    const label = button.textContent;
    button.textContent = '已复制';
    setTimeout(() => { button.textContent = label; }, 1200);
  }, true);
  window.dqCopyConversation = () => copy(window.dqConversationText());
  const relabel = (el) => {
    const label = el.getAttribute('aria-label') || '';
    const m = label.match(/^(?:(user)'s message: |(bot)'s message: |(问题)：|(回答)：)/);
    if (!m) return;
    const who = (m[1] || m[3]) ? '问题：' : '回答：';
    const button = el.querySelector('.dq-copy');
    const seen = el.innerText.replace(button ? button.innerText : '', '').trim().slice(0, 300);
    if (label !== who + seen) el.setAttribute('aria-label', who + seen);
  };
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      document.querySelectorAll('#chat [aria-label]').forEach(relabel);
    });
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                         attributes: true, attributeFilter: ['aria-label']});
})();
</script>
"""

# One table, applied in one pass: escaping the HTML first and the Markdown after turned the
# "#" of "&#x27;" into "&#35;", and readers saw "Tom&#x27;s" for "Tom's".
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$'\""} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
}
_REF = re.compile(r"&#91;(\d{1,2})&#93;")  # a citation marker "[n]", as `esc` leaves it


def esc(text: Any) -> str:
    """`text` safe to embed in the chat's Markdown/HTML: no tags, no Markdown syntax."""
    return str(text).translate(_ESCAPES)


def _lines(text: str) -> str:
    return "<br>".join(esc(line) for line in text.splitlines())


def _body_text(answer: Answer) -> str:
    """The answer's text without the conflict prefix: the banner says it, from `Answer.conflict`."""
    text = answer.text
    return text[len(CONFLICT_PREFIX) :] if answer.conflict and text.startswith(CONFLICT_PREFIX) else text


# ---------------------------------------------------------------- plain text


def plain_text(answer: Answer) -> str:
    """The answer as plain text: short answer, conflict, parts, text, then the citations as a list."""
    lines = answer_lines(answer)
    if answer.answered and answer.citations:
        lines.append("来源：")
        lines += [
            f"[{n}] 《{c.title or '无标题'}》 {c.date or '日期不详'}：{c.sentence}"
            for n, c in enumerate(answer.citations, 1)
        ]
    return "\n".join(lines)


def answer_lines(answer: Answer) -> list[str]:
    """The answer as the chat shows it, as plain lines: the short answer with the period its figure
    covers ("940亿元（2022年）"), the conflict, the parts, then the text (the CLI's `ask` too)."""
    lines = []
    if answer.short:
        lines.append(answer.short + (f"（{answer.period}）" if answer.period else ""))
    if answer.conflict:
        lines.append(_conflict_line(answer.conflict))
    lines += [_part_line(p) for p in answer.parts]
    lines.append(_body_text(answer))
    return lines


def _conflict_line(conflict: Conflict) -> str:
    claims = "；".join(f"《{c.title}》（{c.date or '日期不详'}）说 {c.figure}" for c in conflict.claims)
    return f"注意：来源之间的数字不一致（{conflict.quantity}，{conflict.period}）：{claims}"


def _part_line(part: AnswerPart) -> str:
    question = part.question.rstrip("？?。")
    if not part.answered:
        return f"· {question}：资料中没有找到"
    refs = "".join(f"[{n}]" for n in part.citations)
    period = f"（{part.period}）" if part.period else ""
    return f"· {question}：{part.short or '见下文'}{period}{refs}"


# ---------------------------------------------------------------- rendering answers


def render_answer(answer: Answer, upto: int | None = None) -> str:
    """The answer bubble, with only the first `upto` characters of the text while streaming."""
    text = _body_text(answer)
    shown = text if upto is None else text[:upto]
    done = upto is None
    notes = "".join(f'<div class="dq-note">{esc(n)}</div>' for n in answer.notes) if done else ""
    copy = _copy_button(answer) if done else ""
    if not answer.answered and not answer.passages:  # a greeting or another language: a hint, no search
        return f'<div class="dq-hint-only">💬 {_lines(shown)}</div>'
    if not answer.answered:
        return (
            f'<div class="dq-refusal">🚫 {_lines(shown)}'
            '<div class="dq-hint">下方“最接近的资料”列出了找到的相关段落；可以换个问法，'
            f"或在“文章管理”中添加文章。</div>{notes}{copy}</div>"
        )
    body = _REF.sub(r'<sup class="dq-ref">[\1]</sup>', _lines(shown))
    if done:
        # The figure or name first, in bold; the evidence sentence(s) with their citations below.
        body = _short_html(answer) + _parts_html(answer.parts) + body
    banner = _conflict_html(answer.conflict) if answer.conflict else ""
    return f'<div class="dq-answer">{banner}{body}{notes}{copy}</div>'


def _copy_button(answer: Answer) -> str:
    """The copy button, with the plain text beside it, hidden (the chat's sanitiser drops data-*
    attributes, so the text travels as an element's content)."""
    plain = esc(plain_text(answer)).replace("\n", "&#10;")  # no raw line break ends the HTML block
    button = '<button class="dq-copy" type="button" title="复制这条回答（纯文本）">复制</button>'
    return f'<pre class="dq-plain">{plain}</pre>{button}'


def _short_html(answer: Answer) -> str:
    if not answer.short:
        return ""
    period = f'<span class="dq-period">（{esc(answer.period)}）</span>' if answer.period else ""
    return f'<div class="dq-short"><b>{esc(answer.short)}</b>{period}</div>'


def _parts_html(parts: list[AnswerPart]) -> str:
    if not parts:
        return ""
    items = []
    for p in parts:
        question = esc(p.question.rstrip("？?。"))
        if not p.answered:
            items.append(f'<li class="dq-missing">{question}：资料中没有找到</li>')
            continue
        refs = "".join(f'<sup class="dq-ref">[{n}]</sup>' for n in p.citations)
        period = f'<span class="dq-period">（{esc(p.period)}）</span>' if p.period else ""
        items.append(f"<li>{question}：<b>{esc(p.short or '见下文')}</b>{period}{refs}</li>")
    return f'<ul class="dq-parts">{"".join(items)}</ul>'


def _conflict_html(conflict: Conflict) -> str:
    claims = "".join(
        f"<li>《{esc(c.title)}》（{esc(c.date or '日期不详')}）：<b>{esc(c.figure)}</b>"
        + (f'<sup class="dq-ref">[{c.citation}]</sup>' if c.citation else "")
        + "</li>"
        for c in conflict.claims
    )
    return (
        '<div class="dq-conflict">⚠️ <b>来源之间的数字不一致</b>'
        f"（{esc(conflict.quantity)}，{esc(conflict.period)}），请对照来源核实：<ul>{claims}</ul></div>"
    )


def _highlight(passage: str, sentence: str) -> str:
    at = passage.find(sentence) if passage else -1
    if at < 0:
        return f"<mark>{_lines(sentence)}</mark>"
    before, after = passage[:at], passage[at + len(sentence) :]
    return f"{_lines(before)}<mark>{_lines(sentence)}</mark>{_lines(after)}"


def _meta(title: str, date: str | None) -> str:
    return f'《{esc(title or "无标题")}》 <span class="dq-meta">{esc(date or "日期不详")}</span>'


def _source_html(c: Citation) -> str:
    """PDF page, web address (a link) and the other sources of the same story, after the title."""
    parts = [f"第{c.page}页"] if c.page else []
    extra = "".join(f'<span class="dq-meta"> · {esc(p)}</span>' for p in parts)
    if c.url and c.url.startswith(("http://", "https://")):
        href = html.escape(c.url, quote=True)
        extra += f' <a class="dq-meta" href="{href}" target="_blank" rel="noopener noreferrer">原文链接</a>'
    if c.aliases:
        extra += f'<div class="dq-meta">另见：{esc("；".join(c.aliases))}</div>'
    return extra


def _read_link(c: Citation) -> str:
    """Opens the whole article with this sentence highlighted (article_page.py)."""
    if c.sentence_id < 0:
        return ""
    href = html.escape(article_link(c.doc_id, c.sentence_id), quote=True)
    return f' <a class="dq-meta dq-read" href="{href}" target="_blank" rel="noopener">阅读全文</a>'


def _citation_html(n: int, c: Citation) -> str:
    period = f'<span class="dq-meta"> · 数字所指：{esc(c.period)}</span>' if c.period else ""
    if c.context:  # cited so that the answer sentence beside it reads whole (answering/context.py)
        period += '<span class="dq-meta"> · 上下文</span>'
    return (
        f'<div class="dq-cite"><div class="dq-cite-head">[{n}] {_meta(c.title, c.date)}{period}'
        f"{_source_html(c)}{_read_link(c)}</div>"
        f'<blockquote class="dq-passage">{_highlight(c.passage, c.sentence)}</blockquote></div>'
    )


def _closest_html(p: Passage) -> str:
    text = p.text if len(p.text) <= _CLOSEST_CHARS else p.text[:_CLOSEST_CHARS] + "……"
    return (
        f'<div class="dq-cite"><div class="dq-cite-head">{_meta(p.title, p.date)}</div>'
        f'<blockquote class="dq-passage">{_lines(text)}</blockquote></div>'
    )


def render_sources(answer: Answer) -> str:
    """The body of the collapsible sources section under an answer."""
    parts = []
    if answer.rewritten_question:
        parts.append(f'<div class="dq-rewrite">结合上文，检索的问题是：<b>{esc(answer.rewritten_question)}</b></div>')
    if answer.answered:
        parts.extend(_citation_html(n, c) for n, c in enumerate(answer.citations, 1))
    else:
        shown = answer.passages[:CLOSEST_SHOWN]
        parts.extend(_closest_html(p) for p in shown)
        if not shown:
            parts.append("<div>索引中没有任何文章。</div>")
    return '<div class="dq-sources">' + "".join(parts) + "</div>"


def sources_title(answer: Answer) -> str:
    if answer.answered:
        return f"📚 来源（{len(answer.citations)} 条引用）"
    return f"📚 最接近的资料（{min(len(answer.passages), CLOSEST_SHOWN)} 段，未找到答案）"


def answer_messages(answer: Answer, upto: int | None = None) -> list[dict[str, Any]]:
    """Chat messages for one answer: the answer, then (when complete) its sources, collapsed."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": render_answer(answer, upto)}]
    if upto is None and (answer.answered or answer.passages):
        messages.append(
            {
                "role": "assistant",
                "content": render_sources(answer),
                "metadata": {"title": sources_title(answer), "status": "done"},
            }
        )
    return messages


def render_draft(text: str) -> str:
    """A generator's unverified text while it is being written (replaced by the checked answer)."""
    return f'<div class="dq-draft">✍️ {_lines(text)}</div>'
