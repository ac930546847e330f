"""What editors said about articles that their files do not say: corrected title and date, the
web address an article was fetched from. Kept beside the articles in `corpus/.meta.json`, so a
rebuild from the corpus folder keeps them (the index is only ever a copy of corpus/).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date as Date
from pathlib import Path
from typing import Any

from dadong_qa.schema import Document

META_FILE = ".meta.json"
FIELDS = ("title", "date", "url")


def _path(corpus: Path) -> Path:
    return Path(corpus) / META_FILE


def load(corpus: Path) -> dict[str, dict[str, str]]:
    """doc_id -> {field: value}; empty when there is no file (or it is damaged: files stay the truth)."""
    try:
        data = json.loads(_path(corpus).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): {f: str(v[f]) for f in FIELDS if isinstance(v, dict) and v.get(f)}
        for k, v in data.items()
        if isinstance(v, dict)
    }


def save(corpus: Path, doc_id: str, **values: str | None) -> None:
    """Record `values` for `doc_id` (None leaves a field as it was), written atomically."""
    data = load(corpus)
    entry = data.setdefault(doc_id, {})
    entry.update({k: v for k, v in values.items() if k in FIELDS and v})
    Path(corpus).mkdir(parents=True, exist_ok=True)
    tmp = _path(corpus).with_name(META_FILE + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, _path(corpus))


def forget(corpus: Path, doc_ids: set[str]) -> None:
    """Drop the entries of removed articles, so a new article under the same id starts clean."""
    data = load(corpus)
    if any(d in data for d in doc_ids):
        for d in doc_ids:
            data.pop(d, None)
        tmp = _path(corpus).with_name(META_FILE + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, _path(corpus))


def apply(doc: Document, overrides: dict[str, dict[str, str]]) -> Document:
    """`doc` with the editor's values for it, if any."""
    entry = overrides.get(doc.doc_id)
    if not entry:
        return doc
    return replace(doc, **{k: v for k, v in entry.items() if k in FIELDS})


def checked(title: str | None, date: str | None) -> dict[str, Any]:
    """Validated new values; ValueError with a readable message for a bad one."""
    out: dict[str, Any] = {}
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise ValueError("the title is empty")
        out["title"] = title
    if date is not None:
        try:
            out["date"] = Date.fromisoformat(date.strip()).isoformat()
        except ValueError:
            raise ValueError(f"date {date!r} is not a date like 2022-09-20") from None
    if not out:
        raise ValueError("nothing to change: give --title and/or --date")
    return out
