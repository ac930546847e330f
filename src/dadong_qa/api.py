"""Public API: `ask()` and the `QA` class that owns an index and its corpus folder."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import corpus_meta
from . import index as store
from .answer import AnswerParams, ExtractiveAnswerer
from .audit import audited
from .chunk import ChunkParams
from .config import Settings, load_settings
from .embed import Embedder, get_embedder
from .folder_sync import Pending, pending, sync
from .formats import citation_source
from .generate import GenerationError, GenerativeAnswerer, Generator, fell_back, make_generator
from .index import Index, Progress, paragraph_hashes
from .ingest import (
    IngestError,
    corpus_files,
    dedupe_across,
    drop_seen_paragraphs,
    has_body,
    make_doc_id,
    read_file,
)
from .multipart import answer_question
from .near_dup import fold_into_index, fold_near_copies, other_article_same_name
from .rerank import get_reranker
from .retrieve import Retrieval, Retriever
from .rewrite import standalone_question
from .schema import Answer, Document
from .text import warm_up


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long); the message says why."""


@dataclass
class ChangeReport:
    """What a corpus change did, for the CLI and the UI."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # done, but not as asked: near-copies folded, ids changed


@dataclass
class _Live:
    """The loaded index with the components built on it, swapped as one object."""

    index: Index
    retriever: Retriever
    answerer: ExtractiveAnswerer


class QA:
    """Question answering over one corpus folder and index folder.

    The index is loaded on first use and shared by all threads. A change made through this
    object, or by another process (the CLI while the app runs), is picked up at the next
    question: readers keep the version they started with, never a half-written one.
    """

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None, **overrides: Any) -> None:
        self.settings = (settings or load_settings()).with_overrides(**overrides)
        self._embedder = embedder  # None: the one named by the settings
        self._live: _Live | None = None
        self._lock = threading.Lock()
        self._generator: Generator | GenerationError | None = None  # made on first use

    # ------------------------------------------------------------ components

    @property
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        return get_embedder(self.settings.embedder, self.settings.embed_batch_size)

    @property
    def chunk_params(self) -> ChunkParams:
        s = self.settings
        return ChunkParams(s.chunk_sentences, s.chunk_overlap, s.chunk_max_chars)

    def _activate(self, index: Index) -> _Live:
        reranker = get_reranker(self.settings.reranker)
        retriever = Retriever(index, self.embedder, self.settings, reranker)
        live = _Live(index, retriever, ExtractiveAnswerer(index, AnswerParams.of(self.settings)))
        self._live = live
        return live

    def live(self) -> _Live:
        """The current index, reloaded if another process replaced it."""
        live = self._live
        on_disk = store.current_version(self.settings.index_dir)
        if live is not None and (on_disk is None or live.index.version == on_disk):
            return live
        with self._lock:
            live = self._live
            if live is not None and live.index.version == store.current_version(self.settings.index_dir):
                return live
            warm_up()
            # Never builds: reading must not create or replace an index (`ensure_index` does that).
            return self._activate(self._load())

    @property
    def index(self) -> Index:
        return self.live().index

    # ------------------------------------------------------------ asking

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid", history: list | None = None) -> Answer:
        """Answer `question` from the articles; see `Answer` for the fields.

        `history`: the conversation so far, as [{"role", "content"}] messages or (question,
        answer) pairs; a follow-up question is then rewritten into a standalone one for
        retrieval (`Answer.rewritten_question`).
        """
        *_, answer = self.ask_stream(question, k=k, mode=mode, history=history)
        return answer  # type: ignore[return-value]  # ask_stream always ends with the Answer

    def ask_stream(
        self, question: str, k: int | None = None, mode: str = "hybrid", history: list | None = None
    ) -> Iterator[str | Answer]:
        """Answer `question` as `ask` does, showing a generated answer while it is written.

        Yields zero or more `str`, then exactly one `Answer`, always last:
        - each `str` is the whole raw text generated so far (not a delta). It is unverified model
          output whose `[n]` markers number the passages given to the model, so show it as a
          draft and replace it with the final answer;
        - the `Answer` is the verified result, as `ask` returns it: its text, `[k]` markers
          (indexing `citations`), `generator`, `fallback` and `notes` are what to show.
        With the extractive default, or when the backend fails before writing anything, only
        the `Answer` comes. Raises `QuestionError` before yielding anything, like `ask`.
        Stopping the iteration early stops the generation.
        """
        q = self._clean_question(question)
        try:
            rewritten = standalone_question(q, history, self.settings.history_turns) if history else None
        except TypeError as exc:
            raise QuestionError(str(exc)) from exc
        q = rewritten or q
        t0 = time.perf_counter()
        live = self.live()
        t1 = time.perf_counter()
        def retrieve(text: str) -> Retrieval:
            return live.retriever.retrieve(text, k=k or self.settings.top_k, mode=mode)

        retrieval = retrieve(q)
        t2 = time.perf_counter()
        for item in self._answer_stream(q, live, retrieval, retrieve):
            if isinstance(item, Answer):
                t3 = time.perf_counter()
                item = replace(
                    item,
                    question=question,
                    rewritten_question=rewritten,
                    timings_ms={
                        "load": round((t1 - t0) * 1000, 2),
                        "retrieve": round((t2 - t1) * 1000, 2),
                        "answer": round((t3 - t2) * 1000, 2),
                        "total": round((t3 - t0) * 1000, 2),
                    },
                )
            yield item

    def _clean_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise QuestionError("the question must be text")
        # Lone surrogates (from broken JSON or clipboard text) cannot be encoded, so they would
        # fail deep in the pipeline: pair what pairs, replace the rest with U+FFFD.
        question = question.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        q = " ".join(question.split())
        if not q:
            raise QuestionError("请输入问题（the question is empty）")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(
                f"问题太长：{len(q)} 个字符，上限 {self.settings.max_question_chars}（question too long）"
            )
        return q

    def _answer_stream(
        self, q: str, live: _Live, retrieval: Retrieval, retrieve: Callable[[str], Retrieval]
    ) -> Iterator[str | Answer]:
        """The configured generator's drafts, then its verified answer (or the extractive one)."""

        def extractive() -> Answer:  # part by part for a multi-part question (multipart.py)
            return answer_question(live.answerer, retrieve, q, retrieval)

        generator = self._get_generator()
        if generator is None:
            yield extractive()
        elif isinstance(generator, GenerationError):
            yield fell_back(extractive(), self.settings.generator, str(generator))
        else:
            for item in GenerativeAnswerer(generator, live.index.sentences, self.settings).stream(
                q, retrieval.passages, extractive
            ):
                yield _with_sources(item, live.index) if isinstance(item, Answer) else item

    def _get_generator(self) -> Generator | GenerationError | None:
        if self._generator is None and self.settings.generator != "extractive":
            with self._lock:
                if self._generator is None:
                    try:
                        self._generator = make_generator(self.settings)
                    except GenerationError as exc:  # misconfigured: say so with every answer
                        self._generator = exc
        return self._generator

    # ------------------------------------------------------------ corpus changes

    @audited("build")  # one audit line per call; callers pass actor=
    def build(self, progress: Progress | None = None) -> ChangeReport:
        """Rebuild the whole index from the corpus folder."""
        t0 = time.perf_counter()
        report = ChangeReport()
        docs: list[Document] = []
        corpus = self.settings.corpus_dir
        if not corpus.is_dir():  # a typo must not replace the live index with an empty one
            raise IngestError(f"corpus folder {corpus} does not exist (check --corpus); the index was not changed")
        files = corpus_files(corpus)
        overrides = corpus_meta.load(corpus)
        for i, path in enumerate(files):
            try:
                docs.append(self._read(path, overrides))
            except IngestError as exc:
                report.errors.append(str(exc))
            if progress:
                progress("read", i + 1, len(files))
        _check_unique_ids(docs, report)
        docs, report.notes = fold_near_copies(docs, self.settings.near_duplicate_threshold)
        kept = dedupe_across(docs)
        for doc, (clean, _) in zip(list(docs), list(kept), strict=True):
            if not has_body(clean.text):  # every paragraph is in an earlier article
                report.errors.append(_duplicate_message(doc, [d for d in docs if d is not doc]))
                docs.remove(doc)
                kept.remove((clean, _))
        with store.write_lock(self.settings.index_dir, self.settings.lock_timeout):
            if not docs and store.exists(self.settings.index_dir):
                self._refuse_emptying(report)
            index = self._empty()
            index = index.with_documents(_with_dropped(docs, kept), self.embedder, progress)
            store.save(index, self.settings.index_dir)
        self._activate(index)
        report.added = [d.doc_id for d in docs]
        report.seconds = time.perf_counter() - t0
        return report

    def _refuse_emptying(self, report: ChangeReport) -> None:
        """No article could be read: keep the index there is rather than replace it with an empty one."""
        kept = len(self._load_for_write().docs)
        if kept:
            why = "; ".join(report.errors[:3]) or f"no article files in {self.settings.corpus_dir}"
            raise IngestError(f"no article could be read ({why}); the index with {kept} articles was kept")

    def ensure_index(self, progress: Progress | None = None) -> bool:
        """Build the index if there is none and the corpus has articles; True if it was built.

        The chat app and the `ask()` helper call this on first use; reading (`ask`, `status`,
        `list_docs`) never builds, so a wrong --index cannot silently create one.
        """
        if store.exists(self.settings.index_dir) or not corpus_files(self.settings.corpus_dir):
            return False
        self.build(progress)
        return True

    @audited("add")  # one audit line per call; callers pass actor=
    def add(self, paths: Iterable[str | Path], progress: Progress | None = None) -> ChangeReport:
        """Add or replace articles; only new or changed ones are embedded."""
        t0 = time.perf_counter()
        report = ChangeReport()
        incoming: list[tuple[Path, Document]] = []
        overrides = corpus_meta.load(self.settings.corpus_dir)
        for path in paths:
            path = Path(path)
            try:
                incoming.append((path, self._read(path, overrides)))
            except IngestError as exc:
                report.errors.append(str(exc))
        with store.write_lock(self.settings.index_dir, self.settings.lock_timeout):
            index = self._load_for_write()
            self._drop_stale_copies()
            candidates = []
            for path, doc in incoming:
                old = index.docs.get(doc.doc_id)
                if old is not None and old.doc.sha256 == doc.sha256:
                    report.unchanged.append(doc.doc_id)
                    continue
                if old is not None and path.parent.resolve() != self.settings.corpus_dir.resolve():
                    doc, note = other_article_same_name(index, doc)  # index.html from another site
                    old = index.docs.get(doc.doc_id)
                    report.notes += [note] if note else []
                candidates.append((path, doc, old))
            candidates, aliased, notes = fold_into_index(
                index, candidates, self.settings.near_duplicate_threshold, self._store_in_corpus
            )
            report.notes += notes
            seen = index.paragraph_keys(exclude={d.doc_id for _, d, _ in candidates})
            kept = dedupe_across([d for _, d, _ in candidates], seen)
            originals: list[Document] = []
            accepted: list[tuple[Document, int]] = []
            stale: list[str] = []
            for (path, doc, old), (clean, dropped) in zip(candidates, kept, strict=True):
                if not has_body(clean.text):  # nothing the index does not already have
                    others = [r.doc for r in index.docs.values() if r.doc.doc_id != doc.doc_id] + originals
                    report.errors.append(_duplicate_message(doc, others))
                    continue
                # Stored before the index is switched: a crash in between leaves the file ready
                # for the next build, never an indexed article without its file.
                name = self._store_in_corpus(path, doc.doc_id)
                if old is not None and old.doc.path and old.doc.path != name:
                    stale.append(old.doc.path)  # same article id, other suffix (a.txt -> a.md)
                (report.replaced if old else report.added).append(doc.doc_id)
                originals.append(replace(doc, path=name))
                accepted.append((replace(clean, path=name), dropped))
            items = _with_dropped(originals, accepted) + [
                (doc, index.docs[d].dropped_shared, index.docs[d].dropped_keys or frozenset())
                for d, doc in aliased.items()
            ]
            if items:
                index = index.with_documents(items, self.embedder, progress)
                store.save(index, self.settings.index_dir)
                self._activate(index)
                for name in stale:
                    self._retire_from_corpus(name)
        report.seconds = time.perf_counter() - t0
        return report

    @audited("remove")  # one audit line per call; callers pass actor=
    def remove(self, doc_ids: Iterable[str]) -> ChangeReport:
        """Remove articles from the index at once; their files move to corpus/.removed/."""
        t0 = time.perf_counter()
        report = ChangeReport()
        wanted = list(doc_ids)
        with store.write_lock(self.settings.index_dir, self.settings.lock_timeout):
            index = self._load_for_write()
            gone = {d for d in wanted if d in index.docs}
            for d in wanted:
                if d in index.docs:
                    continue
                # Not indexed but its file is still in corpus/ (copied in by hand, or a removal
                # interrupted by an older version): move it, or the next build brings it back.
                leftovers = [p for p in corpus_files(self.settings.corpus_dir) if make_doc_id(p.name) == d]
                for p in leftovers:
                    self._retire_from_corpus(p.name)
                if leftovers:
                    report.removed.append(d)
                else:
                    report.errors.append(f"{d}: no such article in the index")
            if gone:
                paths = [index.docs[d].doc.path for d in gone]
                # Articles that had paragraphs dropped as duplicates of a removed one get them back
                # (only those: re-embedding every article with a dropped paragraph is slow at scale).
                gone_keys = index.paragraph_keys(exclude=set(index.docs) - gone).hashes
                revisit = [
                    r.doc.doc_id
                    for r in index.docs.values()
                    if r.dropped_shared
                    and r.doc.doc_id not in gone
                    and (r.dropped_keys is None or r.dropped_keys & gone_keys)
                ]
                index = index.without(gone)
                if revisit:
                    redo = []
                    overrides = corpus_meta.load(self.settings.corpus_dir)
                    for d in revisit:
                        path = self.settings.corpus_dir / (index.docs[d].doc.path or "")
                        if path.is_file():
                            redo.append(self._read(path, overrides))
                    seen = index.paragraph_keys(exclude={d.doc_id for d in redo})
                    kept = [drop_seen_paragraphs(d, seen) for d in redo]
                    index = index.with_documents(_with_dropped(redo, kept), self.embedder)
                # Files move out first: a crash before the switch then leaves the article indexed
                # but not in corpus/, so a later build also drops it, as the user asked.
                moved = [name for name in paths if self._retire_from_corpus(name)]
                try:
                    store.save(index, self.settings.index_dir)
                except BaseException:
                    for name in moved:
                        (self.settings.corpus_dir / ".removed" / name).replace(self.settings.corpus_dir / name)
                    raise
                self._activate(index)
                report.removed = sorted(gone | set(report.removed))
                corpus_meta.forget(self.settings.corpus_dir, gone)
        report.seconds = time.perf_counter() - t0
        return report

    def set_meta(self, doc_id: str, title: str | None = None, date: str | None = None) -> ChangeReport:
        """Correct an article's title and/or date (ISO). Only that article is re-indexed, and the
        values are kept in corpus/.meta.json so rebuilds and re-added files keep them."""
        t0 = time.perf_counter()
        values = corpus_meta.checked(title, date)
        report = ChangeReport()
        with store.write_lock(self.settings.index_dir, self.settings.lock_timeout):
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
                index = index.with_documents([(doc, rec.dropped_shared, keys)], self.embedder)
                store.save(index, self.settings.index_dir)
                self._activate(index)
                report.replaced.append(doc_id)
        report.seconds = time.perf_counter() - t0
        return report

    def _read(self, path: Path, overrides: dict[str, dict[str, str]]) -> Document:
        """An article file as a `Document`, with what editors set for it (corpus_meta)."""
        return corpus_meta.apply(read_file(path, self.settings.max_file_bytes), overrides)

    def _load(self) -> Index:
        s = self.settings
        return store.load(s.index_dir, self.embedder, backend=s.index_backend, uri=s.index_uri)

    def _empty(self) -> Index:
        s = self.settings
        return Index.empty(self.embedder, self.chunk_params, s.index_backend, s.index_uri, s.index_dir)

    def _load_for_write(self) -> Index:
        """The live version (called under the write lock): the loaded one if still current."""
        if store.exists(self.settings.index_dir):
            live = self._live
            if live is not None and live.index.version == store.current_version(self.settings.index_dir):
                return live.index  # immutable: changes make a new Index, so sharing it is safe
            return self._load()
        return self._empty()

    def _store_in_corpus(self, path: Path, doc_id: str | None = None) -> str:
        """Copy an added file into the corpus folder under a safe name (its article id); return that name."""
        corpus = self.settings.corpus_dir
        corpus.mkdir(parents=True, exist_ok=True)
        if path.parent.resolve() == corpus.resolve():
            return path.name  # already there (sync): a second copy under another name would be indexed twice
        target = corpus / ((doc_id or make_doc_id(path.name)) + path.suffix.lower())
        if path.resolve() != target.resolve():
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        return target.name

    def _drop_stale_copies(self) -> None:
        """Delete half-copied files a killed `add` left (called under the write lock, so no copy is running)."""
        corpus = self.settings.corpus_dir
        if corpus.is_dir():
            for p in corpus.glob(".*.tmp"):
                p.unlink(missing_ok=True)

    def _retire_from_corpus(self, name: str | None) -> bool:
        """Move a corpus file to corpus/.removed/; False if there was none."""
        if not name:
            return False
        path = self.settings.corpus_dir / name
        if not path.is_file():
            return False
        trash = self.settings.corpus_dir / ".removed"
        trash.mkdir(exist_ok=True)
        path.replace(trash / name)
        return True

    # ------------------------------------------------------------ inspection

    def list_docs(self) -> list[dict[str, Any]]:
        index = self.index
        return [
            {
                "doc_id": r.doc.doc_id,
                "title": r.doc.title,
                "date": r.doc.date,
                "author": r.doc.author,
                "sentences": len(r.sentence_ids),
                "chunks": len(r.chunk_ids),
                "path": r.doc.path,
            }
            for r in sorted(index.docs.values(), key=lambda r: r.doc.doc_id)
        ]

    def pending(self) -> Pending:
        """How the corpus folder differs from the index (files not yet indexed, changed, deleted)."""
        return pending(self.settings.corpus_dir, self.index)

    def sync(self) -> ChangeReport:
        """Make the index match the corpus folder: new and changed files added, deleted ones removed."""
        return sync(self)

    def status(self, pending: bool = True) -> dict[str, Any]:
        """Index facts; with `pending`, also the corpus files not yet indexed, changed or deleted
        (this reads every corpus file to compare hashes, so the app's status line skips it)."""
        index = self.index
        todo = self.pending() if pending else Pending()
        return {
            "backend": index.backend_kind,
            "embedder": index.embedder_name,
            "dim": index.dim,
            "docs": len(index.docs),
            "chunks": len(index.chunks),
            "sentences": len(index.sentences),
            "built_at": index.built_at,
            "updated_at": index.updated_at,
            "version": index.version,
            "index_dir": str(self.settings.index_dir),
            "corpus_dir": str(self.settings.corpus_dir),
            "not_indexed": todo.new,
            "changed": todo.changed,
            "missing": todo.missing,
        }


