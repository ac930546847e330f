"""Ingest: raw article files -> cleaned `Document`s.

Decoding (UTF-8, BOM, UTF-16, GB18030/GBK via detection), metadata (title, date, author,
source), boilerplate removal, re-joining of broken lines and paragraph de-duplication.
All rules are general patterns of Chinese web and newspaper text, not of particular files.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from dadong_qa.ingestion.chunk import split_sentences
from dadong_qa.ingestion.decode import IngestError, decode_bytes
from dadong_qa.ingestion.formats import (
    BINARY_SUFFIXES,
    PDF_SUFFIX,
    FormatError,
    html_tables,
    leftover_markup,
    markdown_tables,
    page_starts,
    read_docx,
    read_pdf,
)
from dadong_qa.ingestion.header import (
    AUTHOR_IN_LINE,
    BYLINE,
    DATE,
    SOURCE,
    byline_name,
    clean_title,
    dated_lead,
    iso_date,
)
from dadong_qa.schema import Document
from dadong_qa.text import CJK, WORDISH

MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
# The one list of article file types (the CLI, the upload check and the corpus scan use it).
SUPPORTED_SUFFIXES = (".txt", *MARKDOWN_SUFFIXES, *HTML_SUFFIXES, *BINARY_SUFFIXES)


_TERMINAL = "。！？!?…；;」』”’）)】》\"'"
_META_LINE = re.compile(
    r"^[\[【(（]?\s*(来源|来源于|稿源|出处|发布时间|发布日期|发表时间|更新时间|时间|日期|作者|浏览次数|阅读量|阅读|点击|字号)\s*[:：]"
)
_EDITOR = re.compile(
    r"^[\[【(（]?\s*(责任编辑|责编|编辑|校对|审核|审校|审读|监制|主编|制作|美编|值班编辑|终审|初审|复审|出品|统筹|策划|排版|一审|二审|三审)\s*[:：\s/|]"
)
_PROMO = re.compile(
    r"二维码|扫码|扫一扫|扫描下方|长按识别|关注.{0,12}(公众号|微信|微博|抖音|视频号|客户端)|点击.{0,8}(关注|阅读原文|查看|下载)"
    r"|更多猛料|转载请|版权(所有|声明|归)|未经授权|免责声明|分享到|返回(首页|顶部)|上一篇|下一篇|相关阅读|相关新闻|推荐阅读"
    r"|热点推荐|打印本页|关闭窗口|【纠错】|原标题[:：]|本文来源|来源[:：].{0,20}(网|报|客户端)$"
)
_PHOTO = re.compile(
    r"(图片|照片|图)\s*(由|来源|来自|提供)|本版图片|(摄影|摄|供图|制图)\s*[:：/]|^图[:：/为]|资料图|视频截图|^\(?图\)?$"
)
_MD_RULES = [
    (re.compile(r"^```.*$"), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s{0,3}#{1,6}\s*"), ""),
    (re.compile(r"^\s{0,3}>\s?"), ""),
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+"), ""),
    (re.compile(r"(\*\*|__|\*|`)"), ""),
    (re.compile(r"^\s*([-*_]\s*){3,}$"), ""),
]
HEADING_MAX = 30
NOTICE_MAX = 80  # a line longer than this is never a notice, credit or byline
HEADLINE_MAX = 80  # nor a title: a first line longer than this is text
_CLAUSE_END = re.compile(r"[，,：:；;。！？!?]")
_FACT_MIN = 6  # characters (CJK, letters, digits) a sentence needs to state something ("公园免费开放")
_TEXT_AFTER_LINK = 12  # and a sentence after a link's words ("欢迎扫码关注，获取更多本地资讯。" is a notice)


def _is_terminal(text: str) -> bool:
    return bool(text) and text[-1] in _TERMINAL


def _is_heading(text: str) -> bool:
    """Short line with no sentence or clause punctuation: a section heading or label, not a sentence."""
    return len(text) <= HEADING_MAX and not any(ch in text for ch in "。！？!?；;，,")


def _is_boilerplate(line: str) -> bool:
    """A notice, credit or byline line, which is not article text.

    A line of several sentences is one only if each of its sentences is, or is too short to say
    anything ("更多精彩！"): "点击这里查看详情。" opening a paragraph of facts must not take the
    facts with it.
    """
    if len(line) > NOTICE_MAX:
        return False
    sentences = [line[s:e] for s, e in split_sentences(line)]
    if len(sentences) <= 1:
        return _is_notice(line)
    notices = [s for s in sentences if _is_notice(s)]
    return bool(notices) and all(s in notices or len(WORDISH.findall(s)) < _FACT_MIN for s in sentences)


def _is_notice(text: str) -> bool:
    if _EDITOR.search(text) or _META_LINE.search(text) or _is_photo_credit(text):
        return True
    promo = _PROMO.search(text)
    if promo and not _opens_text(text, promo):
        return True
    return len(text) <= 40 and bool(BYLINE.match(text))


def _opens_text(sentence: str, promo: re.Match[str]) -> bool:
    """Whether a link's words only open a sentence of text ("点击这里查看详情：示例区今年新建
    公园5个，总面积12公顷。"): after the clause they are in comes a sentence with no promotion in
    it, at least _TEXT_AFTER_LINK characters long, with a sentence ended in it."""
    end = _CLAUSE_END.search(sentence, promo.end())
    rest = sentence[end.end() :] if end else ""
    ended = _is_terminal(rest) or bool(re.search(r"[。！？!?]", rest))  # a line break may cut it after that
    return len(WORDISH.findall(rest)) >= _TEXT_AFTER_LINK and ended and not _PROMO.search(rest)


def _key(paragraph: str) -> str:
    """Comparison form of a paragraph: width-folded, no white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", paragraph))


