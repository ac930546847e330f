"""Pages and feeds by URL, served by a local http.server on 127.0.0.1 (made-up news)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import LIBRARY_ARTICLE
from dadong_qa import QA, load_settings
from dadong_qa.app.cli import main
from dadong_qa.ingestion.fetch import FetchError, add_feed, add_urls, fetch


def news_page(n: int, title: str, fact: str) -> bytes:
    return f"""<html><head><title>{title} - 示例新闻网</title>
    <meta property="article:published_time" content="2025-05-0{n}"></head><body>
    <nav>首页 | 新闻</nav><article><h1>{title}</h1>
    <div class="info">来源：示例日报 作者：周一鸣</div>
    <p>{fact}</p><p>有关部门表示，相关工作将在年内全部完成，并定期向社会公布进展情况。</p>
    </article><footer>扫码关注示例发布</footer></body></html>""".encode()


BRIDGE = "示例县跨河大桥全长860米，于5月1日正式通车，总投资4.6亿元。"
SCHOOL = "示例县今年新建小学3所，新增学位4050个，秋季学期投入使用。"
PARK = "示例县今年建成口袋公园27个，新增绿地面积8.3公顷。"
PAGES = {
    "/news/bridge.html": news_page(1, "示例县跨河大桥通车", BRIDGE),
    "/news/school.html": news_page(2, "示例县新建三所小学", SCHOOL),
    "/news/park.html": news_page(3, "示例县口袋公园建成", PARK),
}


def rss(paths: list[str], base: str) -> bytes:
    items = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in paths)
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>示例新闻</title>
    <link>{base}/</link><description>示例</description>{items}</channel></rss>""".encode()


TRICKLE_S = 0.5  # between the bytes of a trickled page: well under the read timeout


class Site:
    """What the local server serves; the feed can grow between runs."""

    def __init__(self) -> None:
        self.feed_items = ["/news/bridge.html", "/news/school.html"]
        self.base = ""


