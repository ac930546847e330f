from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dadong_qa.ingestion.chunk import ChunkParams, chunk_document
from dadong_qa.ingestion.ingest import (
    IngestError,
    clean_title,
    decode_bytes,
    dedupe_across,
    make_doc_id,
    read_bytes,
    read_file,
)
from dadong_qa.text import CJK

ARTICLE = """青山县推进乡村振兴取得新进展-某某新闻网

来源: 2021-06-03 09:15

本报记者 李明

  今年以来，青山县新建乡村公路120公里，同比增长8.5%。全县农村居民人均可支配收入达到2.1万元。

  县里还投入3000万元改造农贸市场，惠及群众5万人。

  县里还投入3000万元改造农贸市场，惠及群众5万人。

  产业发展

  青山县引进茶叶加工企业6家，带动就业1200

  人，茶农收入明显提高。

编辑:xw10
更多精彩！欢迎扫描下方二维码关注青山发布官方微信
"""


def _doc(text: str = ARTICLE, name: str = "qs_news.txt"):
    return read_bytes(text.encode("utf-8"), name)


def test_metadata_title_date_author_source():
    doc = _doc()
    assert doc.title == "青山县推进乡村振兴取得新进展"
    assert doc.source == "某某新闻网"
    assert doc.date == "2021-06-03"
    assert doc.author == "李明"
    assert doc.doc_id == "qs_news"


def test_cleaning_removes_footer_and_keeps_body():
    doc = _doc()
    assert "二维码" not in doc.text
    assert "编辑" not in doc.text
    assert "来源" not in doc.text and "本报记者" not in doc.text
    assert "今年以来，青山县新建乡村公路120公里，同比增长8.5%。" in doc.text
    assert "全县农村居民人均可支配收入达到2.1万元。" in doc.text


def test_repeated_paragraph_kept_once():
    doc = _doc()
    assert doc.text.count("县里还投入3000万元改造农贸市场") == 1


def test_broken_line_is_rejoined_and_heading_kept_separate():
    doc = _doc()
    assert "带动就业1200人，茶农收入明显提高。" in doc.text
    assert (doc.text.index("产业发展"), "产业发展") in doc.headings


def test_fragment_contained_in_another_paragraph_is_dropped():
    text = "标题\n\n第一段说明了很多事情，包括新建学校三所和医院两所。\n\n包括新建学校三所和医院两所。\n"
    doc = read_bytes(text.encode(), "a.txt")
    assert doc.text.count("包括新建学校三所") == 1


def test_gbk_and_gb18030_files_decode(tmp_path: Path):
    for enc in ("gbk", "gb18030"):
        path = tmp_path / f"article_{enc}.txt"
        path.write_bytes(ARTICLE.encode(enc))
        doc = read_file(path)
        assert doc.title == "青山县推进乡村振兴取得新进展"
        assert "茶叶加工企业6家" in doc.text


def test_bom_and_utf16_decode():
    assert decode_bytes("\ufeff你好，世界。".encode()) == "你好，世界。"
    assert decode_bytes("你好，世界。".encode("utf-16")) == "你好，世界。"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (bytes(range(256)) * 20, "binary"),
    ],
)
def test_bad_files_rejected_with_clear_message(data: bytes, reason: str):
    with pytest.raises(IngestError, match=reason):
        decode_bytes(data, "x.txt")


def test_unsupported_suffix_and_boilerplate_only():
    with pytest.raises(IngestError, match="unsupported"):
        read_bytes(b"hello", "a.exe")
    with pytest.raises(IngestError, match="no article text"):
        read_bytes("某新闻标题\n\n编辑:张三\n扫描二维码关注我们\n".encode(), "a.txt")


def test_html_main_text_and_metadata():
    html = """<html><head><title>东湖区新建图书馆 - 东湖新闻网</title>
    <meta property="article:published_time" content="2023-04-05"></head>
    <body><nav>首页 | 新闻 | 关于</nav><script>alert('x')</script>
    <article><h1>东湖区新建图书馆</h1>
    <p>东湖区新建的图书馆藏书达到50万册，于今年4月正式开放。</p>
    <p>图书馆总面积1.2万平方米，设有少儿阅览区和自习室。</p></article>
    <footer>扫码关注东湖发布</footer></body></html>"""
    doc = read_bytes(html.encode(), "library.html")
    assert doc.date == "2023-04-05"
    assert "藏书达到50万册" in doc.text
    assert "alert" not in doc.text and "首页" not in doc.text
    assert doc.title.startswith("东湖区新建图书馆")


@pytest.mark.parametrize("name", ["read.md", "read.markdown", "READ.MD"])
def test_markdown_syntax_stripped(name: str):
    md = "# 河西区举办读书节\n\n**河西区**举办第五届读书节，共有[3万人](http://x)参加。\n\n- 活动持续10天。\n"
    doc = read_bytes(md.encode(), name)
    assert doc.title == "河西区举办读书节"
    assert "河西区举办第五届读书节，共有3万人参加。" in doc.text
    assert "活动持续10天。" in doc.text


