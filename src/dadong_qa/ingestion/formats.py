"""Readers for the formats that are not plain text: PDF, Word (.docx) and tables.

Each reader turns its file into plain article text (paragraphs on lines) that `ingest`
cleans like any .txt, so every format goes through the same path. Tables, wherever they come
from (Markdown, HTML, Word), become sentences that keep their row and column labels
("2023年上半年 网上零售额：12.3亿元。"), so a figure can be found and quoted verbatim.
PDF page numbers are kept as (offset in the cleaned text, page) pairs for citations.
"""

from __future__ import annotations

import bisect
import contextlib
import html
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from dadong_qa.ingestion.chunk import split_sentences
from dadong_qa.schema import Document
from dadong_qa.text import WORDISH

PDF_SUFFIX = ".pdf"
DOCX_SUFFIX = ".docx"
BINARY_SUFFIXES = (PDF_SUFFIX, DOCX_SUFFIX)
SCANNED_PDF = "扫描件，没有可提取的文字"
ZIP_BOMB = "解压后过大，疑似压缩炸弹，已拒绝"
# A .docx is a ZIP archive of XML parts, and a small one can inflate to gigabytes. Only its XML
# and .rels parts are unpacked (the text is all that is read; images stay packed), at most this
# much of them in all: 10 MiB of WordprocessingML is a book of one to three million characters,
# and python-docx holds it as an lxml tree of at most ~25 times its size (about 250 MB).
MAX_DOCX_XML_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000  # Word writes a few dozen parts
_XML_PARTS = (".xml", ".rels")
_UNZIP_BLOCK = 64 * 1024

# A PDF page's running number: "3", "- 3 -", "第3页", "3 / 12", "第 3 页 共 12 页".
_PAGE_NUMBER = re.compile(r"^\s*[-—–]?\s*(?:第\s*)?\d{1,4}\s*(?:页)?\s*(?:(?:/|共)\s*\d{1,4}\s*页?)?\s*[-—–]?\s*$")
_CELL_END = re.compile(r"[。；;，,\s]+$")
_SPACES = re.compile(r"\s+")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PROBE_CHARS = 12  # characters of a sentence looked up in the page text: enough to be unique on a page


class FormatError(ValueError):
    """A PDF or Word file that cannot be read; the message says why."""


# ---------------------------------------------------------------- markup left in plain text

# Text copied from a web page or a search API keeps its entities and inline tags ("北京<em>故宫</em>",
# "&quot;"). Only tag names a page writes inline are taken out, so "x<5" and "<<三国演义>>" stay.
# A tag stays on one line: "<b" at a line's end and "r>" on the next are text.
_INLINE_TAG = re.compile(r"</?(?:em|b|strong|i|u|span|font|a|sup|sub|mark|small|big)(?:[^\S\n][^<>\n]{0,200})?>", re.I)
_LINE_TAG = re.compile(r"<(?:br|p|div|li)(?:[^\S\n][^<>\n]{0,200})?/?>|</(?:p|div|li)>", re.I)


def leftover_markup(text: str) -> str:
    """Plain text without the HTML a copied page leaves in it: inline tags go, line tags end the
    line, entities are decoded ("&nbsp;" a space, "&quot;" a quote)."""
    if "<" in text:
        text = _LINE_TAG.sub("\n", _INLINE_TAG.sub("", text))
    return html.unescape(text).replace("\xa0", " ") if "&" in text else text


# ---------------------------------------------------------------- tables


def _cell(text: str) -> str:
    return _CELL_END.sub("", _SPACES.sub(" ", text).strip())


