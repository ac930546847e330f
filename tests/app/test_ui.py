"""The chat app: rendering, the chat stream, and the named API driven by gradio_client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from conftest import APP_MAX_FILE_BYTES, LAKE_ARTICLE, ORCHARD_ARTICLE, ROOT, free_port, sample_answer
from dadong_qa import load_settings
from dadong_qa.app.chat_render import esc, render_answer
from dadong_qa.app.ui import chat_stream
from dadong_qa.app.ui_common import add_uploads, report_markdown
from dadong_qa.config import Settings
from dadong_qa.schema import Answer
from dadong_qa.text import CJK

LAKE_QUESTION = "青松湖湿地公园2024年接待了多少游客？"


NOTICE_ARTICLE = """示例县图书馆延长开放时间

2025-03-01

为方便读者，示例县图书馆自3月起每天开放至晚上9点，周末照常开放。

图书馆今年还将新增自助借还机6台，并开设面向中小学生的阅读课堂。
"""


_answer = sample_answer


def test_settings_take_the_usual_gradio_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    s = load_settings()
    assert s.server_port == 7999 and s.server_host == "127.0.0.1"


def test_add_uploads_refuses_large_and_unsupported_files(tmp_path: Path, fresh_qa) -> None:
    before = fresh_qa.status()["version"]
    fresh_qa.settings = fresh_qa.settings.with_overrides(max_file_bytes=1000)
    big = tmp_path / "big.txt"
    big.write_text("很长的文章。" * 200, encoding="utf-8")
    doc = tmp_path / "notes.xlsx"
    doc.write_bytes(b"PK\x03\x04 not an article")
    report = add_uploads(fresh_qa, [str(big), str(doc)])
    assert not report.added and len(report.errors) == 2
    assert report.errors[0].startswith("big.txt：") and "文件太大" in report.errors[0]
    assert report.errors[1].startswith("notes.xlsx：") and "不支持" in report.errors[1]
    shown = report_markdown(report)
    assert "索引保持原样" in shown and "big&#46;txt" in shown  # escaped for the page
    assert fresh_qa.status()["version"] == before


def test_add_uploads_takes_every_file_type_ingest_reads(tmp_path: Path, fresh_qa) -> None:
    """The upload check and ingest share one list: a .markdown file is indexed, not refused."""
    article = tmp_path / "lake-notes.markdown"
    article.write_text(LAKE_ARTICLE, encoding="utf-8")
    report = add_uploads(fresh_qa, [str(article)])
    assert not report.errors and report.added == ["lake-notes"]
    assert fresh_qa.index.docs["lake-notes"].doc.path == "lake-notes.markdown"


def test_notes_are_shown_with_the_final_answer_only() -> None:
    answer = _answer(notes=["由 openai 生成，每处引用均已核对原文<x>"])
    assert 'class="dq-note"' in render_answer(answer) and "&lt;x&gt;" in render_answer(answer)
    assert "dq-note" not in render_answer(answer, upto=3)


class _DraftingQA:
    """Stands in for a QA whose generator writes drafts before the checked answer."""

    settings = Settings()

    def __init__(self, final: Answer) -> None:
        self.final = final
        self.history = None

    def ask_stream(self, question, history=None):
        self.history = history
        yield "甲地<今年>"
        yield "甲地<今年>建成新桥"
        yield self.final


def test_chat_stream_shows_generator_drafts_then_the_checked_answer() -> None:
    fake = _DraftingQA(_answer())
    earlier = [{"role": "user", "content": esc("甲地<去年>呢？")}, {"role": "assistant", "content": "……"}]
    states = list(chat_stream(fake, "那今年呢？", earlier))  # type: ignore[arg-type]
    drafts = [s[-1]["content"] for s in states if "dq-draft" in s[-1]["content"]]
    assert len(drafts) == 2 and "甲地&lt;今年&gt;建成新桥" in drafts[1]
    assert fake.history == [("甲地<去年>呢？", "")]  # earlier questions go back unescaped
    # After drafts the checked answer replaces them at once, then comes with its sources.
    assert len(states) == 1 + 2 + 1
    assert states[-1][-1]["metadata"]["title"].startswith("📚 来源")


# ---------------------------------------------------------------- the chat stream


@pytest.mark.slow
def test_chat_stream_shows_progress_then_answer_then_sources(served_app) -> None:
    _, qa = served_app
    states = list(chat_stream(qa, LAKE_QUESTION, []))
    assert states[0][-1]["content"].startswith("🔎")  # something shows at once
    assert states[0][0] == {"role": "user", "content": esc(LAKE_QUESTION)}
    lengths = [len(s[1]["content"]) for s in states[1:-1]]
    assert len(lengths) >= 2 and lengths == sorted(lengths)  # the answer grows
    final = states[-1]
    assert [m["role"] for m in final] == ["user", "assistant", "assistant"]
    assert "38万人次" in final[1]["content"]
    assert final[2]["metadata"]["title"].startswith("📚 来源")
    assert "<mark>" in final[2]["content"]

    follow = list(chat_stream(qa, "那2023年呢？", final))[-1]
    assert "34万人次" in follow[-2]["content"]
    assert "结合上文" in follow[-1]["content"] and "2023年" in follow[-1]["content"]


@pytest.mark.slow
def test_chat_stream_reports_bad_questions(served_app) -> None:
    _, qa = served_app
    final = list(chat_stream(qa, "问" * (qa.settings.max_question_chars + 1), []))[-1]
    assert "问题太长" in final[-1]["content"] and "dq-error" in final[-1]["content"]
    assert list(chat_stream(qa, "   ", [])) == [[]]


# ---------------------------------------------------------------- gradio_client against the running app


@pytest.fixture(scope="module")
def client(served_app) -> Client:
    url, _ = served_app
    return Client(url, verbose=False)


@pytest.mark.slow
def test_named_endpoints(client: Client) -> None:
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/add_articles"} <= set(named)


@pytest.mark.slow
def test_ask_returns_answer_with_citations(client: Client) -> None:
    data = client.predict(LAKE_QUESTION, None, api_name="/ask")
    assert data["answered"] is True
    assert data["citations"], data
    cited = [c for c in data["citations"] if "38万人次" in c["sentence"]]
    assert cited and cited[0]["title"] == "青松湖湿地公园去年接待游客再创新高" and cited[0]["date"] == "2025-01-10"
    assert cited[0]["sentence"] in cited[0]["passage"]


@pytest.mark.slow
def test_ask_follow_up_with_history(client: Client) -> None:
    first = client.predict(LAKE_QUESTION, None, api_name="/ask")
    data = client.predict("那2023年呢？", [[LAKE_QUESTION, first["text"]]], api_name="/ask")
    assert "青松湖湿地公园" in data["rewritten_question"] and "2023年" in data["rewritten_question"]
    assert any("34万人次" in c["sentence"] for c in data["citations"])
    messages = [{"role": "user", "content": LAKE_QUESTION}, {"role": "assistant", "content": first["text"]}]
    assert client.predict("那2023年呢？", messages, api_name="/ask")["text"] == data["text"]


@pytest.mark.slow
def test_ask_rejects_empty_question_readably(client: Client) -> None:
    with pytest.raises(Exception, match="请输入问题"):
        client.predict("  ", None, api_name="/ask")


@pytest.mark.slow
def test_ask_takes_the_question_alone(client: Client) -> None:
    """`history` is optional: a first question needs none (issue 21, item 11)."""
    data = client.predict(LAKE_QUESTION, api_name="/ask")
    assert data["answered"] and any("38万人次" in c["sentence"] for c in data["citations"])


@pytest.mark.slow
def test_readers_mistakes_print_no_traceback(client: Client, capfd: pytest.CaptureFixture[str]) -> None:
    """An empty or too-long question is the reader's mistake, and a refusal a normal answer:
    none of them puts a traceback in the server's output (issue 21, item 13)."""
    capfd.readouterr()
    for question in ("", "问" * 5000):
        with pytest.raises(Exception, match=r"请输入问题|问题太长"):
            client.predict(question, None, api_name="/ask")  # history given: item 11 aside
    assert not client.predict("示例县的火星基地有多少名宇航员？", None, api_name="/ask")["answered"]
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert len((out + err).strip().splitlines()) <= 3  # one line each at most