def test_caption_set_apart_by_blank_lines_is_dropped():
    text = (
        "某区新闻\n\n正文第一段，讲述了项目建设的进展情况。\n\n\n\n工人在工地上忙碌。\n\n\n\n"
        "正文第二段，讲述了城市更新的成果，包括老旧小区改造、背街小巷整治和口袋公园建设等多项内容。\n"
    )
    doc = read_bytes(text.encode(), "c.txt")
    assert "工人在工地上忙碌" not in doc.text
    assert "城市更新的成果" in doc.text


def test_clean_title_keeps_plain_titles():
    assert clean_title("大东区召开会议") == ("大东区召开会议", None)
    assert clean_title("大东区召开工作会议_新浪网") == ("大东区召开工作会议", "新浪网")


def test_search_result_date_before_the_text_is_the_page_date():
    doc = read_bytes("故宫_百度百科\n\n2019年3月5日 - ...旧称紫禁城，占地面积约72万平方米。...".encode(), "a.txt")
    assert (doc.title, doc.date, doc.source) == ("故宫", "2019-03-05", "百度百科")
    assert doc.text == "...旧称紫禁城，占地面积约72万平方米。..."


def test_markup_left_in_plain_text_is_cleaned():
    raw = "故宫\n\n北京<em>故宫</em>旧称&quot;紫禁城&quot;，占地72万平方米&nbsp;有房屋九千余间。<br>若x<5则成立。"
    doc = read_bytes(raw.encode(), "a.txt")
    assert doc.text == '北京故宫旧称"紫禁城"，占地72万平方米 有房屋九千余间。\n若x<5则成立。'


def test_a_date_range_opening_the_text_is_text():
    doc = read_bytes("抗战胜利\n\n1945年8月15日—9月2日，日本正式投降。".encode(), "a.txt")
    assert doc.date is None
    assert doc.text.startswith("1945年8月15日—9月2日")


def test_doc_id_is_stable_and_safe():
    assert make_doc_id("../../etc/passwd.txt") == "passwd"
    assert make_doc_id("新闻 2023(1).txt") == make_doc_id("新闻 2023(1).txt")
    assert "/" not in make_doc_id("a/b c.txt")


def test_dedupe_across_documents_keeps_first():
    shared = "这是一段在两篇文章中都出现的很长的段落，内容完全相同，用于测试跨文档去重。"
    a = read_bytes(f"文章甲\n\n{shared}\n\n甲文独有的内容，讲述了另一件事情。\n".encode(), "a.txt")
    b = read_bytes(f"文章乙\n\n{shared}\n\n乙文独有的内容，讲述了第三件事情。\n".encode(), "b.txt")
    (a2, da), (b2, db) = dedupe_across([a, b])
    assert shared in a2.text and shared not in b2.text
    assert (da, db) == (0, 1)
    assert "乙文独有的内容" in b2.text


def test_byline_with_trailing_word_and_source_after_date():
    text = (
        "浑南区举办首届冰雪节\n2023年1月8日 09:30 来源：沈阳晚报\n　　记者 王小明 报道\n"
        "　　1月7日，浑南区首届冰雪节在白塔河公园开幕，本届冰雪节共设置冰雕作品120座。\n"
    )
    doc = read_bytes(text.encode("gb18030"), "hunnan.txt")
    assert (doc.date, doc.author, doc.source) == ("2023-01-08", "王小明", "沈阳晚报")
    assert doc.text == "1月7日，浑南区首届冰雪节在白塔河公园开幕，本届冰雪节共设置冰雕作品120座。"


# ---------------------------------------------------------------- hostile bytes (issue 8)

_ARTICLE_TEXT = "示例县新建学校\n\n2025-01-02\n\n示例县今年新建学校3所，新增学位2400个。校园面积共计5万平方米。\n"


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.tuples(st.sampled_from(["gbk", "gb18030", "utf-16", "utf-16-be", "big5"]), st.text(max_size=300)).map(
            lambda p: (_ARTICLE_TEXT + p[1]).encode(p[0], "ignore")
        ),
        st.tuples(st.binary(max_size=200), st.binary(max_size=200)).map(
            lambda p: p[0] + _ARTICLE_TEXT.encode("utf-8") + p[1]
        ),
    ),
    name=st.sampled_from(["a.txt", "a.md", "a.html", "../x y/😀.TXT", "报告.htm"]),
)
def test_any_bytes_give_a_clean_document_or_ingest_error(data: bytes, name: str):
    try:
        doc = read_bytes(data, name)
    except IngestError as exc:
        assert str(exc)
        return
    assert doc.text.strip() and re.fullmatch(rf"[0-9A-Za-z_\-{CJK}]+", doc.doc_id)
    doc.text.encode("utf-8")  # no lone surrogates: storable as JSON and printable
    sentences, chunks = chunk_document(doc, 0, 0, ChunkParams(3, 1, 400))
    assert sentences and chunks
    for s in sentences:
        assert s.text and s.text == doc.text[s.start : s.end]