# ---------------------------------------------------------------- parsing


@dataclass
class _Block:
    text: str
    blank_before: int
    blank_after: int = 0


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    blank = 0
    for raw in lines:
        line = raw.replace("\u3000", " ").strip()
        if not line:
            blank += 1
            continue
        if blocks:
            blocks[-1].blank_after = blank
        blocks.append(_Block(line, blank))
        blank = 0
    if blocks:
        blocks[-1].blank_after = 99  # end of document counts as wide space
    if blocks:
        blocks[0].blank_before = 99
    return blocks


def _is_photo_credit(text: str) -> bool:
    return len(text) <= 40 and bool(_PHOTO.search(text))


def _drop_captions(blocks: list[_Block]) -> list[_Block]:
    """Image captions: short one-sentence lines next to a photo credit, or set apart by clearly
    more blank lines than the text's tightest paragraph gap (on one side, when the other side is
    a heading, a photo credit or the end of the text)."""
    real = [b.blank_before for b in blocks[1:]]
    wide = (min(real) if real else 1) + 2
    return [b for i, b in enumerate(blocks) if i == 0 or not _is_caption(blocks, i, wide)]


def _is_caption(blocks: list[_Block], i: int, wide: int) -> bool:
    """Whether block `i` (not the title) is a one-sentence line set apart as a caption."""
    text = blocks[i].text
    one_sentence = len(text) <= 40 and not any(ch in text[:-1] for ch in "。！？!?；;")
    if not one_sentence or _is_heading(text):
        return False
    return _set_apart(blocks, i, wide) or any(
        0 < j < len(blocks) and _is_photo_credit(blocks[j].text) for j in (i - 1, i + 1)
    )


def _set_apart(blocks: list[_Block], i: int, wide: int) -> bool:
    """Wide gaps on both sides, or on one side with a loose neighbour on the other."""
    b = blocks[i]
    before, after = b.blank_before, (b.blank_after if i + 1 < len(blocks) else None)
    both = before >= wide and (after is None or after >= wide)
    return (
        both
        or (before >= wide and _loose(blocks, i + 1))
        or (after is not None and after >= wide and _loose(blocks, i - 1))
    )