def _with_dropped(
    originals: list[Document], kept: list[tuple[Document, int]]
) -> list[tuple[Document, int, frozenset[int]]]:
    """Each kept article with the hashed keys of the paragraphs de-duplication dropped from it."""
    return [
        (doc, n, paragraph_hashes(orig) - paragraph_hashes(doc) if n else frozenset())
        for orig, (doc, n) in zip(originals, kept, strict=True)
    ]


def _duplicate_message(doc: Document, others: Iterable[Document]) -> str:
    """Why `doc` was not indexed: every paragraph of it is already in another article."""
    same = next((o.doc_id for o in others if o.sha256 == doc.sha256 or o.text == doc.text), None)
    where = f"article {same!r}" if same else "other articles"
    return f"{doc.path}: duplicate: every paragraph is already in {where}; not added"


def _with_sources(answer: Answer, index: Index) -> Answer:
    """Page, URL and other sources on the citations of a generated answer (verify.py knows sentences only)."""
    for c in answer.citations:
        sent = index.sentences.get(c.sentence_id)
        if sent is not None and sent.doc_id in index.docs:
            for key, value in citation_source(index.doc_meta(sent.doc_id), sent.start).items():
                setattr(c, key, value)
    return answer


def _check_unique_ids(docs: list[Document], report: ChangeReport) -> None:
    seen: set[str] = set()
    for doc in list(docs):
        if doc.doc_id in seen:
            report.errors.append(f"{doc.path}: same article id {doc.doc_id!r} as another file; skipped")
            docs.remove(doc)
        seen.add(doc.doc_id)


_default: QA | None = None
_default_lock = threading.Lock()


def default_qa() -> QA:
    """The process-wide QA over ./corpus and ./index (or DADONG_QA_CORPUS / DADONG_QA_INDEX)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
        return _default


def ask(question: str, **opts: Any) -> Answer:
    """Answer a Chinese question from the default index, loaded once and reused.

    Options: `k` (passages returned), `mode` ("hybrid", "dense", "bm25"), `history` (the
    conversation so far, for follow-up questions; see `QA.ask`). The answer is written by the
    configured generator (`Settings.generator`; extractive by default), see `QA.ask_stream`.
    """
    qa = default_qa()
    qa.ensure_index()  # first use in a folder with articles: build, as `make run` does
    return qa.ask(question, **opts)
