"""Changing the collection: build, add, remove, correct metadata, sync, and the corpus-file moves.

`QA` (api.py) only reads; a `Library` writes, under the index's write lock, and hands each new
index version to its `QA` so the next question reads it. The order of file moves and the index
switch is what makes a crash harmless:
- add: the file is copied into corpus/ before the switch, so a crash leaves a file the next
  build picks up, never an indexed article without its file;
- remove: the file moves to corpus/.removed/ before the switch (and back if the switch fails),
  so a crash leaves an indexed article without its file, which the next build drops as asked.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dadong_qa import index as store
from dadong_qa.audit import audited
from dadong_qa.index import Index, IndexCorruptError, Progress, paragraph_hashes
from dadong_qa.ingestion import corpus_meta
from dadong_qa.ingestion.folder_sync import sync
from dadong_qa.ingestion.ingest import (
    IngestError,
    corpus_files,
    dedupe_across,
    drop_seen_paragraphs,
    has_body,
    make_doc_id,
    read_file,
)
from dadong_qa.ingestion.near_dup import fold_into_index, fold_near_copies, other_article_same_name
from dadong_qa.schema import ChangeReport, Document

if TYPE_CHECKING:
    from dadong_qa.api import QA
    from dadong_qa.config import Settings
    from dadong_qa.index import DocRecord

log = logging.getLogger(__name__)

# (article, paragraphs dropped as duplicates, hashed keys of those paragraphs): what an index adds
Item = tuple[Document, int, frozenset[int]]
# (file, its article, the indexed record it replaces or None)
Candidate = tuple[Path, Document, "DocRecord | None"]


class CorpusFolder:
    """The article files of corpus/ and their moves to and from corpus/.removed/."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def trash(self) -> Path:
        return self.path / ".removed"

    def store(self, path: Path, doc_id: str | None = None) -> str:
        """Copy an added file into the corpus folder under a safe name (its article id); return that name."""
        self.path.mkdir(parents=True, exist_ok=True)
        if path.parent.resolve() == self.path.resolve():
            return path.name  # already there (sync): a second copy under another name would be indexed twice
        target = self.path / ((doc_id or make_doc_id(path.name)) + path.suffix.lower())
        if path.resolve() != target.resolve():
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        return target.name

    def drop_stale_copies(self) -> None:
        """Delete half-copied files a killed `add` left (called under the write lock, so no copy is running)."""
        if self.path.is_dir():
            for p in self.path.glob(".*.tmp"):
                p.unlink(missing_ok=True)

    def retire(self, name: str | None) -> bool:
        """Move a corpus file to corpus/.removed/; False if there was none."""
        if not name:
            return False
        path = self.path / name
        if not path.is_file():
            return False
        self.trash.mkdir(exist_ok=True)
        path.replace(self.trash / name)
        return True

    def unretire(self, name: str) -> None:
        """Move a file `retire` moved back into corpus/."""
        (self.trash / name).replace(self.path / name)