def _loose(blocks: list[_Block], j: int) -> bool:
    """A neighbour that does not bind a caption to the text: a heading, a photo credit, the end."""
    if j <= 0 or j >= len(blocks):
        return j >= len(blocks)  # end of text; the title (block 0) is not a loose neighbour
    t = blocks[j].text
    return _is_heading(t) or _is_photo_credit(t)


def _dedupe(paragraphs: list[str]) -> list[str]:
    """Drop repeated paragraphs and fragments contained in another paragraph (keeps the first)."""
    keys = [_key(p) for p in paragraphs]
    seen: set[str] = set()
    kept: list[str] = []
    for i, (p, k) in enumerate(zip(paragraphs, keys, strict=True)):
        if k in seen:
            continue
        if (
            len(k) >= 8
            and not _is_heading(p)
            and any(len(other) > len(k) and k in other for j, other in enumerate(keys) if j != i)
        ):
            continue
        seen.add(k)
        kept.append(p)
    return kept


def _join_broken(paragraphs: list[str]) -> list[str]:
    """Re-join a sentence that a line break cut in two."""
    out: list[str] = []
    for p in paragraphs:
        if out and not _is_terminal(out[-1]) and not _is_heading(out[-1]) and not _is_heading(p):
            out[-1] += p
        else:
            out.append(p)
    return out


def _strip_markdown(text: str) -> str:
    lines = []
    for line in text.splitlines():
        for pattern, repl in _MD_RULES:
            line = pattern.sub(repl, line)
        lines.append(line)
    return "\n".join(lines)


def _html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        # The page's date from its metadata only: htmldate's search of the text reads only the year
        # of "2024年05月09日" and makes it 2024-01-01. A date written in the text is read from
        # the article's header lines below, which know Chinese dates.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        raise IngestError("no article text found in the HTML page")
    meta = {"title": doc.title, "date": doc.date, "author": doc.author, "source": doc.sitename}
    return doc.text, meta


def parse_article(text: str, name: str, kind: str = "txt", doc_id: str | None = None, sha256: str = "") -> Document:
    """Clean raw article text into a `Document`. `kind` is txt, md or html."""
    text, page_meta = _markup_to_text(text, name, kind)
    blocks = _blocks(text.split("\n"))
    if not blocks:
        raise IngestError(f"{name}: no text in the file")
    captions = {id(b) for b in blocks} - {id(b) for b in _drop_captions(blocks)}
    title, blocks = _split_title(blocks, page_meta.get("title"), name)
    title, site = clean_title(title)
    meta = _Meta(date=page_meta.get("date"), author=page_meta.get("author"), source=page_meta.get("source") or site)
    body = [b for i, b in enumerate(blocks) if meta.read(b.text, header=i < 8) and _is_body(b, title, captions)]
    if body and not meta.date and (lead := dated_lead(body[0].text)):
        meta.date, start = lead
        body[0] = replace(body[0], text=body[0].text[start:])
    # No date in the header: the article stays undated. A date written in the text is the date of
    # something it reports, not of the article: taken as the article's date, 136 of 700 DRCD
    # paragraphs got one ("儒略日" dated 2000-01-01) and their later years read as plans.
    paragraphs = _paragraphs([b.text for b in body], name)
    return Document(
        doc_id=doc_id or make_doc_id(name),
        title=title or name,
        text="\n".join(paragraphs),
        date=meta.date if isinstance(meta.date, str) else None,
        author=meta.author,
        source=meta.source,
        path=name,
        sha256=sha256,
        headings=_headings(paragraphs),
    )


