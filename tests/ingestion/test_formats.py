"""PDF, Word and tables: fixtures are made here (reportlab for PDFs, python-docx for Word)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from conftest import LIBRARY_ARTICLE
from dadong_qa import QA, load_settings
from dadong_qa.app.cli import main
from dadong_qa.ingestion.formats import (
    SCANNED_PDF,
    ZIP_BOMB,
    html_tables,
    markdown_tables,
    page_of,
    page_starts,
    table_sentences,
)
from dadong_qa.ingestion.ingest import IngestError, read_bytes, read_file
from documents import PDF_PAGES, TABLE, make_docx, make_docx_bomb, make_pdf, make_textless_pdf

# ---------------------------------------------------------------- tables


def test_table_rows_become_sentences_with_both_labels():
    lines = table_sentences(TABLE)
    assert lines[1] == "2023年上半年 网上零售额：12.3亿元。2023年上半年 社会消费品零售总额：162亿元。"
    assert table_sentences([["只有一行", "两格"]]) == ["只有一行，两格。"]
    assert table_sentences([]) == []


def test_markdown_table_is_kept_as_sentences():
    md = "# 示例市消费\n\n| 时期 | 网上零售额 |\n|---|---:|\n| 2023年上半年 | 12.3亿元 |\n\n其他段落。\n"
    assert "2023年上半年 网上零售额：12.3亿元。" in markdown_tables(md)
    doc = read_bytes(md.encode(), "consume.md")
    assert "2023年上半年 网上零售额：12.3亿元。" in doc.text


def test_html_table_is_kept_as_sentences():
    rows = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in TABLE)
    html = (
        "<html><head><title>示例市上半年消费数据</title></head><body><article><h1>示例市上半年消费数据</h1>"
        "<p>示例市统计局日前发布上半年消费数据，消费市场持续回暖，线上消费增长明显。</p>"
        f"<table>{rows}</table><p>统计局表示，下半年将继续推动消费升级。</p></article></body></html>"
    )
    assert "2023年上半年 网上零售额：12.3亿元。" in html_tables(html)
    doc = read_bytes(html.encode(), "consume.html")
    assert "2023年上半年 网上零售额：12.3亿元。" in doc.text


# ---------------------------------------------------------------- Word and PDF reading


def test_docx_paragraphs_and_table(tmp_path: Path):
    path = tmp_path / "bulletin.docx"
    path.write_bytes(make_docx("示例市消费市场运行情况", ["上半年示例市消费市场稳步恢复。"], TABLE))
    doc = read_file(path)
    assert doc.title == "示例市消费市场运行情况"
    assert "上半年示例市消费市场稳步恢复。" in doc.text
    assert "2022年 社会消费品零售总额：301亿元。" in doc.text
    assert doc.text.index("消费市场稳步恢复") < doc.text.index("301亿元") < doc.text.index("统计局发布")


def test_pdf_text_and_pages(tmp_path: Path):
    path = tmp_path / "gongbao.pdf"
    path.write_bytes(make_pdf(PDF_PAGES))
    doc = read_file(path)
    assert doc.title == "示例市统计公报" and doc.date == "2024-04-02"
    assert "全年示例市新建5G基站1234个，实现城区全覆盖。" in doc.text  # the broken line re-joined
    assert "第 2 页" not in doc.text  # running page number dropped
    assert page_of(doc, doc.text.index("地区生产总值")) == 1
    assert page_of(doc, doc.text.index("5G基站")) == 2


def test_page_starts_follow_the_page_texts():
    text = "第一页的句子。第二页的句子。"
    assert page_starts(text, ["第一页的句子。", "第二页\n的句子。"]) == [(0, 1), (7, 2)]


@pytest.mark.parametrize(
    ("data", "message"),
    [(make_textless_pdf(), SCANNED_PDF), (b"%PDF-1.4 broken", "not a readable PDF"), (b"PK\x03\x04xx", "Word")],
)
def test_unreadable_pdf_and_docx_get_a_clear_message(data: bytes, message: str):
    name = "file.docx" if message == "Word" else "file.pdf"
    with pytest.raises(IngestError, match=message):
        read_bytes(data, name)


BOMB_BYTES = 128 * 1024 * 1024  # what word/document.xml inflates to (from a file of ~0.6 MB)


def _peak_traced(call) -> tuple[object, int]:
    """What `call()` returned (or raised) and the most memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        result: object = call()
    except Exception as exc:
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def test_docx_zip_bomb_is_refused_before_it_is_inflated():
    bomb = make_docx_bomb(BOMB_BYTES)
    assert len(bomb) < 2 * 1024 * 1024
    result, peak = _peak_traced(lambda: read_bytes(bomb, "bomb.docx"))
    assert isinstance(result, IngestError) and ZIP_BOMB in str(result) and "10 MB limit" in str(result)
    assert peak < 3 * len(bomb) + 1024 * 1024  # the file and the archive directory, nothing inflated


