"""The pages say in Chinese why a file was refused (issue 21, item 14).

The library's messages stay English for the command line; `in_chinese` writes them in Chinese
for the editor pages. The last test reads the library's source: a new message raised there
without a Chinese counterpart here fails it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT
from dadong_qa.app.ui_common import add_uploads, report_lines
from dadong_qa.app.zh_messages import in_chinese
from dadong_qa.text import CJK

PACKAGE = ROOT / "src" / "dadong_qa"
ENGLISH = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")  # three English words in a row


def test_known_messages_are_written_in_chinese() -> None:
    assert (
        in_chinese("报告.txt: the file is binary (contains NUL bytes), not a text article")
        == "报告.txt：这是二进制文件（含 NUL 字节），不是文本文章"
    )
    assert in_chinese("a.txt: this is a PDF document, not a text article") == "a.txt：这是PDF 文档，不是文本文章"
    assert in_chinese("no article text found in the HTML page") == "网页中没有找到文章正文"
    assert in_chinese("b.txt: duplicate: every paragraph is already in article 'lake'; not added") == (
        "b.txt：每一段都已收录在文章 lake 中，未添加"
    )
    why = "a.txt: the file is empty; b.txt: no text in the file"
    rebuild = f"no article could be read ({why}); the index with 3 articles was kept"
    assert in_chinese(rebuild) == "没有读到任何文章（a.txt：文件是空的；b.txt：文件里没有文字）；原有 3 篇文章的索引保持不变"  # noqa: E501
    assert in_chinese("something new: not known here") == "something new: not known here"


def test_refused_uploads_are_explained_in_chinese(tmp_path: Path, fresh_qa) -> None:
    """Files an editor might upload by mistake: every reason shown is Chinese."""
    bad = {
        "nul.txt": "正文".encode() + b"\0\0\0" + "正文".encode(),
        "empty.txt": b"",
        "misnamed.txt": b"%PDF-1.4 not really text",
        "noise.txt": bytes(range(128, 256)) * 8,
        "page.html": "<html><body><nav>首页</nav></body></html>".encode(),
        "broken.docx": b"PK\x03\x04 not a docx",
        "broken.pdf": b"%PDF-1.4 broken",
        "table.xlsx": b"PK\x03\x04",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    report = add_uploads(fresh_qa, [str(tmp_path / name) for name in bad])
    assert not report.added and len(report.errors) == len(bad)
    shown = [line for line in report_lines(report) if line.startswith("  • ")]
    assert len(shown) == len(bad)
    for line in shown:
        reason = line.split("：", 1)[1]
        assert re.search(f"[{CJK}]", reason) and not ENGLISH.search(reason), line


def _templates(path: Path) -> list[str]:
    """The messages `path` can raise or report, with "1" for every value filled in."""
    tree = ast.parse(path.read_text("utf-8"))
    messages: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            raised = name in ("IngestError", "FetchError", "FormatError")
            raised |= name == "ValueError" and path.name == "corpus_meta.py"
            reported = name == "append" and isinstance(func, ast.Attribute) and ast.unparse(func.value).endswith(
                ("errors", "notes")
            )
            if raised or reported:
                messages.append(node.args[0])
        elif isinstance(node, ast.FunctionDef) and node.name in ("_duplicate_message", "copy_note", "_too_large"):
            messages += [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]

    def render(expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for v in expr.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                else:
                    parts.append("'1'" if v.conversion == ord("r") else "1")  # type: ignore[union-attr]
            return "".join(parts)
        return None  # str(exc) and the like: a message made elsewhere

    found = []
    for expr in messages:
        text = render(expr)
        if text is not None and re.sub(r"[\d:;,\s']", "", text):  # more than values and separators
            found.append(text)
    return found


def test_every_message_the_library_can_show_has_its_chinese() -> None:
    files = [*sorted((PACKAGE / "ingestion").glob("*.py")), PACKAGE / "library.py"]
    templates = [t for f in files for t in _templates(f)]
    assert len(templates) > 30  # the walk finds the library's messages
    untranslated = [t for t in templates if not re.search(f"[{CJK}]", t) and in_chinese(t) == t]
    assert untranslated == []