def _markup_to_text(text: str, name: str, kind: str) -> tuple[str, dict[str, str | None]]:
    """Plain text with newline line ends, and the page's metadata (HTML only)."""
    meta: dict[str, str | None] = {}
    if kind == "html":
        try:
            text, meta = _html_to_text(html_tables(text))
        except IngestError as exc:
            raise IngestError(f"{name}: {exc}") from None
    elif kind == "md":
        text = _strip_markdown(leftover_markup(markdown_tables(text)))  # a table cell's <br> stays in its row
    else:
        text = leftover_markup(text)
    return text.replace("\r\n", "\n").replace("\r", "\n"), meta


def _split_title(blocks: list[_Block], title: str | None, name: str) -> tuple[str, list[_Block]]:
    """The title (the page's, else the first line) and the blocks after it."""
    title = (title or "").strip()
    first = blocks[0].text
    alone = len(blocks) == 1 and (_is_terminal(first) or "。" in first)  # a file of one sentence or so
    if not title and (_is_body_line(first) or alone):
        return _derived_title(first, name), blocks  # an untitled snippet: its first line is text
    if not title or _key(title) == _key(blocks[0].text):
        return blocks[0].text, blocks[1:]
    return title, blocks


@dataclass
class _Meta:
    """Date, author and source, filled from the page and then from header and boilerplate lines."""

    date: str | None = None
    author: str | None = None
    source: str | None = None

    def read(self, line: str, header: bool) -> bool:
        """Take what `line` says about the article; False when the line is not article text."""
        if _is_boilerplate(line):
            self._read_boilerplate(line, header)
            return False
        if header and not self.date and len(line) <= 40 and (m := DATE.search(line)) and m.group(0) == line:
            self.date = iso_date(m)
            return False
        if header and not self.author and (m := AUTHOR_IN_LINE.search(line[:40])):
            self.author = m.group(1)  # "本报讯（记者 王小明）…": the byline opens the first paragraph
        return True

    def _read_boilerplate(self, line: str, header: bool) -> None:
        if header and not self.date and (m := DATE.search(line)):
            self.date = iso_date(m)
        if not self.author and BYLINE.match(line):
            self.author = byline_name(line)
        elif not self.author and (m := AUTHOR_IN_LINE.search(line)):
            self.author = m.group(1)
        if (m := SOURCE.search(line)) and not self.source:
            self.source = m.group(1)


def _is_body(block: _Block, title: str, captions: set[int]) -> bool:
    """Not the title repeated and not an image caption."""
    return _key(block.text) != _key(title) and id(block) not in captions


def _paragraphs(lines: list[str], name: str) -> list[str]:
    """Body lines de-duplicated and re-joined; `IngestError` when only headings are left."""
    paragraphs = [p for p in _join_broken(_dedupe(lines)) if WORDISH.search(p)]
    if not any(not _is_heading(p) for p in paragraphs):
        raise IngestError(f"{name}: no article text left after removing boilerplate")
    return paragraphs


def _headings(paragraphs: list[str]) -> list[tuple[int, str]]:
    """(character offset, text) of the heading paragraphs in the newline-joined text."""
    headings: list[tuple[int, str]] = []
    offset = 0
    for p in paragraphs:
        if _is_heading(p):
            headings.append((offset, p))
        offset += len(p) + 1
    return headings


def _is_body_line(line: str) -> bool:
    """A first line that is a paragraph of text, not a title: longer than a headline, or long
    with a sentence ended in it. An encyclopedia paragraph may end with a note in brackets
    ("（摘自…）"), a colon before a list, or mid-sentence where a line break cut it."""
    if len(line) > HEADLINE_MAX:
        return True
    return len(line) > HEADING_MAX and (line[-1] in "。！？!?" or "。" in line)


def _derived_title(text: str, name: str) -> str:
    """Title of an article without a title line: its first sentence, shortened; else the file name."""
    first = re.split(r"(?<=[。！？!?；;])", text, maxsplit=1)[0].rstrip("。！？!?；;")
    if not WORDISH.search(first):
        return Path(name).stem
    return first if len(first) <= TITLE_MAX else first[:TITLE_MAX] + "…"


