"""Safer editing, without Gradio: same-name uploads, keeping both, restoring removed articles, the article table.

The editor page (editor_ui.py) and its API call these; every change still goes through
`QA.add` / `QA.remove`, which write the audit line.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dadong_qa.api import QA, ChangeReport
from dadong_qa.index import file_sha256
from dadong_qa.ingestion.ingest import make_doc_id

REMOVED_DIR = ".removed"  # where QA.remove moves an article's file
ON_CONFLICT = ("ask", "replace", "keep_both")
SORT_KEYS = {"标题": "title", "日期": "date", "来源": "source", "doc_id": "doc_id"}
ARTICLE_HEADERS = ["标题", "日期", "来源", "句子数", "doc_id"]


@dataclass
class Conflict:
    """An upload whose file name is taken by a different indexed article."""

    name: str  # as uploaded
    doc_id: str
    title: str  # of the indexed article


def conflicts(qa: QA, paths: list[str], names: list[str] | None = None) -> list[Conflict]:
    """Uploads that would silently replace a different article with the same file name."""
    docs = _docs(qa)
    out = []
    for path, name in zip(paths, names or [Path(p).name for p in paths], strict=True):
        doc_id = make_doc_id(name)
        record = docs.get(doc_id)
        if record is not None and record.doc.sha256 != file_sha256(Path(path)):
            out.append(Conflict(name, doc_id, record.doc.title))
    return out


def free_name(qa: QA, name: str) -> str:
    """`name` with "-2", "-3", … added until its doc_id is used by no article or corpus file."""
    taken = set(_docs(qa)) | {make_doc_id(p.name) for p in _corpus_names(qa)}
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while make_doc_id(f"{stem}-{n}{suffix}") in taken:
        n += 1
    return f"{stem}-{n}{suffix}"


def renamed_copies(qa: QA, paths: list[str], names: list[str], rename: set[str], folder: Path) -> list[str]:
    """The upload paths, with those in `rename` copied into `folder` under a free name (keep both)."""
    out = []
    for path, name in zip(paths, names, strict=True):
        if name in rename:
            target = folder / free_name(qa, name)
            shutil.copyfile(path, target)
            out.append(str(target))
        else:
            out.append(path)
    return out


def add_keeping_both(qa: QA, paths: list[str], names: list[str], actor: str) -> ChangeReport:
    """Add uploads; those that clash with a different article get a new name instead of replacing it."""
    clash = {c.name for c in conflicts(qa, paths, names)}
    with tempfile.TemporaryDirectory(prefix="dq-keep-") as tmp:
        return qa.add(renamed_copies(qa, paths, names, clash, Path(tmp)), actor=actor)


def removed_files(qa: QA) -> list[str]:
    """File names in corpus/.removed/ that can be restored, newest first."""
    folder = qa.settings.corpus_dir / REMOVED_DIR
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return [p.name for p in sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)]


def restore(qa: QA, name: str, actor: str) -> ChangeReport:
    """Put a removed article back: index it again and take its file out of corpus/.removed/."""
    if name not in removed_files(qa):  # also refuses any path: only listed names are accepted
        return ChangeReport(errors=[f"{name}: 没有这个已删除的文章文件（no such removed file）"])
    doc_id = make_doc_id(name)
    if doc_id in _docs(qa):
        return ChangeReport(errors=[f"{name}: 已有同名文章 {doc_id}，请先删除或改名（an article with this id exists）"])
    path = qa.settings.corpus_dir / REMOVED_DIR / name
    report = qa.add([path], actor=actor, audit_action="restore")
    if report.added or report.replaced:
        path.unlink(missing_ok=True)  # add copied it back into the corpus
    return report


def article_table(qa: QA, query: str = "", sort: str = "标题", descending: bool = False) -> list[list[Any]]:
    """Rows of the article table, filtered by `query` (title, source, doc_id, date) and sorted."""
    rows = []
    q = query.strip().lower()
    for record in _docs(qa).values():
        d = record.doc
        row = {
            "title": d.title or "",
            "date": d.date or "",
            "source": d.source or "",
            "sentences": len(record.sentence_ids),
            "doc_id": d.doc_id,
        }
        if q and not any(q in str(row[k]).lower() for k in ("title", "date", "source", "doc_id")):
            continue
        rows.append(row)
    key = SORT_KEYS.get(sort, "title")
    rows.sort(key=lambda r: (r[key] == "", r[key], r["doc_id"]), reverse=descending)
    return [[r["title"], r["date"], r["source"], r["sentences"], r["doc_id"]] for r in rows]


def _docs(qa: QA) -> dict[str, Any]:
    try:
        return qa.index.docs
    except Exception:  # no or damaged index: the status line says why
        return {}


def _corpus_names(qa: QA) -> list[Path]:
    corpus = qa.settings.corpus_dir
    return [p for p in corpus.iterdir() if p.is_file()] if corpus.is_dir() else []
