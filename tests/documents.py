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