@pytest.mark.slow
def test_upload_gbk_article_then_ask(client: Client, served_app, tmp_path: Path) -> None:
    _, qa = served_app
    path = tmp_path / "orchard.txt"
    path.write_bytes(ORCHARD_ARTICLE.encode("gbk"))
    out = client.predict([handle_file(str(path))], api_name="/add_articles")
    assert "已添加" in out["report"] and "orchard" in out["docs"]
    data = client.predict("示例县苹果种植面积有多少亩？", None, api_name="/ask")
    assert data["answered"] and any("5.2万亩" in c["sentence"] for c in data["citations"])
    assert (qa.settings.corpus_dir / "orchard.txt").is_file()  # kept in the corpus for rebuilds
    from dadong_qa.audit import audit_path, read_lines

    last = read_lines(audit_path(qa.settings))[-1]  # no editor configured, loopback: the "local" actor
    assert (last["actor"], last["action"], last["added"]) == ("local", "add", ["orchard"])


@pytest.mark.slow
def test_pdf_and_docx_uploads_through_the_api(client: Client, served_app, tmp_path: Path) -> None:
    from documents import PDF_PAGES, TABLE, make_docx, make_pdf

    pdf, word, sheet = tmp_path / "gongbao.pdf", tmp_path / "consume.docx", tmp_path / "sheet.xlsx"
    pdf.write_bytes(make_pdf(PDF_PAGES))
    word.write_bytes(make_docx("示例市消费市场运行情况", ["上半年示例市消费市场稳步恢复。"], TABLE))
    sheet.write_bytes(b"PK\x03\x04 a spreadsheet")
    out = client.predict([handle_file(str(p)) for p in (pdf, word, sheet)], api_name="/add_articles")
    assert sorted(out["added"]) == ["consume", "gongbao"]
    assert len(out["errors"]) == 1 and "sheet.xlsx" in out["errors"][0] and "不支持" in out["errors"][0]
    data = client.predict("示例市全年新建了多少个5G基站？", None, api_name="/ask")
    assert data["answered"] and data["citations"][0]["page"] == 2


