"""The index: articles, sentences and chunks, their vectors and a BM25 keyword index.

- `model.py`    `Index`, one immutable version in memory: queries, and changes returning a new one
- `records.py`  article records, paragraph-key hashes, segments
- `build.py`    the build pipeline: chunk, embed, tokenise -> one new segment
- `storage.py`  the format on disk: versions, manifest, CURRENT, write lock, clean-up
- `errors.py`   `IndexStoreError` and its kinds, each with a how-to-fix message
- `keyword.py`  BM25 over segments; `backends/` where the vectors live (FAISS, Milvus)
"""

from .errors import (
    REBUILD_HINT,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
)
from .model import Index
from .records import DocRecord, ParagraphKeys, Progress, Segment, paragraph_hashes
from .storage import (
    SCHEMA_VERSION,
    current_version,
    dangling_version,
    exists,
    file_sha256,
    load,
    lost_index_message,
    read_manifest,
    save,
    write_lock,
)

__all__ = [
    "REBUILD_HINT",
    "SCHEMA_VERSION",
    "DocRecord",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStoreError",
    "ParagraphKeys",
    "Progress",
    "Segment",
    "current_version",
    "dangling_version",
    "exists",
    "file_sha256",
    "load",
    "lost_index_message",
    "paragraph_hashes",
    "read_manifest",
    "save",
    "write_lock",
]
