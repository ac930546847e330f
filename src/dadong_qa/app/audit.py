"""The audit log's names, for the app modules that show it (the editor page's 修改记录, the actors).

The log itself lives in `dadong_qa.audit`, below the library that writes every change to it:
the library layer never imports from `app/`, so there is no import cycle between them.
"""

from __future__ import annotations

from dadong_qa.audit import (
    AUDIT_FILE,
    CLI_ACTOR,
    LOCAL_ACTOR,
    LOG_DIR,
    append_line,
    audit_path,
    file_sha256,
    log_dir,
    now_iso,
    read_lines,
    recent,
)

__all__ = [
    "AUDIT_FILE",
    "CLI_ACTOR",
    "LOCAL_ACTOR",
    "LOG_DIR",
    "append_line",
    "audit_path",
    "file_sha256",
    "log_dir",
    "now_iso",
    "read_lines",
    "recent",
]