def table_sentences(rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per data row: a sentence per cell, "<row label> <column label>：<value>。".

    The first row is taken as the column labels and the first column as the row labels, the
    way statistical tables are laid out. A table with one row or one column has no labels to
    pair, so its rows become plain sentences.
    """
    clean = [[_cell(c) for c in row] for row in rows]
    clean = [_merged(row) for row in clean if any(row)]
    if not clean:
        return []
    if len(clean) == 1 or max(len(r) for r in clean) == 1:
        return ["，".join(c for c in row if c) + "。" for row in clean]
    header = clean[0]
    return [line for line in (_row_sentences(row, header) for row in clean[1:]) if line]


def _row_sentences(row: list[str], header: list[str]) -> str:
    """A data row as "<row label> <column label>：<value>。" per non-empty cell ("" if none)."""
    label = row[0]
    parts = []
    for j, value in enumerate(row[1:], 1):
        column = header[j] if j < len(header) else ""
        if not value or value == column:
            continue
        subject = " ".join(x for x in (label, column) if x)
        parts.append(f"{subject}：{value}。" if subject else f"{value}。")
    return "".join(parts)


def _merged(row: list[str]) -> list[str]:
    """Word repeats a merged cell's text in every cell it spans; keep it once."""
    out: list[str] = []
    for i, c in enumerate(row):
        out.append("" if i and c and c == row[i - 1] else c)
    return out


def markdown_tables(text: str) -> str:
    """Markdown pipe tables replaced by their sentences; other lines untouched."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and _MD_SEPARATOR.match(lines[i + 1]):
            rows = [_md_cells(lines[i])]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_md_cells(lines[i]))
                i += 1
            out.extend(["", *table_sentences(rows), ""])
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _md_cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|").removesuffix("|")
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def html_tables(html: str) -> str:
    """HTML with each <table> replaced by paragraphs of its sentences (before main-text extraction)."""
    if "<table" not in html.lower():
        return html
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html
    # Innermost first, so a layout table holding a data table keeps the data table's labels.
    for table in reversed(root.xpath("//table")):
        rows = [[cell.text_content() for cell in tr.xpath("./th|./td")] for tr in table.xpath(".//tr")]
        block = lxml.html.Element("div")
        for line in table_sentences(rows):
            p = lxml.html.Element("p")
            p.text = line
            block.append(p)
        block.tail = table.tail
        table.getparent().replace(table, block)
    return lxml.html.tostring(root, encoding="unicode")


# ---------------------------------------------------------------- Word


def read_docx(data: bytes, name: str) -> str:
    """Paragraphs and tables of a .docx, in document order, as plain text."""
    import docx

    packed = _bounded_docx(data, name)
    try:
        document = docx.Document(io.BytesIO(packed))
    except Exception as exc:  # zipfile, lxml and python-docx each raise their own types
        raise FormatError(f"{name}: not a readable Word (.docx) file ({type(exc).__name__})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            lines.extend(["", *table_sentences(rows), ""])
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _bounded_docx(data: bytes, name: str) -> bytes:
    """The .docx re-packed (stored, not compressed) with its XML parts unpacked under the limits
    and every other part emptied; `FormatError` for an archive over them.

    python-docx must never read the original: zipfile's `read()` inflates a whole entry in one
    call and only then cuts it to the size the directory declares, so a directory that lies
    (with the CRC of the declared prefix) still costs the full expansion. Here each part is
    read in blocks, which zipfile stops at the declared size, and the sizes are checked first.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = {info.filename: info for info in archive.infolist()}  # the last of a repeated name wins
        if len(archive.infolist()) > MAX_ZIP_ENTRIES:
            raise FormatError(f"{name}: {ZIP_BOMB}（{len(archive.infolist()):,} parts in the archive）")
        xml = [info for info in entries.values() if info.filename.lower().endswith(_XML_PARTS)]
        size = sum(info.file_size for info in xml)
        if size > MAX_DOCX_XML_BYTES:
            raise FormatError(
                f"{name}: {ZIP_BOMB}（its XML unpacks to {size / 2**20:,.0f} MB, "
                f"above the {MAX_DOCX_XML_BYTES / 2**20:g} MB limit）"
            )
        # bzip2 and LZMA parts are inflated in one call whatever the block size; Word never writes them.
        if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in xml):
            raise FormatError(f"{name}: not a readable Word (.docx) file (unusual compression)")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as repacked:
            for info in entries.values():
                repacked.writestr(info.filename, _unzip(archive, info) if info in xml else b"")
        return out.getvalue()
    except FormatError:
        raise
    except Exception as exc:  # zipfile raises BadZipFile, RuntimeError (encrypted), OSError, ...
        raise FormatError(f"{name}: not a readable Word (.docx) file ({type(exc).__name__})") from None


def _unzip(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One archive entry, read in blocks: never more than its declared size is inflated."""
    out = bytearray()
    with archive.open(info) as fh:
        while block := fh.read(_UNZIP_BLOCK):
            out += block
    return bytes(out)


# ---------------------------------------------------------------- PDF


def read_pdf(data: bytes, name: str) -> list[str]:
    """The text of each page of a PDF (text layer), running page numbers removed."""
    import pypdf

    try:
        with _quiet("pypdf"):
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise FormatError(f"{name}: the PDF is password-protected")
            pages = [page.extract_text() or "" for page in reader.pages]
    except FormatError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise FormatError(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    pages = ["\n".join(ln for ln in p.split("\n") if not _PAGE_NUMBER.match(ln)) for p in pages]
    if not any(_has_words(p) for p in pages):
        raise FormatError(f"{name}: {SCANNED_PDF}（scanned PDF without a text layer; run OCR on it first）")
    return pages


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Keep a library's warnings about a damaged file ("EOF marker not found") off the terminal
    while it reads one: the error it ends in is reported as one line, and a file it copes with is fine."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _has_words(text: str) -> bool:
    return bool(WORDISH.search(text))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def page_starts(text: str, pages: Sequence[str]) -> list[tuple[int, int]]:
    """(offset in the cleaned `text`, page number) where each run of sentences from one page starts.

    Cleaning re-joins lines and drops boilerplate, so offsets are found again by looking up the
    start of each cleaned sentence in the page texts, moving forward only.
    """
    hay_parts, owner = [], []
    for number, page in enumerate(pages, 1):
        key = _squash(page)
        hay_parts.append(key)
        owner.extend([number] * len(key))
    hay = "".join(hay_parts)
    out: list[tuple[int, int]] = []
    pos = 0
    for start, end in split_sentences(text):
        probe = _squash(text[start:end])[:_PROBE_CHARS]
        at = hay.find(probe, pos) if probe else -1
        if at < 0:
            continue
        if not out or out[-1][1] != owner[at]:
            out.append((start, owner[at]))
        pos = at
    return out


def page_of(doc: Document, offset: int) -> int | None:
    """The PDF page (from 1) the text at `offset` of `doc` comes from; None when not a PDF."""
    if not doc.pages:
        return None
    i = bisect.bisect_right([o for o, _ in doc.pages], offset) - 1
    return doc.pages[max(i, 0)][1]


def citation_source(doc: Document, offset: int) -> dict[str, Any]:
    """Where a cited sentence at `offset` of `doc` comes from: page, web address, other sources."""
    return {"page": page_of(doc, offset), "url": doc.url, "aliases": list(doc.aliases)}
