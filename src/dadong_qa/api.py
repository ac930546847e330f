"""Public API: `ask()` and the `QA` class that answers from an index (changes: `QA.library`, library.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dadong_qa import index as store
from dadong_qa.answering.answer import AnswerParams, ExtractiveAnswerer
from dadong_qa.answering.generate import GenerationError, GenerativeAnswerer, Generator, fell_back, make_generator
from dadong_qa.answering.multipart import answer_question
from dadong_qa.config import Settings, load_settings
from dadong_qa.embed import Embedder, get_embedder
from dadong_qa.index import Index, Progress
from dadong_qa.ingestion.chunk import ChunkParams
from dadong_qa.ingestion.folder_sync import Pending, pending
from dadong_qa.ingestion.formats import citation_source
from dadong_qa.library import ChangeReport, Library
from dadong_qa.retrieval.rerank import get_reranker
from dadong_qa.retrieval.retrieve import Retrieval, Retriever
from dadong_qa.retrieval.rewrite import standalone_question, stands_alone
from dadong_qa.schema import Answer
from dadong_qa.text import warm_up


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long); the message says why."""


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
        self.library = Library(self)  # the writer: build, add, remove, set_meta, sync

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
            return self._activate(self.load_index())

    def warm(self) -> None:
        """Load the index, the embedder and the reader now, before the first question (a
        server's first user would otherwise wait ~3 s for the reader and torch)."""
        _ = self.live().answerer.reader  # the property loads it (None with reader = false)

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
        asked, q = q, rewritten or q
        t0 = time.perf_counter()
        live = self.live()
        t1 = time.perf_counter()

        def retrieve(text: str) -> Retrieval:
            return live.retriever.retrieve(text, k=k or self.settings.top_k, mode=mode)

        retrieval = retrieve(q)
        t2 = time.perf_counter()
        answer = None
        for item in self._answer_stream(q, live, retrieval, retrieve):
            if isinstance(item, Answer):
                answer = item
            else:
                yield item  # a generated draft
        if rewritten and isinstance(answer, Answer) and not answer.answered and stands_alone(asked):
            # The rewrite guessed that the question leans on the previous one; the articles say
            # nothing to that reading, and the question is whole as asked: "给企业发了多少上云补贴？"
            # after "氢燃料电池汽车产业园占地多少？" was refused as "氢燃料电池汽车产业园给企业发了…".
            for item in self._answer_stream(asked, live, retrieve(asked), retrieve):
                if not isinstance(item, Answer):
                    yield item
                elif item.answered:
                    answer, rewritten = item, None
        t3 = time.perf_counter()
        if isinstance(answer, Answer):
            yield replace(
                answer,
                question=question,
                rewritten_question=rewritten,
                timings_ms={
                    "load": round((t1 - t0) * 1000, 2),
                    "retrieve": round((t2 - t1) * 1000, 2),
                    "answer": round((t3 - t2) * 1000, 2),
                    "total": round((t3 - t0) * 1000, 2),
                },
            )

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

    # ------------------------------------------------------------ the index, for the writer

    def load_index(self) -> Index:
        """The live version on disk, loaded (not yet used for questions: see `publish`)."""
        s = self.settings
        return store.load(s.index_dir, self.embedder, backend=s.index_backend, uri=s.index_uri)

    def loaded_index(self) -> Index | None:
        """The index questions are answered from, if it is still the live version on disk."""
        live = self._live
        if live is not None and live.index.version == store.current_version(self.settings.index_dir):
            return live.index  # immutable: changes make a new Index, so sharing it is safe
        return None

    def publish(self, index: Index) -> None:
        """Answer the next questions from `index` (a version the writer has just saved)."""
        self._activate(index)

    # ------------------------------------------------------------ corpus changes (the Library's)

    def ensure_index(self, progress: Progress | None = None) -> bool:
        """Build the index if there is none and the corpus has articles (`Library.ensure_index`)."""
        return self.library.ensure_index(progress)

    def build(self, progress: Progress | None = None, **audit: str) -> ChangeReport:
        """Rebuild the whole index from the corpus folder (`Library.build`)."""
        return self.library.build(progress, **audit)

    def add(self, paths: Iterable[str | Path], progress: Progress | None = None, **audit: str) -> ChangeReport:
        """Add or replace articles (`Library.add`)."""
        return self.library.add(paths, progress, **audit)

    def remove(self, doc_ids: Iterable[str], **audit: str) -> ChangeReport:
        """Remove articles; their files move to corpus/.removed/ (`Library.remove`)."""
        return self.library.remove(doc_ids, **audit)

    def set_meta(self, doc_id: str, title: str | None = None, date: str | None = None) -> ChangeReport:
        """Correct an article's title and/or date (`Library.set_meta`)."""
        return self.library.set_meta(doc_id, title=title, date=date)

    def sync(self) -> ChangeReport:
        """Make the index match the corpus folder (`Library.sync`)."""
        return self.library.sync()

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


def _with_sources(answer: Answer, index: Index) -> Answer:
    """Page, URL and other sources on the citations of a generated answer (verify.py knows sentences only)."""
    for c in answer.citations:
        sent = index.sentences.get(c.sentence_id)
        if sent is not None and sent.doc_id in index.docs:
            for key, value in citation_source(index.doc_meta(sent.doc_id), sent.start).items():
                setattr(c, key, value)
    return answer


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
