"""The editors' pages: articles (upload, remove with confirmation, restore, rebuild), the audit
log, and the readers' report; plus the API endpoints that change the collection.

Served behind Gradio's login at /editor when editors are configured, or as tabs of the main
app on a loopback address with no editors (server.py decides). Every change goes through
`QA.add` / `QA.remove` / `QA.build` with the editor's name as `actor`, so the audit log has it.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from dadong_qa.api import QA, ChangeReport
from dadong_qa.app import audit
from dadong_qa.app.audit import LOCAL_ACTOR
from dadong_qa.app.chat_render import esc
from dadong_qa.app.editing import (
    ARTICLE_HEADERS,
    ON_CONFLICT,
    SORT_KEYS,
    article_table,
    conflicts,
    removed_files,
    restore,
)
from dadong_qa.app.feedback import report as reader_report
from dadong_qa.app.ui_common import (
    TITLE,
    UPLOAD_CACHE,
    WRITE_QUEUE,
    _GradioProgress,
    add_uploads,
    article_files,
    discard_uploads,
    report_lines,
    report_markdown,
    status_line,
)
from dadong_qa.app.zh_messages import in_chinese
from dadong_qa.index import IndexStoreError


def add_url_text(
    qa: QA, text: str | None, progress: gr.Progress | None = None, actor: str = LOCAL_ACTOR
) -> ChangeReport:
    """Add the pages whose addresses were typed (one per line or separated by spaces)."""
    from dadong_qa.ingestion.fetch import add_urls, is_url

    words = (text or "").split()
    bar = _GradioProgress(progress) if progress else None
    report = add_urls(qa, [u for u in words if is_url(u)], bar, actor=actor)
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
        return esc(f"❌ 未修改：{in_chinese(str(exc))}")
    return "➖ 与原来相同，未修改。" if report.unchanged else esc(f"✅ 已修改 {doc_id} 的标题/日期。")


AUDIT_HEADERS = ["时间", "编辑", "操作", "文章", "文件", "结果"]
_AUDIT_SHOWN = 50


def actor_of(request: gr.Request | None) -> str:
    """Who the audit log names: the logged-in editor, or "local" on a loopback server without editors."""
    return getattr(request, "username", None) or LOCAL_ACTOR


def report_dict(qa: QA, report: ChangeReport) -> dict[str, Any]:
    return {
        "added": report.added,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "errors": report.errors,
        "report": "\n".join(report_lines(report)),
        "docs": [r[-1] for r in article_table(qa, sort="doc_id")],
    }


def audit_rows(qa: QA) -> list[list[str]]:
    rows = []
    for r in audit.recent(qa.settings, _AUDIT_SHOWN):
        files = "、".join(f"{f.get('name')} ({str(f.get('sha256', ''))[:12]})" for f in r.get("files", []))
        ids = r.get("doc_ids", [])
        rows.append(
            [
                str(r.get("time", "")).replace("T", " ").replace("+00:00", " UTC"),
                str(r.get("actor", "")),
                str(r.get("action", "")),
                "、".join(ids) if len(ids) <= 10 else f"{len(ids)} 篇",
                files,
                str(r.get("outcome", "")) + ("：" + "；".join(r["errors"]) if r.get("errors") else ""),
            ]
        )
    return rows


def report_view(qa: QA) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The readers' report: a summary (Markdown), answered vs refused per day, top missing topics."""
    data = reader_report(qa.settings)
    t = data["totals"]
    lines = [
        f"**读者提问** {t['questions']} 个 · 未能回答 {t['refused']} 个 · 👍 {t['liked']} · 👎 {t['disliked']}",
    ]
    if not data["reader_log"]:
        lines.append("（提问记录已关闭：`reader_log = false`，不再记录新的提问和评价。）")
    lines.append("\n**资料缺少的话题**（未能回答的问题按关键词归类，可据此补充文章）：")
    lines.extend(
        f"- {esc(topic['word'])} ×{topic['count']}：" + "；".join(esc(q) for q in topic["questions"])
        for topic in data["missing_topics"]
    )
    lines.append("\n**被点踩的回答**：")
    lines.extend(
        f"- {esc(str(r.get('time', ''))[:16])} {esc(r.get('question', ''))}"
        + ("（拒答）" if not r.get("answered") else f"（引用 {esc('、'.join(r.get('doc_ids') or []))}）")
        for r in data["disliked"][:20]
    )
    per_day = pd.DataFrame(
        [
            {"日期": d["day"], "类别": kind, "数量": d[key]}
            for d in data["per_day"]
            for kind, key in (("已回答", "answered"), ("未能回答", "refused"))
        ],
        columns=["日期", "类别", "数量"],
    )
    topics = pd.DataFrame(
        [{"话题": topic["word"], "问题数": topic["count"]} for topic in data["missing_topics"][:10]],
        columns=["话题", "问题数"],
    )
    return "\n".join(lines), per_day, topics


