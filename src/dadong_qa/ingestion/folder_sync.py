"""Folder sync: make the index match the corpus folder, and say what does not match yet.

Files are compared by name and by the SHA-256 of their bytes (the hash each article keeps), so
an unchanged file is neither read nor embedded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dadong_qa import index as store
from dadong_qa.index import Index, file_sha256
from dadong_qa.ingestion.ingest import IngestError, corpus_files
from dadong_qa.schema import ChangeReport  # below the library, which calls sync()

if TYPE_CHECKING:
    from dadong_qa.library import Library


@dataclass
class Pending:
    """How the corpus folder differs from the index."""

    new: list[str] = field(default_factory=list)  # files not indexed (or refused when last tried)
    changed: list[str] = field(default_factory=list)  # files whose bytes differ from the indexed version
    missing: list[str] = field(default_factory=list)  # doc_ids whose file is gone from the folder

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.missing)


def pending(corpus: Path, index: Index) -> Pending:
    """Files to add or re-add and articles to remove for the index to match `corpus`."""
    out = Pending()
    by_name = {rec.doc.path: rec.doc for rec in index.docs.values() if rec.doc.path}
    aliases = {name for rec in index.docs.values() for name in rec.doc.alias_paths}
    present = set()
    for path in corpus_files(corpus):
        present.add(path.name)
        doc = by_name.get(path.name)
        if doc is None:
            if path.name not in aliases:  # a near-copy already counted as another source of an article
                out.new.append(path.name)
        elif doc.sha256 != file_sha256(path):
            out.changed.append(path.name)
    out.missing = sorted(d for d, rec in index.docs.items() if rec.doc.path and rec.doc.path not in present)
    return out


def sync(library: Library) -> ChangeReport:
    """Add new and changed corpus files, remove articles whose file was deleted; one report."""
    corpus = library.settings.corpus_dir
    if not corpus.is_dir():
        raise IngestError(f"corpus folder {corpus} does not exist (check --corpus); the index was not changed")
    if _has_index(library):
        todo = pending(corpus, library.index)
    else:
        todo = Pending(new=[p.name for p in corpus_files(corpus)])
    report = ChangeReport()
    if todo.new or todo.changed:
        report = library.add([corpus / name for name in todo.new + todo.changed])
    if todo.missing:
        gone = library.remove(todo.missing)
        report.removed += gone.removed
        report.errors += gone.errors
        report.seconds += gone.seconds
    return report


def _has_index(library: Library) -> bool:
    return store.exists(library.settings.index_dir)
