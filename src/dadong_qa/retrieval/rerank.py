"""Optional cross-encoder reranking of the fused candidates.

Off by default: no reranker model ships with a PyPI package and no model hub is reachable
here. Set `reranker` (env DADONG_QA_RERANKER) to a sentence-transformers CrossEncoder name in
the local cache or a local folder (e.g. a downloaded BAAI/bge-reranker-base) to turn it on.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dadong_qa.embed import offline_hub


class RerankerError(RuntimeError):
    pass


class Reranker(Protocol):
    name: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """Relevance of each text to the query, higher is better, in 0..1."""
        ...


class CrossEncoderReranker:
    def __init__(self, name_or_path: str, max_length: int = 512) -> None:
        try:
            from sentence_transformers import CrossEncoder

            with offline_hub():  # fail at once, no hub retries
                self._model = CrossEncoder(name_or_path, max_length=max_length, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types for "not found" / "offline"
            raise RerankerError(
                f"cannot load cross-encoder {name_or_path!r}: {exc}. Give a local model folder or a "
                "model name already in the local cache (no model hub is reachable), or unset the reranker."
            ) from exc
        self.name = name_or_path
        self._lock = threading.Lock()

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            raw = np.asarray(self._model.predict([(query, t) for t in texts]), dtype=np.float32)
        if raw.ndim > 1:  # a classifier with several labels: take the last ("relevant") one
            raw = raw[:, -1]
        if raw.min() < 0.0 or raw.max() > 1.0:  # logits: map to 0..1
            raw = 1.0 / (1.0 + np.exp(-raw))
        return raw


_cache: dict[str, Reranker] = {}
_cache_lock = threading.Lock()


def get_reranker(name: str) -> Reranker | None:
    """The reranker for a setting value ("" = none), loaded once per process."""
    if not name:
        return None
    with _cache_lock:
        if name not in _cache:
            _cache[name] = CrossEncoderReranker(name)
        return _cache[name]