def test_damaged_utf16_is_refused_not_crashed():
    for data in (b"\xff\xfe" + "你好".encode("utf-16-le") + b"x", b"\xff\xfe\x00\xd8ab", b"\xfe\xff\xdc\x00"):
        with pytest.raises(IngestError):
            read_bytes(data, "bad.txt")


def test_utf16_without_bom_decodes():
    for enc in ("utf-16-le", "utf-16-be"):
        doc = read_bytes(ARTICLE.encode(enc), "qs.txt")
        assert "茶叶加工企业6家" in doc.text


def test_size_limit_message_names_file_and_limit(tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 2048)
    with pytest.raises(IngestError, match=r"big\.txt: file is 0\.0 MB, above the 0\.00\d+ MB limit"):
        read_file(path, max_bytes=1024)
    with pytest.raises(IngestError, match="above the 20 MB limit"):
        read_bytes(b"x" * (20 * 1024 * 1024 + 1), "big.txt")


def test_nul_pattern_alone_is_not_taken_for_utf16():
    with pytest.raises(IngestError, match="binary"):
        read_bytes(b"abc\x00\x01\x02" * 100, "dump.txt")


def test_html_without_article_text_names_the_file():
    with pytest.raises(IngestError, match=r"^menu\.html: no article text"):
        read_bytes("<html><body><nav>首页</nav></body></html>".encode(), "menu.html")


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("来源：东湖日报 作者：李晓冬 发布时间：2022-09-20 08:00", "李晓冬"),
        ("作者：李晓冬", "李晓冬"),
        ("文/张一凡", "张一凡"),
        ("本报记者 王小明", "王小明"),
    ],
)
def test_bylines_are_extracted(line: str, author: str):
    text = f"东湖区新建图书馆\n\n{line}\n\n东湖区新建的图书馆藏书达到50万册，于今年4月正式开放。\n"
    doc = read_bytes(text.encode(), "library.txt")
    assert doc.author == author
    assert line not in doc.text


def test_byline_opening_the_first_paragraph():
    text = "东湖区新建图书馆\n\n本报讯（记者 王小明）东湖区新建的图书馆藏书达到50万册，于今年4月正式开放。\n"
    assert read_bytes(text.encode(), "library.txt").author == "王小明"
    plain = "东湖区新建图书馆\n\n记者从区文旅局了解到，东湖区新建的图书馆藏书达到50万册。\n"
    assert read_bytes(plain.encode(), "library.txt").author is None


def test_byline_of_a_saved_news_page():
    html = """<html><head><title>东湖区新建图书馆 - 东湖新闻网</title></head><body>
    <article><h1>东湖区新建图书馆</h1><div class="info">来源：东湖日报 作者：李晓冬 2023-04-05</div>
    <p>东湖区新建的图书馆藏书达到50万册，于今年4月正式开放，市民可凭身份证免费借阅。</p>
    <p>图书馆总面积1.2万平方米，设有少儿阅览区和自习室，周末照常开放。</p></article></body></html>"""
    doc = read_bytes(html.encode(), "library.html")
    assert doc.author == "李晓冬" and "藏书达到50万册" in doc.text


def test_untitled_one_paragraph_snippet_is_accepted():
    snippet = "青松湖是示例县最大的淡水湖，面积约12平方公里，湖区每年冬季有上千只白天鹅越冬。"
    doc = read_bytes(snippet.encode(), "qingsong_lake.txt")
    assert doc.text == snippet  # the whole paragraph is the body, cited verbatim
    assert doc.title == snippet[:30] + "…"  # its first sentence, shortened
    short = read_bytes("白天鹅在青松湖越冬，数量逐年增加，已经成为当地的冬季景观之一。".encode(), "swan.txt")
    assert short.title.startswith("白天鹅在青松湖越冬") and "白天鹅" in short.text
    # A title line (no sentence end) followed by text is still a title.
    assert read_bytes("青松湖简介\n\n青松湖是示例县最大的淡水湖。\n".encode(), "lake.txt").title == "青松湖简介"


def _news_page(info: str) -> bytes:
    return f"""<html><head><title>示例区新建公园5个 - 示例新闻网</title></head><body><nav>首页</nav>
<article><h1>示例区新建公园5个</h1>{info}
<p>示例区今年新建口袋公园5个，总面积12公顷，新增座椅300张。公园全部免费开放。</p>
<p>有关部门表示，相关工作将在年内全部完成，并定期向社会公布进展情况。</p></article>
<footer>© 2024 示例新闻网 版权所有</footer></body></html>""".encode()


@pytest.mark.parametrize(
    ("info", "date"),
    [
        ("<p>2024年05月09日 10:30 来源：示例日报</p>", "2024-05-09"),  # was 2024-01-01: htmldate read the year only
        ('<div class="info">发布时间：2024年5月9日</div>', "2024-05-09"),
        ("<span>2024/05/09</span>", "2024-05-09"),
        ("", None),  # only the footer's "© 2024": no date, not 2024-01-01
    ],
)
def test_html_date_is_the_one_written_in_the_page(info: str, date: str | None):
    doc = read_bytes(_news_page(info), "park.html")
    assert doc.date == date
    assert doc.text.startswith("示例区今年新建口袋公园5个")  # the date line is not article text