@pytest.mark.slow
def test_bad_uploads_are_rejected_and_index_unchanged(client: Client, served_app, tmp_path: Path) -> None:
    _, qa = served_app
    before = qa.status()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    image = tmp_path / "photo.md"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    binary = tmp_path / "dump.html"
    binary.write_bytes(b"abc\x00\x01\x02" * 100)
    out = client.predict([handle_file(str(p)) for p in (empty, image, binary)], api_name="/add_articles")
    assert not out["added"] and len(out["errors"]) == 3
    report = out["report"]  # for people, in Chinese; `errors` keeps the library's words for scripts
    assert "empty.txt：文件是空的" in report and "photo.md：这是PNG 图片" in report
    assert "dump.html：这是二进制文件" in report and any("binary" in e for e in out["errors"])
    assert "已添加" not in report
    after = qa.status()
    assert (after["version"], after["docs"]) == (before["version"], before["docs"])

    big = tmp_path / "big.txt"
    big.write_text("文" * APP_MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(Exception, match=r"(?i)size|large|大"):
        client.predict([handle_file(str(big))], api_name="/add_articles")
    assert qa.status()["version"] == before["version"]


@pytest.mark.slow
def test_questions_keep_working_during_an_upload(client: Client, served_app, tmp_path: Path) -> None:
    url, qa = served_app
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE_ARTICLE, "utf-8")
    others = [Client(url, verbose=False) for _ in range(3)]
    with ThreadPoolExecutor(4) as pool:
        upload = pool.submit(client.predict, [handle_file(str(path))], api_name="/add_articles")
        asks = [pool.submit(c.predict, LAKE_QUESTION, None, api_name="/ask") for c in others for _ in range(2)]
        results = [a.result() for a in asks]
        assert "已添加" in upload.result()["report"]
    assert all(r["answered"] and any("38万人次" in c["sentence"] for c in r["citations"]) for r in results)
    assert "notice" in [d["doc_id"] for d in qa.list_docs()]


# ---------------------------------------------------------------- app.py, as `make run` starts it