def test_docx_that_understates_its_size_is_inflated_only_as_far_as_it_says():
    """zipfile's read() inflates a whole entry and only then cuts it to the declared size."""
    liar = make_docx_bomb(BOMB_BYTES, declared_bytes=4096)
    result, peak = _peak_traced(lambda: read_bytes(liar, "liar.docx"))
    assert isinstance(result, IngestError) and "not a readable Word" in str(result)
    assert peak < 3 * len(liar) + 1024 * 1024


def test_docx_bomb_in_cli_add_is_one_line_and_nothing_is_added(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "bomb.docx").write_bytes(make_docx_bomb(BOMB_BYTES))
    where = ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")]
    assert main([*where, "add", str(tmp_path / "bomb.docx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ZIP_BOMB in err[0]
    assert not (tmp_path / "corpus" / "bomb.docx").exists()


# ---------------------------------------------------------------- asked about, end to end


@pytest.fixture(scope="module")
def formats_qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    root = tmp_path_factory.mktemp("formats")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "library.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    incoming = root / "incoming"
    incoming.mkdir()
    (incoming / "gongbao.pdf").write_bytes(make_pdf(PDF_PAGES))
    (incoming / "consume.docx").write_bytes(
        make_docx("示例市消费市场运行情况", ["上半年示例市消费市场稳步恢复。"], TABLE)
    )
    qa = QA(load_settings(corpus_dir=corpus, index_dir=root / "index"))
    qa.build()
    report = qa.add([incoming / "gongbao.pdf", incoming / "consume.docx"])
    assert sorted(report.added) == ["consume", "gongbao"] and not report.errors
    return qa


def test_pdf_answer_cites_the_sentence_and_its_page(formats_qa: QA):
    a = formats_qa.ask("示例市全年新建了多少个5G基站？")
    assert a.answered and "1234个" in a.text
    c = a.citations[0]
    assert c.doc_id == "gongbao" and c.page == 2
    assert c.sentence in formats_qa.index.docs["gongbao"].doc.text


def test_docx_table_figure_is_answered_verbatim(formats_qa: QA):
    a = formats_qa.ask("2023年上半年网上零售额是多少？")
    assert a.answered and "12.3亿元" in a.text
    c = a.citations[0]
    assert c.doc_id == "consume" and c.page is None
    assert c.sentence == "2023年上半年 网上零售额：12.3亿元。"


def test_pages_survive_reloading_and_show_in_ask_json(formats_qa: QA, capsys: pytest.CaptureFixture):
    s = formats_qa.settings
    fresh = QA(load_settings(corpus_dir=s.corpus_dir, index_dir=s.index_dir))
    assert fresh.index.docs["gongbao"].doc.pages == formats_qa.index.docs["gongbao"].doc.pages
    where = ["--corpus", str(s.corpus_dir), "--index", str(s.index_dir)]
    assert main([*where, "ask", "示例市新建5G基站多少个？", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"][0]["page"] == 2
    assert (s.corpus_dir / "gongbao.pdf").is_file()  # stored, so a rebuild keeps it
