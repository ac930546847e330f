"""The audit log: one JSON line per change to the collection (add, replace, remove, restore, build).

Written where the change happens, once: `Library.add` / `remove` / `build` (library.py) are wrapped with
`audited`, and every caller (CLI, editor UI, API) passes who it acts for as `actor=`.
Each line goes out in a single `os.write` on an `O_APPEND` descriptor, under an exclusive lock,
and is fsynced, so concurrent writers never interleave; a writer killed part way through a line
leaves a torn tail, which the next writer cuts off, so the log holds whole lines only.

It fails closed: a change is only made once the log has been opened for appending (and has some
free space), so an unwritable log stops the change with `AuditLogError` before anything moves.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dadong_qa.index import file_sha256  # the index's own file checksum

if TYPE_CHECKING:
    from dadong_qa.config import Settings
    from dadong_qa.library import Library
    from dadong_qa.schema import ChangeReport

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
# The logs' folder beside the index folder: logs/ in the project folder by default, which git
# ignores, so running the app never changes a checkout (the logs used to be written at its root).
LOG_DIR = "logs"
CLI_ACTOR = "cli"
LOCAL_ACTOR = "local"  # the app on a loopback address with no editors configured
_MAX_IDS = 1000  # a rebuild of a large collection logs a count beyond this, not every id
_MIN_FREE_BYTES = 1 << 20  # a change's line is a few kB (a rebuild's at most ~100 kB)


class AuditLogError(OSError):
    """The audit log cannot be written. `changed`: False when nothing was changed because of it
    (the usual case: checked first), True when the change was made and only its line is missing."""

    def __init__(self, message: str, changed: bool = False) -> None:
        super().__init__(message)
        self.changed = changed


_F = TypeVar("_F", bound=Callable[..., Any])


def log_dir(settings: Settings) -> Path:
    """The folder of the audit log (and of the reader logs next to it)."""
    return audit_path(settings).parent


def audit_path(settings: Settings) -> Path:
    """`audit_log` if set, else logs/audit.jsonl beside the index folder."""
    return Path(settings.audit_log) if settings.audit_log else settings.index_dir.parent / LOG_DIR / AUDIT_FILE


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one JSON line: one write of the whole line, O_APPEND, fsync, under an
    exclusive lock on the file, after cutting off a line a killed writer left without its newline."""
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor closes, or its process dies
        _cut_torn_tail(fd)
        written = os.write(fd, data)
        if written != len(data):  # only on a full disk; the short line is cut off by read_lines
            raise OSError(f"{path}: short write ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_torn_tail(fd: int) -> None:
    """Cut the file back to its last newline. A SIGKILL can stop a large write part way (a 2 kB
    line was cut in the middle of a character, and the next writer's record ran on after it,
    so neither line could be read); under the lock no other writer is mid-line."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - 4096)
        at = os.pread(fd, end - start, start).rfind(b"\n")
        if at >= 0:
            end = start + at + 1
            break
        end = start
    if end < size:
        os.ftruncate(fd, end)


def read_lines(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The records of a JSONL log, oldest first (the last `limit`); unreadable lines are skipped."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return records[-limit:] if limit else records


def change_record(
    actor: str, action: str, report: ChangeReport | None, files: list[dict[str, str]], error: str = ""
) -> dict[str, Any]:
    """The audit line for one change: who, what, which articles and files, and how it went."""
    record: dict[str, Any] = {"time": now_iso(), "actor": actor, "action": action}
    if report is None:
        return {**record, "doc_ids": [], "files": files, "outcome": "error", "errors": [error]}
    changed = [*report.added, *report.replaced, *report.removed]
    record["doc_ids"] = changed[:_MAX_IDS]
    if len(changed) > _MAX_IDS:
        record["doc_count"] = len(changed)
    for key in ("added", "replaced", "removed", "unchanged", "skipped"):
        ids = getattr(report, key)
        if ids and len(ids) <= _MAX_IDS:
            record[key] = ids
    record["files"] = files
    if report.errors:
        record["outcome"] = "partial" if changed else "refused"
        record["errors"] = report.errors
    else:
        record["outcome"] = "ok" if changed else "unchanged"
    return record


def _input_files(qa: Library, paths: Iterable[str | Path]) -> list[dict[str, str]]:
    out = []
    for p in paths:
        path = Path(p)
        try:
            out.append({"name": path.name, "sha256": file_sha256(path)})
        except OSError:
            out.append({"name": path.name, "sha256": ""})
    return out


def _indexed_files(qa: Library, doc_ids: Iterable[str]) -> list[dict[str, str]]:
    try:
        docs = qa.index.docs
    except Exception:  # no index yet: the removal reports that itself
        return []
    return [{"name": docs[d].doc.path or d, "sha256": docs[d].doc.sha256} for d in doc_ids if d in docs]


def _no_files(qa: Library, _: Iterable[Any]) -> list[dict[str, str]]:
    return []


FILES_OF: dict[str, Callable[[Library, Iterable[Any]], list[dict[str, str]]]] = {
    "add": _input_files,
    "remove": _indexed_files,
    "build": _no_files,
}


def audited(action: str) -> Callable[[_F], _F]:
    """Wrap a Library change method so each call appends one audit line.

    The wrapped method takes two extra keywords: `actor` (editor name, default "cli") and
    `audit_action` (to log e.g. a restore, which is an add, under its own name).
    """
    files_of = FILES_OF[action]

    def wrap(method: _F) -> _F:
        @functools.wraps(method)
        def run(qa: Library, *args: Any, actor: str = CLI_ACTOR, audit_action: str | None = None, **kwargs: Any) -> Any:
            targets: list[Any] = []
            if action != "build" and args:  # paths or doc_ids: a one-shot iterator must serve log and method
                targets = list(args[0])
                args = (targets, *args[1:])
            path = audit_path(qa.settings)
            check_writable(path)  # fail closed: no change is made that cannot be logged
            files = files_of(qa, targets)
            try:
                report = method(qa, *args, **kwargs)
            except BaseException as exc:
                _write_failure(path, change_record(actor, audit_action or action, None, files, f"{exc!r}"))
                raise
            record = change_record(actor, audit_action or action, report, files)
            try:
                append_line(path, record)
            except OSError as exc:  # after the check: the disk filled up meanwhile, say
                log.error("could not write the audit log %s: %s", path, json.dumps(record, ensure_ascii=False))
                raise AuditLogError(
                    f"the {record['action']} was made, but its line could not be written to the audit log "
                    f"{path} ({exc.strerror or exc}); the line is in the error log",
                    changed=True,
                ) from None
            return report

        return run  # type: ignore[return-value]

    return wrap


def check_writable(path: Path) -> None:
    """`AuditLogError` unless the log can be opened for appending (created, with its folder, if
    missing) and its disk has room for a line; nothing is written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640))
        if shutil.disk_usage(path.parent).free < _MIN_FREE_BYTES:
            raise OSError("no space left on the disk")
    except OSError as exc:
        raise AuditLogError(
            f"cannot write the audit log {path} ({exc.strerror or exc}); nothing was changed: "
            "a change is only made when it can be logged (fix the file or its folder, or set audit_log)"
        ) from None


def _write_failure(path: Path, record: dict[str, Any]) -> None:
    """The line of a change that failed (so changed nothing); the failure is what the caller sees."""
    try:
        append_line(path, record)
    except OSError as exc:
        log.error("could not write the audit log %s (%s): %s", path, exc, json.dumps(record, ensure_ascii=False))


def recent(settings: Settings, limit: int = 50) -> list[dict[str, Any]]:
    """The newest audit records, newest first."""
    return list(reversed(read_lines(audit_path(settings), limit)))
