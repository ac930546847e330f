"""Errors of the index store; each message says what to do."""

from __future__ import annotations

REBUILD_HINT = "Rebuild it with: dadong-qa build"


class IndexStoreError(RuntimeError):
    """The index is missing, damaged, locked or does not match the settings."""


class IndexMissingError(IndexStoreError):
    pass


class IndexMismatchError(IndexStoreError):
    pass


class IndexCorruptError(IndexStoreError):
    pass


class IndexLockedError(IndexStoreError):
    pass


def embedder_mismatch(built_name: str, built_dim: int, name: str, dim: int, where: str) -> IndexMismatchError:
    """The index was built with another embedder than the configured one."""
    return IndexMismatchError(
        f"{where} was built with embedder {built_name!r} ({built_dim} dims) but the "
        f"configured embedder is {name!r} ({dim} dims). {REBUILD_HINT}, or set "
        f"DADONG_QA_EMBEDDER={built_name}"
    )