def editor_tabs(qa: QA) -> None:
    """The editor tabs and the editing API, inside the current Blocks (and its gr.Tabs)."""

    def listing(query: str = "", sort: str = "标题", desc: bool = False) -> tuple[Any, ...]:
        rows = article_table(qa, query or "", sort or "标题", bool(desc))
        everything = article_table(qa, sort="标题")
        choices = [(f"{r[0]}（{r[-1]}）", r[-1]) for r in everything]
        return (
            status_line(qa),
            rows,
            gr.update(choices=choices, value=None),
            gr.update(choices=removed_files(qa), value=None),
        )

    def upload(
        files: list[str] | None,
        query: str,
        sort: str,
        desc: bool,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not files:
            return ("请先选择要上传的文件。", files, gr.update(visible=False), "", [], *listing(query, sort, desc))
        clash = conflicts(qa, [str(f) for f in files])
        if clash:
            names = "、".join(f"{c.name}（现有文章《{c.title}》）" for c in clash)
            ask = f"已有同名但内容不同的文章：{names}。要替换原文章，还是两篇都保留？"
            return ("", files, gr.update(visible=True), esc(ask), list(files), *listing(query, sort, desc))
        try:
            report = add_uploads(qa, files, progress, actor=actor_of(request))
        finally:
            discard_uploads(files)  # in the corpus now, or refused
        return (report_markdown(report), None, gr.update(visible=False), "", [], *listing(query, sort, desc))

    def resolve(keep_both: bool):
        def run(pending: list[str], query: str, sort: str, desc: bool, request: gr.Request) -> tuple[Any, ...]:
            if not pending:
                return ("没有待处理的上传。", None, gr.update(visible=False), "", [], *listing(query, sort, desc))
            try:
                report = add_uploads(qa, pending, actor=actor_of(request), keep_both=keep_both)
            finally:
                discard_uploads(pending)
            return (report_markdown(report), None, gr.update(visible=False), "", [], *listing(query, sort, desc))

        return run

    def cancel_upload(pending: list[str]) -> tuple[Any, ...]:
        discard_uploads(pending)
        return ("已取消，没有改动。", None, gr.update(visible=False), "", [])

    def ask_remove(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return "请先选择要删除的文章。", gr.update(visible=False), ""
        title = next((r[0] for r in article_table(qa) if r[-1] == doc_id), doc_id)
        text = f"确定要删除《{title}》（{doc_id}）吗？删除后可以在下方“恢复已删除的文章”中恢复。"
        return "", gr.update(visible=True), esc(text)

    def remove(doc_id: str | None, query: str, sort: str, desc: bool, request: gr.Request) -> tuple[Any, ...]:
        if not doc_id:
            return ("请先选择要删除的文章。", gr.update(visible=False), *listing(query, sort, desc))
        report = qa.remove([doc_id], actor=actor_of(request))
        return (report_markdown(report), gr.update(visible=False), *listing(query, sort, desc))

    def restore_one(name: str | None, query: str, sort: str, desc: bool, request: gr.Request) -> tuple[Any, ...]:
        if not name:
            return ("请先选择要恢复的文章文件。", *listing(query, sort, desc))
        return (report_markdown(restore(qa, name, actor_of(request))), *listing(query, sort, desc))

    def rebuild(
        query: str,
        sort: str,
        desc: bool,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        report = qa.build(progress=_GradioProgress(progress), actor=actor_of(request))
        return (report_markdown(report, rebuilt=True), *listing(query, sort, desc))

    def add_by_url(
        text: str,
        query: str,
        sort: str,
        desc: bool,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not (text or "").strip():
            return ("请先输入网址。", text, *listing(query, sort, desc))
        report = add_url_text(qa, text, progress, actor=actor_of(request))
        return (report_markdown(report), "", *listing(query, sort, desc))

    def set_meta(doc_id: str | None, title: str, date: str, query: str, sort: str, desc: bool) -> tuple[Any, ...]:
        return (set_meta_form(qa, doc_id, title, date), *listing(query, sort, desc))

    with gr.Tab("文章管理", id="articles"):
        status = gr.Markdown(elem_id="index-status")
        # No file_types (article_files): Gradio would refuse other files with an English toast;
        # add_uploads refuses them with a Chinese message instead.
        files = article_files(label="上传文章（.txt / .md / .html / .pdf / .docx，可多选）", elem_id="upload")
        add_btn = gr.Button("添加到索引", variant="primary", elem_id="add")
        with gr.Row():
            url_box = gr.Textbox(label="按网址添加（http/https 网页，每行一个）", elem_id="add-url", scale=4)
            url_btn = gr.Button("抓取并添加", elem_id="add-url-button", scale=1)
        pending = gr.State([])
        with gr.Group(visible=False, elem_id="conflict") as conflict_box:
            conflict_text = gr.Markdown(elem_id="conflict-text")
            with gr.Row():
                replace_btn = gr.Button("替换原文章", variant="stop", elem_id="conflict-replace")
                keep_btn = gr.Button("两篇都保留", variant="primary", elem_id="conflict-keep")
                cancel_btn = gr.Button("取消", elem_id="conflict-cancel")
        report = gr.Markdown(elem_id="change-report")
        with gr.Row():
            search = gr.Textbox(label="搜索（标题、日期、来源、doc_id）", elem_id="article-search", scale=4)
            sort = gr.Dropdown(list(SORT_KEYS), value="标题", label="排序", elem_id="article-sort", scale=1)
            desc = gr.Checkbox(label="倒序", value=False, elem_id="article-desc", scale=1)
        table = gr.Dataframe(
            headers=ARTICLE_HEADERS,
            datatype=["str", "str", "str", "number", "str"],
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
        with gr.Group(visible=False, elem_id="remove-confirm") as confirm_box:
            confirm_text = gr.Markdown()
            with gr.Row():
                yes_btn = gr.Button("确认删除", variant="stop", elem_id="remove-yes")
                no_btn = gr.Button("取消", elem_id="remove-no")
        with gr.Row():
            new_title = gr.Textbox(label="新标题（留空则不改）", elem_id="meta-title", scale=3)
            new_date = gr.Textbox(label="新日期 YYYY-MM-DD（留空则不改）", elem_id="meta-date", scale=2)
            meta_btn = gr.Button("修改所选文章的标题/日期", elem_id="meta", scale=1)
        with gr.Row():
            restore_pick = gr.Dropdown(label="恢复已删除的文章", choices=[], elem_id="restore-pick", scale=4)
            restore_btn = gr.Button("恢复", elem_id="restore", scale=1)
        _editing_api(qa)  # hidden components of the API, inside a tab as gr.Tabs wants

    with gr.Tab("修改记录", id="audit"):
        gr.Markdown("每次添加、替换、删除、恢复和重建都记在审计日志里（最近 50 条，最新的在上）。")
        audit_table = gr.Dataframe(headers=AUDIT_HEADERS, type="array", interactive=False, wrap=True, elem_id="audit")
        audit_btn = gr.Button("刷新", elem_id="audit-refresh")

    with gr.Tab("读者反馈", id="report"):
        report_md = gr.Markdown(elem_id="reader-report")
        with gr.Row():
            # y from zero: with equal counts the axis would otherwise span one value and draw no bars.
            per_day_plot = gr.BarPlot(
                x="日期",
                y="数量",
                color="类别",
                title="每天的提问：已回答 / 未能回答",
                y_lim=[0, None],
                elem_id="per-day-chart",
            )
            topics_plot = gr.BarPlot(
                x="话题", y="问题数", title="资料缺少的话题", sort="-y", y_lim=[0, None], elem_id="topics-chart"
            )
        report_btn = gr.Button("刷新", elem_id="report-refresh")

    view = [search, sort, desc]
    lists = [status, table, pick, restore_pick]
    upload_out = [report, files, conflict_box, conflict_text, pending, *lists]
    write = {"concurrency_limit": 1, "concurrency_id": WRITE_QUEUE, "api_visibility": "private"}
    add_btn.click(upload, inputs=[files, *view], outputs=upload_out, **write)
    replace_btn.click(resolve(False), inputs=[pending, *view], outputs=upload_out, **write)
    keep_btn.click(resolve(True), inputs=[pending, *view], outputs=upload_out, **write)
    cancel_btn.click(cancel_upload, inputs=[pending], outputs=upload_out[:5], api_visibility="private", queue=False)
    remove_btn.click(ask_remove, inputs=[pick], outputs=[report, confirm_box, confirm_text], api_visibility="private")
    yes_btn.click(remove, inputs=[pick, *view], outputs=[report, confirm_box, *lists], **write)
    no_btn.click(lambda: gr.update(visible=False), outputs=[confirm_box], api_visibility="private", queue=False)
    restore_btn.click(restore_one, inputs=[restore_pick, *view], outputs=[report, *lists], **write)
    rebuild_btn.click(rebuild, inputs=view, outputs=[report, *lists], **write)
    url_btn.click(add_by_url, inputs=[url_box, *view], outputs=[report, url_box, *lists], **write)
    meta_btn.click(set_meta, inputs=[pick, new_title, new_date, *view], outputs=[report, *lists], **write)
    for control in (search, sort, desc):
        control.change(
            lambda q, s, d: article_table(qa, q or "", s or "标题", bool(d)),
            inputs=view,
            outputs=[table],
            api_visibility="private",
            queue=False,
        )
    audit_btn.click(lambda: audit_rows(qa), outputs=[audit_table], api_visibility="private")
    report_btn.click(lambda: report_view(qa), outputs=[report_md, per_day_plot, topics_plot], api_visibility="private")
    page = gr.context.Context.root_block
    if page is not None:
        page.load(listing, inputs=view, outputs=lists, api_visibility="private")
        page.load(lambda: audit_rows(qa), outputs=[audit_table], api_visibility="private")
        page.load(lambda: report_view(qa), outputs=[report_md, per_day_plot, topics_plot], api_visibility="private")


def _editing_api(qa: QA) -> None:
    """Named endpoints that change the collection (only in the editor app, or the open local app)."""

    def add_articles(files: list[str] | None, on_conflict: str, request: gr.Request) -> dict:
        """Add article files (.txt/.md/.html, UTF-8 or GBK); `on_conflict` for a file whose name is taken
        by a different article: "ask" (default: change nothing, list the conflicts), "replace", "keep_both"."""
        on_conflict = on_conflict or "ask"
        if on_conflict not in ON_CONFLICT:
            raise gr.Error(f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
        paths = [str(f) for f in files or []]
        clash = conflicts(qa, paths) if on_conflict == "ask" else []
        if clash:  # nothing used: the uploads stay for a second call with the same paths
            out = report_dict(qa, ChangeReport())
            out["conflicts"] = [{"name": c.name, "doc_id": c.doc_id, "title": c.title} for c in clash]
            out["report"] = "同名文章已存在，未做任何改动；用 on_conflict=replace 或 keep_both 再试。"
            return out
        try:
            report = add_uploads(qa, paths, actor=actor_of(request), keep_both=on_conflict == "keep_both")
        finally:
            discard_uploads(paths)
        return {**report_dict(qa, report), "conflicts": []}

    def remove_articles(doc_ids: list[str], request: gr.Request) -> dict:
        """Remove articles by doc_id; their files move to corpus/.removed/ (see restore_article)."""
        return report_dict(qa, qa.remove([str(d) for d in doc_ids or []], actor=actor_of(request)))

    def restore_article(name: str, request: gr.Request) -> dict:
        """Restore a removed article by its file name in corpus/.removed/."""
        return report_dict(qa, restore(qa, str(name or ""), actor_of(request)))

    def rebuild_index(request: gr.Request) -> dict:
        """Rebuild the whole index from the corpus folder."""
        return report_dict(qa, qa.build(actor=actor_of(request)))

    # Files go through a (hidden) File component, so Gradio checks that every path is an
    # upload of this client and not any file on the server.
    with gr.Row(visible=False):
        api_files = article_files()  # types checked by add_uploads
        api_conflict = gr.Radio(list(ON_CONFLICT), value="ask")
        api_report = gr.JSON()
        api_trigger = gr.Button()
    api_trigger.click(
        add_articles,
        inputs=[api_files, api_conflict],
        outputs=[api_report],
        api_name="add_articles",
        concurrency_limit=1,
        concurrency_id=WRITE_QUEUE,
    )
    for fn, name in (
        (remove_articles, "remove_articles"),
        (restore_article, "restore_article"),
        (rebuild_index, "rebuild_index"),
    ):
        gr.api(fn, api_name=name, concurrency_limit=1, concurrency_id=WRITE_QUEUE)


def build_editor_app(qa: QA) -> gr.Blocks:
    """The editor app mounted at /editor behind the login."""
    with gr.Blocks(title=f"{TITLE} · 编辑", analytics_enabled=False, **UPLOAD_CACHE) as app:
        with gr.Row():
            gr.Markdown(f"## {TITLE} · 编辑\n文章的添加、删除和恢复都会记入修改记录。读者问答在 [首页](/)。")
            gr.Button("退出登录", link="/editor/logout", elem_id="logout", scale=0, min_width=100)
        with gr.Tabs():
            editor_tabs(qa)
    return app