@pytest.mark.slow
def test_app_py_builds_the_index_on_first_run_and_serves(tmp_path: Path, seed_corpus: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lake.txt").write_text(LAKE_ARTICLE, "utf-8")
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus), "--index", str(tmp_path / "index")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "app.py did not start"
                time.sleep(0.5)
        assert (tmp_path / "index" / "CURRENT").is_file()
        data = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(LAKE_QUESTION, None, api_name="/ask")
        assert data["answered"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_add_articles_only_takes_files_uploaded_by_the_client(served_app, tmp_path: Path) -> None:
    # A raw request naming a file on the server, as a hostile client would send it.
    url, qa = served_app
    secret = tmp_path / "server_side.txt"
    secret.write_text(NOTICE_ARTICLE.replace("图书馆", "档案馆"), "utf-8")
    before = qa.status()["docs"]
    forged = {"path": str(secret), "orig_name": "server_side.txt", "meta": {"_type": "gradio.FileData"}}
    event = httpx.post(f"{url}gradio_api/call/add_articles", json={"data": [[forged], "replace"]}, timeout=30).json()
    result = httpx.get(f"{url}gradio_api/call/add_articles/{event['event_id']}", timeout=30).text
    assert "event: error" in result and "not uploaded by a user" in result
    assert qa.status()["docs"] == before


@pytest.mark.slow
def test_upload_with_hostile_file_name_is_stored_under_a_safe_name(served_app, tmp_path: Path) -> None:
    """A raw multipart upload whose file name climbs out of the folder and has odd characters."""
    url, qa = served_app
    corpus = qa.settings.corpus_dir.resolve()
    outside = sorted(p.name for p in corpus.parent.iterdir())
    body = ORCHARD_ARTICLE.replace("苹果", "梨").encode("utf-8")
    name = "../../梨 节(1) 😀;rm -rf ~.txt"
    uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": (name, body, "text/plain")}, timeout=30)
    assert uploaded.status_code == 200, uploaded.text
    path = uploaded.json()[0]
    out = Client(url, verbose=False).predict([handle_file(path)], api_name="/add_articles")
    assert len(out["added"]) == 1 and not out["errors"], out
    doc = qa.index.docs[out["added"][0]].doc
    stored = (corpus / doc.path).resolve()
    assert stored.parent == corpus and re.fullmatch(rf"[0-9A-Za-z_\-{CJK}]+\.txt", stored.name), stored
    assert stored.read_bytes() == body
    assert sorted(p.name for p in corpus.parent.iterdir()) == outside  # nothing written next to the corpus


class _BrokenQA:
    settings = Settings()

    def ask_stream(self, question, history=None):
        raise RuntimeError("boom <b>")
        yield  # a generator, like QA.ask_stream


def test_chat_stream_turns_an_unexpected_error_into_a_message(caplog) -> None:
    from dadong_qa.app.ui import INTERNAL_ERROR

    final = list(chat_stream(_BrokenQA(), "问题", []))[-1]  # type: ignore[arg-type]
    assert INTERNAL_ERROR in final[-1]["content"] and "dq-error" in final[-1]["content"]
    assert "boom" not in final[-1]["content"]  # details go to the log, not to users
    assert "boom" in caplog.text


@pytest.mark.slow
def test_upload_field_leaves_file_types_to_the_chinese_check(served_app) -> None:
    """Gradio refuses files outside `file_types` with an English toast before our check runs."""
    url, _ = served_app
    config = httpx.get(url.rstrip("/") + "/config", timeout=30).json()
    upload = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    assert not upload["props"].get("file_types")
    assert any(c.get("props", {}).get("elem_id") == "add-url" for c in config["components"])


def test_editor_corrects_title_and_date(tmp_path: Path) -> None:
    from dadong_qa import QA
    from dadong_qa.app.editor_ui import set_meta_form

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "orchard.txt").write_text(ORCHARD_ARTICLE, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"))
    qa.build()
    assert "请先选择" in set_meta_form(qa, None, "标题", "")
    assert "请填写" in set_meta_form(qa, "orchard", " ", "")
    assert "未修改" in set_meta_form(qa, "orchard", "", "2025-02-30")
    assert "已修改" in set_meta_form(qa, "orchard", "示例县第七届苹果节", "2025-09-21")
    doc = qa.index.docs["orchard"].doc
    assert (doc.title, doc.date) == ("示例县第七届苹果节", "2025-09-21")
    assert "相同" in set_meta_form(qa, "orchard", "", "2025-09-21")


def test_discard_uploads_deletes_uploads_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads are deleted once used (issue 21, item 2); a path outside Gradio's folder never is."""
    from dadong_qa.app.ui_common import discard_uploads

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    upload = tmp_path / "gradio" / "0123abcd" / "article.txt"
    upload.parent.mkdir(parents=True)
    upload.write_text(LAKE_ARTICLE, "utf-8")
    own = tmp_path / "article.txt"
    own.write_text(LAKE_ARTICLE, "utf-8")
    discard_uploads([str(upload), str(own), str(tmp_path / "gradio" / "gone.txt")])
    assert not upload.exists() and not upload.parent.exists() and own.exists()


def test_article_files_leave_nothing_in_gradios_cache(tmp_path: Path) -> None:
    """Gradio's File makes an empty file in its cache for each file it hands over; ours does not."""
    from gradio.data_classes import FileData, ListFiles

    from dadong_qa.app.ui_common import article_files

    files = article_files()
    files.GRADIO_CACHE = str(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    upload = tmp_path / "article.txt"
    upload.write_text(LAKE_ARTICLE, "utf-8")
    assert files.preprocess(ListFiles(root=[FileData(path=str(upload))])) == [str(upload)]
    assert list((tmp_path / "cache").iterdir()) == []
