"""Made-up PDF and Word documents for tests (reportlab, python-docx), shared by the format and
upload tests."""

from __future__ import annotations

import io

# Made-up bulletin; the fact asked about is on page 2.
PDF_PAGES = [
    ["示例市统计公报", "2024-04-02", "2023年示例市经济运行总体平稳，", "全年地区生产总值增长5.1%。"],
    ["全年示例市新建5G基站1234个，", "实现城区全覆盖。", "第 2 页"],
]


def make_pdf(pages: list[list[str]]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for lines in pages:
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(lines):
            c.drawString(72, 760 - 24 * i, line)
        c.showPage()
    c.save()
    return out.getvalue()


def make_textless_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.rect(72, 400, 300, 200, fill=1)  # a "scanned" page: graphics only, no text layer
    c.showPage()
    c.save()
    return out.getvalue()


TABLE = [
    ["时期", "网上零售额", "社会消费品零售总额"],
    ["2022年", "20.1亿元", "301亿元"],
    ["2023年上半年", "12.3亿元", "162亿元"],
]


def make_docx(title: str, paragraphs: list[str], table: list[list[str]]) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(title)
    for p in paragraphs:
        d.add_paragraph(p)
    t = d.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            t.cell(r, c).text = value
    d.add_paragraph("以上数据由示例市统计局发布。")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()



def make_docx_bomb(expanded_bytes: int, declared_bytes: int | None = None) -> bytes:
    """A small, valid-looking .docx whose word/document.xml inflates to `expanded_bytes`.

    The XML is a real document (the same short paragraph over and over), so a reader that trusts
    the archive parses all of it. With `declared_bytes`, the archive's directory claims that size instead, with the
    CRC of that many leading bytes: a reader that inflates a whole entry in one call (zipfile's
    `read()`) still inflates all of it before cutting it to the declared size.
    """
    import zipfile
    import zlib

    base = zipfile.ZipFile(io.BytesIO(make_docx("标题", ["正文。"], [["a", "b"]])))
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    head += b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    tail = b"</w:body></w:document>"
    unit = b"<w:p><w:r><w:t>" + "大东区。".encode() * 20 + b"</w:t></w:r></w:p>"  # parses as paragraphs
    units, rest = divmod(expanded_bytes - len(head) - len(tail), len(unit))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, base.read(info.filename))
                continue
            with z.open("word/document.xml", "w") as fh:  # streamed: the test never holds it all
                fh.write(head)
                block = unit * 4096
                for _ in range(units // 4096):
                    fh.write(block)
                fh.write(unit * (units % 4096) + b" " * rest + tail)
    data = bytearray(out.getvalue())
    if declared_bytes is not None:
        crc = zlib.crc32((head + unit * (declared_bytes // len(unit) + 1))[:declared_bytes])
        _patch_entry(data, b"PK\x03\x04", crc, declared_bytes)  # local header
        _patch_entry(data, b"PK\x01\x02", crc, declared_bytes)  # central directory (what zipfile reads)
    return bytes(data)


def _patch_entry(data: bytearray, signature: bytes, crc: int, size: int) -> None:
    """Set the CRC and uncompressed size of word/document.xml in the record type `signature`."""
    import struct

    local = signature == b"PK\x03\x04"
    crc_at, size_at, name_len_at, name_at = (14, 22, 26, 30) if local else (16, 24, 28, 46)
    at = 0
    while (at := data.find(signature, at)) >= 0:
        name_len = struct.unpack_from("<H", data, at + name_len_at)[0]
        if bytes(data[at + name_at : at + name_at + name_len]) == b"word/document.xml":
            struct.pack_into("<I", data, at + crc_at, crc)
            struct.pack_into("<I", data, at + size_at, size)
            return
        at += 4
    raise ValueError(f"no {signature!r} record for word/document.xml")