@pytest.fixture(scope="module")
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, code: int, ctype: str, body: bytes, extra: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self, at_once: bytes, slowly: bytes) -> None:
            """`at_once`, then one byte of `slowly` every TRICKLE_S: never a read timeout."""
            try:
                self.wfile.write(at_once)
                for i in range(len(slowly)):
                    time.sleep(TRICKLE_S)
                    self.wfile.write(slowly[i : i + 1])
            except OSError:  # the client gave up
                pass
            self.close_connection = True

        def do_GET(self) -> None:
            path = self.path
            if path in PAGES:
                self._send(200, "text/html; charset=utf-8", PAGES[path])
            elif path == "/feed.xml":
                self._send(200, "application/rss+xml", rss(state.feed_items, state.base))
            elif path == "/moved":
                self._send(302, "text/html", b"", {"Location": "/news/park.html"})
            elif path == "/loop":
                self._send(302, "text/html", b"", {"Location": "/loop"})
            elif path == "/big.html":
                self._send(200, "text/html", b"<p>" + "很长的页面。".encode() * 200_000 + b"</p>")
            elif path == "/image.png":
                self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100))
            elif path == "/slow.html":
                time.sleep(3)
                self._send(200, "text/html", PAGES["/news/park.html"])
            elif path == "/trickle-body.html":
                self._trickle(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 999\r\n\r\n", b"<p>" * 7)
            elif path == "/trickle-headers.html":
                self._trickle(b"", b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n")
            else:
                self._send(404, "text/html", b"not found")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()


@pytest.fixture()
def qa(tmp_path: Path) -> QA:
    """An index with one made-up article; fetching from 127.0.0.1 allowed, as a test needs.

    fetch_timeout bounds a whole fetch, so it is roomy here: on a loaded machine a local page
    can take over a second; the tests of timing out set their own."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "library.txt").write_text(LIBRARY_ARTICLE, encoding="utf-8")
    qa = QA(
        load_settings(
            corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", allow_private_urls=True, fetch_timeout=10.0
        )
    )
    qa.build()
    return qa


def test_add_url_keeps_the_page_metadata_and_the_address(qa: QA, site: Site):
    url = site.base + "/news/bridge.html"
    report = add_urls(qa, [url])
    assert len(report.added) == 1 and not report.errors
    doc = qa.index.docs[report.added[0]].doc
    assert doc.url == url and doc.title == "示例县跨河大桥通车" and doc.date == "2025-05-01"
    assert doc.author == "周一鸣" and "首页" not in doc.text
    a = qa.ask("示例县跨河大桥全长多少米？")
    assert a.answered and "860米" in a.text and a.citations[0].url == url
    qa.build()  # the page is kept in the corpus folder and its address beside it
    assert qa.index.docs[report.added[0]].doc.url == url
    assert add_urls(qa, [url]).unchanged == report.added  # the same page again changes nothing


def test_redirects_are_followed_but_bounded(qa: QA, site: Site):
    assert fetch(site.base + "/moved", qa.settings).url.endswith("/news/park.html")
    with pytest.raises(FetchError, match="redirects"):
        fetch(site.base + "/loop", qa.settings)


@pytest.mark.parametrize(
    ("path", "message"),
    [("/big.html", "byte limit"), ("/image.png", "content type"), ("/slow.html", "1 s"), ("/missing", "HTTP 404")],
)
def test_unsafe_or_bad_pages_are_refused(qa: QA, site: Site, path: str, message: str):
    slow = path == "/slow.html"  # the others get the fixture's roomy timeout: a loaded machine is slow
    s = qa.settings.with_overrides(fetch_max_bytes=100_000, **({"fetch_timeout": 1.0} if slow else {}))
    t0 = time.perf_counter()
    with pytest.raises(FetchError, match=message):
        fetch(site.base + path, s)
    assert not slow or time.perf_counter() - t0 < 2.5  # the slow page is given up on, not waited for


@pytest.mark.parametrize("path", ["/trickle-body.html", "/trickle-headers.html"])
def test_a_page_sent_a_byte_at_a_time_is_given_up_at_the_deadline(qa: QA, site: Site, path: str):
    """Each byte comes well within the read timeout; the whole fetch still ends by fetch_timeout
    (it went on for as long as the server kept sending: 10 s here, 75 s and more in the report)."""
    s = qa.settings.with_overrides(fetch_timeout=1.5)
    t0 = time.perf_counter()
    with pytest.raises(FetchError, match=r"within 1\.5 s \(fetch_timeout\)"):
        fetch(site.base + path, s)
    assert time.perf_counter() - t0 < 1.5 + 4 * TRICKLE_S


def test_private_addresses_are_refused_by_default(qa: QA, site: Site, monkeypatch: pytest.MonkeyPatch):
    default = load_settings(corpus_dir=qa.settings.corpus_dir, index_dir=qa.settings.index_dir)
    assert default.allow_private_urls is False
    for url in (site.base + "/news/bridge.html", "http://localhost:9/", "http://10.0.0.1/", "http://[::1]/"):
        with pytest.raises(FetchError, match="private or local"):
            fetch(url, default)
    with pytest.raises(FetchError, match="only http and https"):
        fetch("file:///etc/passwd", default)
    monkeypatch.setenv("DADONG_QA_ALLOW_PRIVATE_URLS", "1")
    assert load_settings().allow_private_urls is True


def test_cli_add_url_refused_by_default_exits_2(tmp_path: Path, site: Site, capsys: pytest.CaptureFixture):
    where = ["--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i")]
    assert main([*where, "add", site.base + "/news/bridge.html"]) == 2 and "private or local" in capsys.readouterr().err
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_feed_adds_only_new_items(qa: QA, site: Site):
    feed = site.base + "/feed.xml"
    first = add_feed(qa, feed)
    assert len(first.added) == 2 and not first.errors
    urls = {r.doc.url for r in qa.index.docs.values() if r.doc.url}
    assert urls == {site.base + "/news/bridge.html", site.base + "/news/school.html"}
    version = qa.index.version
    again = add_feed(qa, feed)
    assert not again.added and not again.replaced and len(again.unchanged) == 2
    assert qa.index.version == version  # nothing fetched or changed
    site.feed_items.append("/news/park.html")
    try:
        third = add_feed(qa, feed)
    finally:
        site.feed_items.pop()
    assert len(third.added) == 1 and qa.index.docs[third.added[0]].doc.url == site.base + "/news/park.html"
    with pytest.raises(FetchError, match="not an RSS"):
        add_feed(qa, site.base + "/news/bridge.html")


def test_cli_add_feed_twice(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setenv("DADONG_QA_ALLOW_PRIVATE_URLS", "1")
    where = ["--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i")]
    assert main([*where, "add", "--feed", site.base + "/feed.xml"]) == 0
    assert capsys.readouterr().out.count("_") >= 2  # two ids added
    assert main([*where, "add", "--feed", site.base + "/feed.xml"]) == 0
    out = capsys.readouterr().out
    assert "added" not in out and "unchanged" in out
    assert main([*where, "ask", "示例县今年新增多少个学位？"]) == 0
    assert "4050个" in capsys.readouterr().out


def test_app_add_by_url_field(qa: QA, site: Site):
    from dadong_qa.app.editor_ui import add_url_text
    from dadong_qa.app.ui_common import report_markdown

    report = add_url_text(qa, f"{site.base}/news/park.html\n  ftp://example.com/x  ")
    assert len(report.added) == 1
    assert report.errors == ["ftp://example.com/x: 不是 http/https 网址"]
    assert "已添加" in report_markdown(report)