class Library:
    """The writer of one corpus folder and index folder; `qa` reads what it writes."""

    def __init__(self, qa: QA) -> None:
        self.qa = qa

    @property
    def settings(self) -> Settings:
        return self.qa.settings

    @property
    def index(self) -> Index:
        """The live index, as readers see it (the audit log names removed files from it)."""
        return self.qa.index

    @property
    def corpus(self) -> CorpusFolder:
        return CorpusFolder(self.settings.corpus_dir)

    # ------------------------------------------------------------ build

    @audited("build")  # one audit line per call; callers pass actor=
    def build(self, progress: Progress | None = None) -> ChangeReport:
        """Rebuild the whole index from the corpus folder."""
        t0 = time.perf_counter()
        report = ChangeReport()
        corpus = self.settings.corpus_dir
        if not corpus.is_dir():  # a typo must not replace the live index with an empty one
            raise IngestError(f"corpus folder {corpus} does not exist (check --corpus); the index was not changed")
        lost = store.dangling_version(self.settings.index_dir)
        docs = self._read_corpus(progress, report)
        _check_unique_ids(docs, report)
        docs, report.notes = fold_near_copies(docs, self.settings.near_duplicate_threshold)
        docs, kept = _drop_duplicates(docs, report)
        with self._write_lock():
            if not docs and store.exists(self.settings.index_dir):
                self._refuse_emptying(report)
            index = self._empty().with_documents(_with_dropped(docs, kept), self.qa.embedder, progress)
            store.save(index, self.settings.index_dir)
        self.qa.publish(index)
        report.added = [d.doc_id for d in docs]
        if lost:  # said, not done silently: the server and the first ask() rebuild it this way
            report.notes.append(
                f"{store.lost_index_message(self.settings.index_dir, lost)}; rebuilt from "
                f"{self.settings.corpus_dir} ({len(docs)} articles)"
            )
            log.warning("%s", report.notes[-1])
        report.seconds = time.perf_counter() - t0
        return report

    def ensure_index(self, progress: Progress | None = None) -> bool:
        """Build the index if there is none and the corpus has articles; True if it was built.

        The chat app and the `ask()` helper call this on first use; reading (`ask`, `status`,
        `list_docs`) never builds, so a wrong --index cannot silently create one.
        """
        if store.exists(self.settings.index_dir) or not corpus_files(self.settings.corpus_dir):
            return False
        self.build(progress)
        return True

    def _read_corpus(self, progress: Progress | None, report: ChangeReport) -> list[Document]:
        files = corpus_files(self.settings.corpus_dir)
        overrides = corpus_meta.load(self.settings.corpus_dir)
        docs = []
        for i, path in enumerate(files):
            try:
                docs.append(self._read(path, overrides))
            except IngestError as exc:
                report.errors.append(str(exc))
            if progress:
                progress("read", i + 1, len(files))
        return docs

    def _refuse_emptying(self, report: ChangeReport) -> None:
        """No article could be read: keep the index there is rather than replace it with an empty one."""
        kept = len(self._load_for_write().docs)
        if kept:
            why = "; ".join(report.errors[:3]) or f"no article files in {self.settings.corpus_dir}"
            raise IngestError(f"no article could be read ({why}); the index with {kept} articles was kept")

    # ------------------------------------------------------------ add

    @audited("add")  # one audit line per call; callers pass actor=
    def add(self, paths: Iterable[str | Path], progress: Progress | None = None) -> ChangeReport:
        """Add or replace articles; only new or changed ones are embedded."""
        t0 = time.perf_counter()
        report = ChangeReport()
        overrides = corpus_meta.load(self.settings.corpus_dir)
        incoming = self._read_files(paths, overrides, report)
        with self._write_lock():
            index = self._load_for_write()
            self.corpus.drop_stale_copies()
            candidates, aliased, notes = fold_into_index(
                index,
                self._candidates(index, incoming, report),
                self.settings.near_duplicate_threshold,
                self.corpus.store,
            )
            report.notes += notes
            items, stale = self._accept(index, candidates, report)
            items += _as_aliased(index, aliased)
            if items:
                index = index.with_documents(items, self.qa.embedder, progress)
                store.save(index, self.settings.index_dir)
                self.qa.publish(index)
                for name in stale:
                    self.corpus.retire(name)
        report.seconds = time.perf_counter() - t0
        return report

    def _read_files(
        self, paths: Iterable[str | Path], overrides: dict[str, dict[str, str]], report: ChangeReport
    ) -> list[tuple[Path, Document]]:
        out = []
        for path in map(Path, paths):
            try:
                out.append((path, self._read(path, overrides)))
            except IngestError as exc:
                report.errors.append(str(exc))
        return out

    def _candidates(self, index: Index, incoming: list[tuple[Path, Document]], report: ChangeReport) -> list[Candidate]:
        """The new or changed articles, each with the record it replaces; unchanged ones reported."""
        out: list[Candidate] = []
        for path, doc in incoming:
            old = index.docs.get(doc.doc_id)
            if old is not None and old.doc.sha256 == doc.sha256:
                report.unchanged.append(doc.doc_id)
                continue
            if old is not None and path.parent.resolve() != self.settings.corpus_dir.resolve():
                doc, note = other_article_same_name(index, doc)  # index.html from another site
                old = index.docs.get(doc.doc_id)
                report.notes += [note] if note else []
            out.append((path, doc, old))
        return out

    def _accept(self, index: Index, candidates: list[Candidate], report: ChangeReport) -> tuple[list[Item], list[str]]:
        """De-duplicated candidates with their files stored in corpus/; and the files they supersede."""
        seen = index.paragraph_keys(exclude={d.doc_id for _, d, _ in candidates})
        kept = dedupe_across([d for _, d, _ in candidates], seen)
        originals: list[Document] = []
        accepted: list[tuple[Document, int]] = []
        stale: list[str] = []
        for (path, doc, old), (clean, dropped) in zip(candidates, kept, strict=True):
            if not has_body(clean.text):  # nothing the index does not already have
                others = [r.doc for r in index.docs.values() if r.doc.doc_id != doc.doc_id] + originals
                _skip_duplicate(report, doc, others)
                continue
            # Stored before the index is switched: a crash in between leaves the file ready
            # for the next build, never an indexed article without its file.
            name = self.corpus.store(path, doc.doc_id)
            if old is not None and old.doc.path and old.doc.path != name:
                stale.append(old.doc.path)  # same article id, other suffix (a.txt -> a.md)
            (report.replaced if old else report.added).append(doc.doc_id)
            originals.append(replace(doc, path=name))
            accepted.append((replace(clean, path=name), dropped))
        return _with_dropped(originals, accepted), stale

    # ------------------------------------------------------------ remove

    @audited("remove")  # one audit line per call; callers pass actor=
    def remove(self, doc_ids: Iterable[str]) -> ChangeReport:
        """Remove articles from the index at once; their files move to corpus/.removed/."""
        t0 = time.perf_counter()
        report = ChangeReport()
        wanted = list(doc_ids)
        with self._write_lock():
            index = self._load_for_write()
            self._retire_unindexed([d for d in wanted if d not in index.docs], report)
            gone = {d for d in wanted if d in index.docs}
            if gone:
                self._remove_indexed(index, gone)
                report.removed = sorted(gone | set(report.removed))
        report.seconds = time.perf_counter() - t0
        return report

    def _retire_unindexed(self, doc_ids: list[str], report: ChangeReport) -> None:
        """Ids not in the index whose file is still in corpus/ (copied in by hand, or a removal
        interrupted by an older version): move the file, or the next build brings it back."""
        for d in doc_ids:
            leftovers = [p for p in corpus_files(self.settings.corpus_dir) if make_doc_id(p.name) == d]
            for p in leftovers:
                self.corpus.retire(p.name)
            if leftovers:
                report.removed.append(d)
            else:
                report.errors.append(f"{d}: no such article in the index")

    def _remove_indexed(self, index: Index, gone: set[str]) -> None:
        paths = [index.docs[d].doc.path for d in gone]
        revisit = _sharing_dropped_paragraphs(index, gone)
        index = index.without(gone)
        if revisit:
            index = self._restore_paragraphs(index, revisit)
        # Files move out first: a crash before the switch then leaves the article indexed
        # but not in corpus/, so a later build also drops it, as the user asked.
        moved = [name for name in paths if self.corpus.retire(name)]
        try:
            store.save(index, self.settings.index_dir)
        except BaseException:
            for name in moved:
                self.corpus.unretire(name)
            raise
        self.qa.publish(index)
        corpus_meta.forget(self.settings.corpus_dir, gone)

    def _restore_paragraphs(self, index: Index, doc_ids: list[str]) -> Index:
        """Re-index these articles with the paragraphs that were dropped as copies of removed ones."""
        overrides = corpus_meta.load(self.settings.corpus_dir)
        paths = [self.settings.corpus_dir / (index.docs[d].doc.path or "") for d in doc_ids]
        redo = [self._read(path, overrides) for path in paths if path.is_file()]
        seen = index.paragraph_keys(exclude={d.doc_id for d in redo})
        kept = [drop_seen_paragraphs(d, seen) for d in redo]
        return index.with_documents(_with_dropped(redo, kept), self.qa.embedder)

    # ------------------------------------------------------------ metadata, sync

    def set_meta(self, doc_id: str, title: str | None = None, date: str | None = None) -> ChangeReport:
        """Correct an article's title and/or date (ISO). Only that article is re-indexed, and the
        values are kept in corpus/.meta.json so rebuilds and re-added files keep them."""
        t0 = time.perf_counter()
        values = corpus_meta.checked(title, date)
        report = ChangeReport()
        with self._write_lock():
            index = self._load_for_write()
            rec = index.docs.get(doc_id)
            if rec is None:
                raise IngestError(f"{doc_id}: no such article in the index (see dadong-qa list)")
            doc = replace(rec.doc, **values)
            corpus_meta.save(self.settings.corpus_dir, doc_id, **values)
            if doc == rec.doc:
                report.unchanged.append(doc_id)
            else:
                keys = rec.dropped_keys if rec.dropped_keys is not None else frozenset()
                index = index.with_documents([(doc, rec.dropped_shared, keys)], self.qa.embedder)
                store.save(index, self.settings.index_dir)
                self.qa.publish(index)
                report.replaced.append(doc_id)
        report.seconds = time.perf_counter() - t0
        return report

    def sync(self) -> ChangeReport:
        """Make the index match the corpus folder: new and changed files added, deleted ones removed."""
        return sync(self)

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with store.write_lock(self.settings.index_dir, self.settings.lock_timeout):
            yield

    def _read(self, path: Path, overrides: dict[str, dict[str, str]]) -> Document:
        """An article file as a `Document`, with what editors set for it (corpus_meta)."""
        return corpus_meta.apply(read_file(path, self.settings.max_file_bytes), overrides)

    def _empty(self) -> Index:
        s = self.settings
        return Index.empty(self.qa.embedder, self.qa.chunk_params, s.index_backend, s.index_uri, s.index_dir)

    def _load_for_write(self) -> Index:
        """The live version (called under the write lock): the loaded one if still current.

        A lost index (CURRENT naming a missing version) is not taken as an empty one: adding to
        that would replace the whole collection with the new articles.
        """
        if store.exists(self.settings.index_dir):
            return self.qa.loaded_index() or self.qa.load_index()
        if lost := store.dangling_version(self.settings.index_dir):
            raise IndexCorruptError(
                f"{store.lost_index_message(self.settings.index_dir, lost)}; nothing was changed. "
                f"Rebuild it from {self.settings.corpus_dir} with: dadong-qa build"
            )
        return self._empty()


