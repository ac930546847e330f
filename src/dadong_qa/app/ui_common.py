"""What the readers' chat app (ui.py) and the editors' pages (editor_ui.py) share: the title, the
write queue, the index status line, change reports and adding uploaded files.

Its own module, below both, so that neither page module imports the other for these and
server.py can import both without an import cycle (ui -> editor_ui -> ui before).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import gradio as gr
from gradio.utils import NamedString, get_upload_folder

from dadong_qa.api import QA, ChangeReport
from dadong_qa.app.audit import LOCAL_ACTOR
from dadong_qa.app.chat_render import esc
from dadong_qa.app.editing import conflicts, renamed_copies
from dadong_qa.app.zh_messages import in_chinese
from dadong_qa.ingestion.ingest import SUPPORTED_SUFFIXES

TITLE = "大东区新闻问答"
SUPPORTED_UPLOADS = SUPPORTED_SUFFIXES  # what ingest reads, .markdown included
WRITE_QUEUE = "index-write"  # uploads, removals and rebuilds share one slot
# Gradio deletes the uploads of a Blocks with `delete_cache` when the server stops, and every
# `frequency` seconds those older than `age`: an upload an editor never added is gone within
# two hours. Uploads that were added or refused are deleted at once (`discard_uploads`).
UPLOAD_CACHE = {"delete_cache": (3600, 3600)}


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


def report_lines(report: ChangeReport, rebuilt: bool = False) -> list[str]:
    """A change report for people, as plain lines in Chinese (the library's messages translated)."""
    lines = []
    for label, ids in (
        ("🔄 已重建索引，收录" if rebuilt else "✅ 已添加", report.added),
        ("🔁 已更新", report.replaced),
        ("➖ 未变化（内容相同）", report.unchanged),
        ("🗑️ 已删除", report.removed),
    ):
        if ids:
            lines.append(f"{label}：{'、'.join(ids)}")
    lines.extend(f"ℹ️ {in_chinese(note)}" for note in report.notes)
    if report.errors:
        lines.append("❌ 以下文件未处理，索引保持原样：")
        lines.extend(f"  • {in_chinese(err)}" for err in report.errors)
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


def add_uploads(
    qa: QA,
    files: list[str] | None,
    progress: gr.Progress | None = None,
    *,
    actor: str = LOCAL_ACTOR,
    keep_both: bool = False,
) -> ChangeReport:
    """Add uploaded files to the index; too large or unsupported files are refused first.

    With `keep_both`, an upload whose name is taken by a different article is added under a new
    name instead of replacing it. Error messages name the files as uploaded, not by their
    temporary paths on the server. `actor` is who the audit log names.
    """
    paths = [str(f) for f in files or []]
    limit = qa.settings.max_file_bytes
    refused = ChangeReport()
    accepted = []
    for p in paths:
        path = Path(p)
        if not path.is_file():  # deleted meanwhile: the same file, uploaded twice, was added already
            refused.errors.append(f"{path.name}：上传的文件已不在服务器上，请重新上传")
        elif path.suffix.lower() not in SUPPORTED_UPLOADS:
            refused.errors.append(f"{path.name}：不支持的文件类型（只接受 {' '.join(SUPPORTED_UPLOADS)}）")
        elif path.stat().st_size > limit:
            refused.errors.append(f"{path.name}：文件太大（{path.stat().st_size:,} 字节，上限 {limit:,} 字节）")
        else:
            accepted.append(p)
    bar = _GradioProgress(progress) if progress else None
    with tempfile.TemporaryDirectory(prefix="dq-upload-") as tmp:
        if keep_both:
            clash = {c.name for c in conflicts(qa, accepted)}
            accepted = renamed_copies(qa, accepted, [Path(p).name for p in accepted], clash, Path(tmp))
        report = qa.add(accepted, progress=bar, actor=actor) if accepted else ChangeReport()
    errors = refused.errors + report.errors
    for p in sorted(paths, key=len, reverse=True):
        errors = [e.replace(p, Path(p).name) for e in errors]
    report.errors = errors
    return report


def discard_uploads(paths: Iterable[str] | None) -> None:
    """Delete uploaded files that have been added or refused, and their folders once empty.

    Gradio keeps each upload in its cache folder (GRADIO_TEMP_DIR) until the server stops;
    once its article is in the corpus the copy only takes space. Paths outside that folder
    (a file on the server named in a call, a test's file) are never touched.
    """
    cache = Path(get_upload_folder()).resolve()
    for p in paths or []:
        path = Path(p).resolve()
        if path.is_relative_to(cache) and path.parent != cache and path.is_file():
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: another upload with the same content
                path.parent.rmdir()


def article_files(**kwargs: Any) -> gr.File:
    """A gr.File for article uploads (several, any type) that hands the uploaded paths over as they are.

    Gradio 6.31's File makes an empty temporary file in its cache for every file it hands to a
    function and never deletes it (`File._process_single_file`), one left over per article
    added. Without file_types the rest of that method is returning the path, which this does.
    """
    files = gr.File(file_count="multiple", file_types=None, type="filepath", **kwargs)
    files._process_single_file = lambda f: NamedString(f.path)  # type: ignore[method-assign]
    return files
