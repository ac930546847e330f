"""The chat web app: questions with streamed, cited answers, and a tab to manage the articles.

One `QA` object serves every user of the process: its index is loaded once, and corpus
changes swap in a complete new index version, so a question never reads a half-written one.
Writes (upload, remove, rebuild) run one at a time; questions run `Settings.concurrency` at
a time.

Everything shown comes from article files or from users, so it is escaped before it reaches
the page (`esc`): article text can never inject HTML or Markdown.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import gradio as gr

from .answer import CONFLICT_PREFIX
from .api import QA, ChangeReport, QuestionError
from .index import IndexStoreError
from .rewrite import user_questions
from .schema import Answer, Citation, Passage

log = logging.getLogger(__name__)

TITLE = "大东区新闻问答"
SUPPORTED_UPLOADS = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
WRITE_QUEUE = "index-write"  # uploads, removals and rebuilds share one slot
INTERNAL_ERROR = "内部错误，这个问题暂时无法回答；请换个问法再试（internal error, logged on the server）。"

# Streaming: the answer is shown a few characters at a time, so a long answer starts
# appearing at once instead of after the whole message is ready.
_STREAM_CHARS = 6
_STREAM_PAUSE = 0.02
_CLOSEST_SHOWN = 3  # passages listed under a refusal
_CLOSEST_CHARS = 220

CSS = """
.dq-answer { line-height: 1.7; }
.dq-ref { color: #2563eb; font-weight: 600; }
.dq-refusal { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f;
  padding: 8px 12px; border-radius: 6px; }
.dq-refusal .dq-hint { font-size: 0.9em; margin-top: 4px; opacity: 0.85; }
.dq-conflict { border-left: 4px solid #dc2626; background: #fef2f2; color: #991b1b;
  padding: 6px 10px; border-radius: 6px; margin-bottom: 6px; font-weight: 600; }
.dq-error { color: #b91c1c; }
.dq-draft { color: #6b7280; font-style: italic; }
.dq-note { color: #6b7280; font-size: 0.85em; margin-top: 4px; }
.dq-rewrite { background: #eef2ff; padding: 4px 8px; border-radius: 4px; margin-bottom: 8px; }
.dq-sources { font-size: 14px; color: #1f2937; }
.dq-cite { margin: 8px 0 12px; }
.dq-cite-head { font-weight: 600; }
.dq-meta { color: #6b7280; font-weight: normal; }
.dq-passage { border-left: 3px solid #d1d5db; margin: 4px 0 0; padding: 4px 10px; color: #374151; }
.dq-passage mark { background: #fde68a; color: inherit; padding: 0 2px; }
"""

_MARKDOWN_SPECIAL = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$"}
_REF = re.compile(r"&#91;(\d{1,2})&#93;")  # a citation marker "[n]", as `esc` leaves it


def esc(text: Any) -> str:
    """`text` safe to embed in the chat's Markdown/HTML: no tags, no Markdown syntax."""
    return html.escape(str(text), quote=True).translate(_MARKDOWN_SPECIAL)


def _lines(text: str) -> str:
    return "<br>".join(esc(line) for line in text.splitlines())


# ---------------------------------------------------------------- rendering answers


def render_answer(answer: Answer, upto: int | None = None) -> str:
    """The answer bubble, with only the first `upto` characters of the text while streaming."""
    text = answer.text
    if answer.conflict and text.startswith(CONFLICT_PREFIX):
        text = text[len(CONFLICT_PREFIX) :]
    shown = text if upto is None else text[:upto]
    notes = "".join(f'<div class="dq-note">{esc(n)}</div>' for n in answer.notes) if upto is None else ""
    if not answer.answered:
        return (
            f'<div class="dq-refusal">🚫 {_lines(shown)}'
            '<div class="dq-hint">下方“最接近的资料”列出了找到的相关段落；可以换个问法，'
            f"或在“文章管理”中添加文章。</div>{notes}</div>"
        )
    body = _REF.sub(r'<sup class="dq-ref">[\1]</sup>', _lines(shown))
    banner = (
        '<div class="dq-conflict">⚠️ 来源之间的数字不一致，下面列出了各自的说法，请对照来源核实。</div>'
        if answer.conflict
        else ""
    )
    return f'<div class="dq-answer">{banner}{body}{notes}</div>'


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


def _citation_html(n: int, c: Citation) -> str:
    return (
        f'<div class="dq-cite"><div class="dq-cite-head">[{n}] {_meta(c.title, c.date)}{_source_html(c)}</div>'
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
        shown = answer.passages[:_CLOSEST_SHOWN]
        parts.extend(_closest_html(p) for p in shown)
        if not shown:
            parts.append("<div>索引中没有任何文章。</div>")
    return '<div class="dq-sources">' + "".join(parts) + "</div>"


def sources_title(answer: Answer) -> str:
    if answer.answered:
        return f"📚 来源（{len(answer.citations)} 条引用）"
    return f"📚 最接近的资料（{min(len(answer.passages), _CLOSEST_SHOWN)} 段，未找到答案）"


def answer_messages(answer: Answer, upto: int | None = None) -> list[dict[str, Any]]:
    """Chat messages for one answer: the answer, then (when complete) its sources, collapsed."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": render_answer(answer, upto)}]
    if upto is None:
        messages.append(
            {
                "role": "assistant",
                "content": render_sources(answer),
                "metadata": {"title": sources_title(answer), "status": "done"},
            }
        )
    return messages


# ---------------------------------------------------------------- chat


def _plain_history(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The user's earlier questions as plain text (the chat shows them escaped)."""
    return [(html.unescape(q), "") for q in user_questions(history)]


def render_draft(text: str) -> str:
    """A generator's unverified text while it is being written (replaced by the checked answer)."""
    return f'<div class="dq-draft">✍️ {_lines(text)}</div>'


def chat_stream(qa: QA, message: str, history: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Chat states for one question: the question, a searching note, the growing answer, the sources.

    A generative backend's drafts are shown as they are written; the extractive answer, which
    comes whole, is revealed a few characters at a time.
    """
    history = list(history or [])
    question = (message or "").strip()
    if not question:
        yield history
        return
    shown = [*history, {"role": "user", "content": esc(question)}]
    yield [*shown, {"role": "assistant", "content": "🔎 正在检索资料……"}]
    drafted = False
    try:
        for item in qa.ask_stream(question, history=_plain_history(history)):
            if isinstance(item, Answer):
                answer = item
            else:
                drafted = True
                yield [*shown, {"role": "assistant", "content": render_draft(item)}]
    except (QuestionError, IndexStoreError) as exc:
        yield [*shown, {"role": "assistant", "content": f'<div class="dq-error">⚠️ {esc(exc)}</div>'}]
        return
    except Exception:  # a bug must not break the chat: say so, keep the details in the server log
        log.exception("answering %r failed", question)
        yield [*shown, {"role": "assistant", "content": f'<div class="dq-error">⚠️ {INTERNAL_ERROR}</div>'}]
        return
    if not drafted:
        for upto in range(_STREAM_CHARS, len(answer.text), _STREAM_CHARS):
            yield [*shown, *answer_messages(answer, upto)]
            time.sleep(_STREAM_PAUSE)
    yield [*shown, *answer_messages(answer)]


# ---------------------------------------------------------------- articles


def status_line(qa: QA) -> str:
    try:
        s = qa.status(pending=False)
    except Exception as exc:  # a missing or damaged index is reported, not raised into the page
        return f"⚠️ 索引不可用：{esc(exc)}"
    return (
        f"**索引状态**：{s['docs']} 篇文章 · {s['chunks']} 个片段 · {s['sentences']} 句 · "
        f"向量模型 {esc(s['embedder'])} · 建立于 {_when(s['built_at'])} · 更新于 {_when(s['updated_at'])}"
    )


def _when(stamp: Any) -> str:
    """An ISO timestamp as "2025-01-02 03:04:05 UTC"."""
    text = str(stamp or "未知")
    return esc(text.replace("T", " ").replace("+00:00", " UTC"))


def article_rows(qa: QA) -> list[list[Any]]:
    try:
        docs = qa.list_docs()
    except Exception:  # status_line already says why the index is unavailable
        return []
    return [[d["title"], d["date"] or "", d["sentences"], d["doc_id"]] for d in docs]


def _doc_choices(rows: list[list[Any]]) -> list[tuple[str, str]]:
    return [(f"{r[0]}（{r[3]}）", r[3]) for r in rows]


def report_lines(report: ChangeReport, rebuilt: bool = False) -> list[str]:
    """A change report for people, as plain lines."""
    lines = []
    for label, ids in (
        ("🔄 已重建索引，收录" if rebuilt else "✅ 已添加", report.added),
        ("🔁 已更新", report.replaced),
        ("➖ 未变化（内容相同）", report.unchanged),
        ("🗑️ 已删除", report.removed),
    ):
        if ids:
            lines.append(f"{label}：{'、'.join(ids)}")
    lines.extend(f"ℹ️ {note}" for note in report.notes)
    if report.errors:
        lines.append("❌ 以下文件未处理，索引保持原样：")
        lines.extend(f"  • {err}" for err in report.errors)
    if not lines:
        lines.append("没有变化。")
    lines.append(f"用时 {report.seconds:.1f} 秒")
    return lines


def report_markdown(report: ChangeReport, rebuilt: bool = False) -> str:
    return "  \n".join(esc(line) for line in report_lines(report, rebuilt))


class _GradioProgress:
    """Adapts `QA` progress callbacks (stage, done, total) to a Gradio progress bar."""

    _LABELS: ClassVar[dict[str, str]] = {"read": "读取文章", "embed": "向量化"}

    def __init__(self, progress: gr.Progress) -> None:
        self.progress = progress

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress((done, total), desc=self._LABELS.get(stage, stage), unit="项")


def add_uploads(qa: QA, files: list[str] | None, progress: gr.Progress | None = None) -> ChangeReport:
    """Add uploaded files to the index; too large or unsupported files are refused first.

    Error messages name the files as uploaded, not by their temporary paths on the server.
    """
    paths = [str(f) for f in files or []]
    limit = qa.settings.max_file_bytes
    refused = ChangeReport()
    accepted = []
    for p in paths:
        path = Path(p)
        if path.suffix.lower() not in SUPPORTED_UPLOADS:
            refused.errors.append(f"{path.name}: 不支持的文件类型（只接受 {' '.join(SUPPORTED_UPLOADS)}）")
        elif path.stat().st_size > limit:
            refused.errors.append(f"{path.name}: 文件太大（{path.stat().st_size:,} 字节，上限 {limit:,} 字节）")
        else:
            accepted.append(p)
    report = qa.add(accepted, progress=_GradioProgress(progress) if progress else None) if accepted else ChangeReport()
    errors = refused.errors + report.errors
    for p in sorted(paths, key=len, reverse=True):
        errors = [e.replace(p, Path(p).name) for e in errors]
    report.errors = errors
    return report


def add_url_text(qa: QA, text: str | None, progress: gr.Progress | None = None) -> ChangeReport:
    """Add the pages whose addresses were typed (one per line or separated by spaces)."""
    from .fetch import add_urls, is_url

    words = (text or "").split()
    report = add_urls(qa, [u for u in words if is_url(u)], _GradioProgress(progress) if progress else None)
    report.errors = [f"{u}: 不是 http/https 网址" for u in words if not is_url(u)] + report.errors
    return report


def set_meta_form(qa: QA, doc_id: str | None, title: str | None, date: str | None) -> str:
    """The editor's title/date correction for one article, as a message for the page."""
    if not doc_id:
        return "请先选择要修改的文章。"
    title, date = (title or "").strip() or None, (date or "").strip() or None
    if title is None and date is None:
        return "请填写新的标题或日期（YYYY-MM-DD）。"
    try:
        report = qa.set_meta(doc_id, title=title, date=date)
    except (ValueError, IndexStoreError) as exc:
        return esc(f"❌ 未修改：{exc}")
    return "➖ 与原来相同，未修改。" if report.unchanged else esc(f"✅ 已修改 {doc_id} 的标题/日期。")


# ---------------------------------------------------------------- the app


def build_app(qa: QA) -> gr.Blocks:
    """The Gradio app over `qa`. Launch it with `serve` (which adds the styles and the queue)."""
    settings = qa.settings

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[tuple[list[dict[str, Any]], str]]:
        for state in chat_stream(qa, message, history):
            yield state, ""

    def refresh() -> tuple[str, list[list[Any]], Any]:
        rows = article_rows(qa)
        return status_line(qa), rows, gr.update(choices=_doc_choices(rows), value=None)

    def upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if not files:
            return ("请先选择要上传的文件。", None, *refresh())
        return (report_markdown(add_uploads(qa, files, progress)), None, *refresh())

    def add_by_url(text: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        if not (text or "").strip():
            return ("请先输入网址。", text, *refresh())
        return (report_markdown(add_url_text(qa, text, progress)), "", *refresh())

    def remove(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return ("请先选择要删除的文章。", *refresh())
        return (report_markdown(qa.remove([doc_id])), *refresh())

    def rebuild(progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        return (report_markdown(qa.build(progress=_GradioProgress(progress)), rebuilt=True), *refresh())

    def ask(question: str, history: list | None = None) -> dict:
        """Answer a question from the articles; `history` is the conversation so far
        ([{"role", "content"}] messages or [question, answer] pairs). Returns the Answer as JSON."""
        try:
            return qa.ask(question, history=history).to_dict()
        except QuestionError as exc:
            raise gr.Error(str(exc)) from exc

    def add_articles(files: list[str] | None) -> dict:
        """Add article files (.txt/.md/.html UTF-8 or GBK, .pdf, .docx) to the index; returns the change report."""
        report = add_uploads(qa, files)
        return {
            "added": report.added,
            "replaced": report.replaced,
            "unchanged": report.unchanged,
            "errors": report.errors,
            "report": "\n".join(report_lines(report)),
            "docs": [r[3] for r in article_rows(qa)],
        }

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as app:
        gr.Markdown(f"## {TITLE}\n根据已收录的新闻文章回答问题，答案逐句引用原文；资料中没有的内容会直说没有。")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chatbot = gr.Chatbot(
                    label="对话",
                    elem_id="chat",
                    height="62vh",
                    latex_delimiters=[],
                    feedback_options=None,
                    placeholder="可以追问，例如先问某一年的数字，再问“那下一年呢？”",
                )
                with gr.Row():
                    box = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，回车发送",
                        elem_id="question",
                        scale=8,
                        max_lines=4,
                        max_length=settings.max_question_chars,
                    )
                    send = gr.Button("发送", variant="primary", elem_id="send", scale=1, min_width=80)
                    clear = gr.Button("清空对话", elem_id="clear", scale=1, min_width=80)
                examples = (
                    gr.Examples(examples=[[q] for q in settings.examples], inputs=[box], label="示例问题")
                    if settings.examples
                    else None
                )
            with gr.Tab("文章管理", id="articles"):
                status = gr.Markdown(elem_id="index-status")
                files = gr.File(
                    label="上传文章（.txt / .md / .html / .pdf / .docx，可多选）",
                    file_count="multiple",
                    # No file_types: Gradio would refuse other files with an English toast;
                    # add_uploads refuses them with a Chinese message instead.
                    file_types=None,
                    elem_id="upload",
                )
                add_btn = gr.Button("添加到索引", variant="primary", elem_id="add")
                with gr.Row():
                    url_box = gr.Textbox(label="按网址添加（http/https 网页，每行一个）", elem_id="add-url", scale=4)
                    url_btn = gr.Button("抓取并添加", elem_id="add-url-button", scale=1)
                report = gr.Markdown(elem_id="change-report")
                table = gr.Dataframe(
                    headers=["标题", "日期", "句子数", "doc_id"],
                    datatype=["str", "str", "number", "str"],
                    type="array",
                    interactive=False,
                    wrap=True,
                    elem_id="articles",
                    label="已收录文章",
                )
                with gr.Row():
                    pick = gr.Dropdown(label="选择要删除的文章", choices=[], elem_id="remove-pick", scale=4)
                    remove_btn = gr.Button("删除文章", variant="stop", elem_id="remove", scale=1)
                    rebuild_btn = gr.Button("重建索引", elem_id="rebuild", scale=1)
                with gr.Row():
                    new_title = gr.Textbox(label="新标题（留空则不改）", elem_id="meta-title", scale=3)
                    new_date = gr.Textbox(label="新日期 YYYY-MM-DD（留空则不改）", elem_id="meta-date", scale=2)
                    meta_btn = gr.Button("修改所选文章的标题/日期", elem_id="meta", scale=1)

        chat_io = {"fn": respond, "inputs": [box, chatbot], "outputs": [chatbot, box], "api_visibility": "private"}
        box.submit(**chat_io)
        send.click(**chat_io)
        if examples is not None:  # a click on an example asks it
            examples.load_input_event.then(**chat_io)
        clear.click(lambda: ([], ""), outputs=[chatbot, box], api_visibility="private", queue=False)

        listing = [status, table, pick]
        write = {"concurrency_limit": 1, "concurrency_id": WRITE_QUEUE, "api_visibility": "private"}
        add_btn.click(upload, inputs=[files], outputs=[report, files, *listing], **write)
        url_btn.click(add_by_url, inputs=[url_box], outputs=[report, url_box, *listing], **write)
        remove_btn.click(remove, inputs=[pick], outputs=[report, *listing], **write)
        rebuild_btn.click(rebuild, outputs=[report, *listing], **write)
        meta_btn.click(
            lambda d, t, day: (set_meta_form(qa, d, t, day), *refresh()),
            inputs=[pick, new_title, new_date],
            outputs=[report, *listing],
            **write,
        )
        app.load(refresh, outputs=listing, api_visibility="private")

        gr.api(ask, api_name="ask")
        # Files go through a (hidden) File component, so Gradio checks that every path is an
        # upload of this client and not any file on the server.
        with gr.Row(visible=False):
            api_files = gr.File(file_count="multiple", file_types=None)  # checked by add_uploads
            api_report = gr.JSON()
            api_trigger = gr.Button()
        api_trigger.click(
            add_articles,
            inputs=[api_files],
            outputs=[api_report],
            api_name="add_articles",
            concurrency_limit=1,
            concurrency_id=WRITE_QUEUE,
        )
    return app


def serve(qa: QA, host: str | None = None, port: int | None = None, *, block: bool = True) -> gr.Blocks:
    """Start the app on host:port (defaults from `Settings`: 127.0.0.1:7860, GRADIO_SERVER_PORT).

    With `block=False` the server runs in a background thread and the app is returned
    (tests; call `app.close()` to stop it).
    """
    settings = qa.settings
    qa.ensure_index()
    qa.live()  # load the index and the embedder before the first user arrives
    app = build_app(qa)
    app.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    app.launch(
        server_name=host or settings.server_host,
        server_port=port or settings.server_port,
        max_file_size=settings.max_file_bytes,
        prevent_thread_lock=not block,
        share=False,
        inbrowser=False,
        show_error=True,
        quiet=not block,
        ssr_mode=False,
        css=CSS,
        theme=gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
    )
    return app