TITLE_MAX = 30  # characters of a derived title


def has_body(text: str) -> bool:
    """Whether cleaned article text has at least one paragraph that is not a heading."""
    return any(p.strip() and not _is_heading(p) for p in text.split("\n"))


def make_doc_id(name: str) -> str:
    """Stable id from the file name, so a changed file replaces its old version."""
    stem = Path(name).stem
    safe = re.sub(rf"[^0-9A-Za-z_\-{CJK}]+", "_", stem).strip("_")[:80]
    return safe or "doc_" + hashlib.sha1(name.encode()).hexdigest()[:12]


def kind_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in MARKDOWN_SUFFIXES:
        return "md"
    return "txt"


def read_bytes(data: bytes, name: str, max_bytes: int = 20 * 1024 * 1024) -> Document:
    """Bytes of one article file -> `Document`, or `IngestError`."""
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise IngestError(f"{name}: unsupported file type; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if len(data) > max_bytes:
        raise IngestError(_too_large(name, len(data), max_bytes))
    sha256 = hashlib.sha256(data).hexdigest()
    if Path(name).suffix.lower() in BINARY_SUFFIXES:
        return _read_binary(data, name, sha256)
    text = decode_bytes(data, name)
    return parse_article(text, name, kind_of(name), sha256=sha256)


def _read_binary(data: bytes, name: str, sha256: str) -> Document:
    """A PDF or Word file through the same cleaning as text; a PDF keeps where its pages start."""
    try:
        if Path(name).suffix.lower() == PDF_SUFFIX:
            pages = read_pdf(data, name)
            doc = parse_article("\n\n".join(pages), name, "txt", sha256=sha256)
            return replace(doc, pages=page_starts(doc.text, pages))
        return parse_article(read_docx(data, name), name, "txt", sha256=sha256)
    except FormatError as exc:
        raise IngestError(str(exc)) from None


def _too_large(name: str, size: int, limit: int) -> str:
    mb = 1024 * 1024  # binary megabytes, so the default limit reads "20 MB"
    return f"{name}: file is {size / mb:.1f} MB, above the {limit / mb:g} MB limit (max_file_bytes)"


def read_file(path: str | Path, max_bytes: int = 20 * 1024 * 1024) -> Document:
    path = Path(path)
    if path.is_dir():
        raise IngestError(
            f"{path}: is a folder, not an article file; name its files, "
            "or copy them into the corpus folder and run dadong-qa sync"
        )
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:  # refused before reading it
        raise IngestError(_too_large(path.name, size, max_bytes))
    return read_bytes(path.read_bytes(), path.name, max_bytes)


def corpus_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def shared_keys(doc: Document) -> set[str]:
    """Keys of the paragraphs long enough to count as cross-article duplicates."""
    return {k for k in (_key(p) for p in doc.text.split("\n")) if len(k) >= 20}


def drop_seen_paragraphs(doc: Document, seen: set[str]) -> tuple[Document, int]:
    """Remove paragraphs another article already has; return the new doc and how many went."""
    kept, dropped = [], 0
    for p in doc.text.split("\n"):
        k = _key(p)
        if len(k) >= 20 and k in seen:
            dropped += 1
            continue
        kept.append(p)
    if not dropped:
        return doc, 0
    return replace(doc, text="\n".join(kept), headings=_headings(kept)), dropped


def dedupe_across(docs: Iterable[Document], seen: set[str] | None = None) -> list[tuple[Document, int]]:
    """Drop paragraphs repeated across articles, keeping each in the first article that has it."""
    seen = set() if seen is None else seen
    out = []
    for doc in docs:
        doc, dropped = drop_seen_paragraphs(doc, seen)
        seen |= shared_keys(doc)
        out.append((doc, dropped))
    return out