def _drop_duplicates(docs: list[Document], report: ChangeReport) -> tuple[list[Document], list[tuple[Document, int]]]:
    """Articles de-duplicated across each other; one whose every paragraph is in an earlier one is refused."""
    kept = dedupe_across(docs)
    out_docs, out_kept = [], []
    for doc, (clean, dropped) in zip(docs, kept, strict=True):
        if has_body(clean.text):
            out_docs.append(doc)
            out_kept.append((clean, dropped))
        else:
            _skip_duplicate(report, doc, [d for d in docs if d is not doc])
    return out_docs, out_kept


def _as_aliased(index: Index, aliased: dict[str, Document]) -> list[Item]:
    """Indexed articles that gained a near-copy as another source, to be stored again as they were."""
    return [
        (doc, index.docs[d].dropped_shared, index.docs[d].dropped_keys or frozenset()) for d, doc in aliased.items()
    ]


def _sharing_dropped_paragraphs(index: Index, gone: set[str]) -> list[str]:
    """Articles that had paragraphs dropped as duplicates of a removed one: they get them back
    (only those: re-embedding every article with a dropped paragraph is slow at scale)."""
    gone_keys = index.paragraph_keys(exclude=set(index.docs) - gone).hashes
    return [
        r.doc.doc_id
        for r in index.docs.values()
        if r.dropped_shared and r.doc.doc_id not in gone and (r.dropped_keys is None or r.dropped_keys & gone_keys)
    ]


def _with_dropped(originals: list[Document], kept: list[tuple[Document, int]]) -> list[Item]:
    """Each kept article with the hashed keys of the paragraphs de-duplication dropped from it."""
    return [
        (doc, n, paragraph_hashes(orig) - paragraph_hashes(doc) if n else frozenset())
        for orig, (doc, n) in zip(originals, kept, strict=True)
    ]


def _skip_duplicate(report: ChangeReport, doc: Document, others: Iterable[Document]) -> None:
    """`doc` is not indexed: every paragraph of it is already in another article. A normal outcome
    (reported, exit 0), not an error: the file was read, and what it says is in the index."""
    same = next((o.doc_id for o in others if o.sha256 == doc.sha256 or o.text == doc.text), None)
    where = f"article {same!r}" if same else "other articles"
    report.skipped.append(doc.doc_id)
    report.notes.append(f"{doc.path}: duplicate: every paragraph is already in {where}; skipped")


def _check_unique_ids(docs: list[Document], report: ChangeReport) -> None:
    seen: set[str] = set()
    for doc in list(docs):
        if doc.doc_id in seen:
            report.errors.append(f"{doc.path}: same article id {doc.doc_id!r} as another file; skipped")
            docs.remove(doc)
        seen.add(doc.doc_id)
