"""Readers and editors over HTTP: the running app with an editor configured, and a read-only one on 0.0.0.0.

Without editor credentials every endpoint that changes the collection is refused and the corpus
and index stay byte-for-byte the same; with them the changes work and are audited; a wrong
password is refused after a delay. A public server without editors is read-only and says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import shutil
import time
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file

from conftest import LAKE_ARTICLE, LIBRARY_ARTICLE, ORCHARD_ARTICLE, SEED_CORPUS, free_port
from dadong_qa import QA, load_settings
from dadong_qa.app.audit import audit_path, read_lines
from dadong_qa.app.auth import hash_password
from dadong_qa.app.feedback import ReaderLog

pytestmark = pytest.mark.slow

PASSWORD = "orchard-keeper-7"
LOGIN_DELAY = 0.5
LAKE_QUESTION = "青松湖湿地公园2024年接待了多少游客？"
EDITING = ("add_articles", "remove_articles", "restore_article", "rebuild_index")


def _snapshot(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (hidden ones too): the bytes on disk."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _serve(root: Path, host: str, **settings):
    from dadong_qa.app.server import serve

    shutil.copytree(SEED_CORPUS, root / "corpus")
    (root / "corpus" / "lake.txt").write_text(LAKE_ARTICLE, encoding="utf-8")
    qa = QA(load_settings(corpus_dir=root / "corpus", index_dir=root / "index", **settings))
    return serve(qa, host=host, port=free_port(), block=False), qa


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("editor")
    server, qa = _serve(root, "127.0.0.1", editors=(("alice", hash_password(PASSWORD)),), login_delay=LOGIN_DELAY)
    try:
        yield server.local_url, qa, root, server
    finally:
        server.close()


def _endpoints(url: str) -> set[str]:
    return set(Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"])


def test_readers_ask_without_login_and_see_no_editing(editor_app) -> None:
    url, qa, *_ = editor_app
    data = Client(url, verbose=False).predict(LAKE_QUESTION, None, api_name="/ask")
    assert data["answered"] and any("38万人次" in c["sentence"] for c in data["citations"])
    assert _endpoints(url) == {"/ask"}
    config = httpx.get(f"{url}config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert "chat" in ids and not ids & {"upload", "add", "remove", "rebuild", "articles"}
    asked = [r for r in ReaderLog(qa.settings).questions.read_text("utf-8").splitlines() if LAKE_QUESTION in r]
    assert asked and "127.0.0.1" not in asked[-1]  # logged, without the address


def test_without_credentials_nothing_changes(editor_app, tmp_path: Path) -> None:
    url, qa, root, _ = editor_app
    before = _snapshot(root / "corpus", root / "index")
    audit_before = len(read_lines(audit_path(qa.settings)))
    article = tmp_path / "orchard.txt"
    article.write_text(ORCHARD_ARTICLE, "utf-8")
    editor = f"{url}editor/gradio_api"
    with article.open("rb") as fh:
        assert httpx.post(f"{editor}/upload", files={"files": fh}, timeout=30).status_code == 401
    calls = {"add_articles": [[], "replace"], "remove_articles": [["lake"]], "restore_article": ["lake.txt"]}
    calls["rebuild_index"] = []
    for name, data in calls.items():
        assert httpx.post(f"{editor}/call/{name}", json={"data": data}, timeout=30).status_code == 401, name
        # The readers' app at / has no such endpoint at all.
        assert httpx.post(f"{url}gradio_api/call/{name}", json={"data": data}, timeout=30).status_code >= 400
    for fn_index in range(40):
        join = {"data": [["lake"]], "fn_index": fn_index, "session_hash": "x1"}
        assert httpx.post(f"{editor}/queue/join", json=join, timeout=30).status_code == 401
    with pytest.raises(Exception):  # noqa: B017  (gradio_client raises its own errors per version)
        Client(f"{url}editor/", verbose=False).predict(["lake"], api_name="/remove_articles")
    t0 = time.monotonic()
    with pytest.raises(Exception, match=r"(?i)credentials|login|auth"):
        Client(f"{url}editor/", auth=("alice", "wrong-password"), verbose=False)
    assert time.monotonic() - t0 >= LOGIN_DELAY  # refused, and only after the delay
    wrong = httpx.post(f"{url}editor/login", data={"username": "alice", "password": "nope"}, timeout=30)
    assert wrong.status_code == 400 and "access-token" not in wrong.headers.get("set-cookie", "")
    assert _snapshot(root / "corpus", root / "index") == before
    assert len(read_lines(audit_path(qa.settings))) == audit_before


def test_editor_changes_the_collection_and_is_audited(editor_app, tmp_path: Path) -> None:
    url, qa, *_ = editor_app
    editor = Client(f"{url}editor/", auth=("alice", PASSWORD), verbose=False)
    assert {f"/{name}" for name in EDITING} <= _endpoints_of(editor)
    start = len(read_lines(audit_path(qa.settings)))
    article = tmp_path / "a" / "orchard.txt"
    article.parent.mkdir()
    article.write_text(ORCHARD_ARTICLE, "utf-8")
    out = editor.predict([handle_file(str(article))], "ask", api_name="/add_articles")
    assert out["added"] == ["orchard"] and not out["conflicts"]
    other = tmp_path / "b" / "orchard.txt"  # same file name, another article
    other.parent.mkdir()
    other.write_text(ORCHARD_ARTICLE.replace("苹果", "梨"), "utf-8")
    asked = editor.predict([handle_file(str(other))], "ask", api_name="/add_articles")
    assert asked["conflicts"][0]["doc_id"] == "orchard" and not asked["added"]
    kept = editor.predict([handle_file(str(other))], "keep_both", api_name="/add_articles")
    assert kept["added"] == ["orchard-2"] and {"orchard", "orchard-2"} <= set(kept["docs"])
    removed = editor.predict(["orchard-2"], api_name="/remove_articles")
    assert removed["removed"] == ["orchard-2"]
    restored = editor.predict("orchard-2.txt", api_name="/restore_article")
    assert restored["added"] == ["orchard-2"]
    data = Client(url, verbose=False).predict("示例县梨种植面积有多少亩？", None, api_name="/ask")
    assert data["answered"] and any(c["doc_id"] == "orchard-2" for c in data["citations"])
    records = read_lines(audit_path(qa.settings))[start:]
    assert [(r["actor"], r["action"], r["doc_ids"]) for r in records] == [
        ("alice", "add", ["orchard"]),
        ("alice", "add", ["orchard-2"]),
        ("alice", "remove", ["orchard-2"]),
        ("alice", "restore", ["orchard-2"]),
    ]
    assert records[0]["files"][0]["sha256"] == hashlib.sha256(article.read_bytes()).hexdigest()


def test_editor_api_only_takes_files_uploaded_by_the_client(editor_app, tmp_path: Path) -> None:
    url, qa, *_ = editor_app
    secret = tmp_path / "server_side.txt"
    secret.write_text(ORCHARD_ARTICLE.replace("苹果", "桃"), "utf-8")
    forged = {"path": str(secret), "orig_name": "server_side.txt", "meta": {"_type": "gradio.FileData"}}
    with httpx.Client(timeout=30) as browser:
        assert browser.post(f"{url}editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 200
        event = browser.post(f"{url}editor/gradio_api/call/add_articles", json={"data": [[forged], "replace"]})
        result = browser.get(f"{url}editor/gradio_api/call/add_articles/{event.json()['event_id']}").text
    assert "event: error" in result and "not uploaded by a user" in result
    assert "server_side" not in qa.index.docs


def _refuses_uploads(url: str) -> None:
    """Ten 1 MB uploads to the readers' app: all refused, none stored."""
    name = f"{secrets.token_hex(8)}.txt"
    for _ in range(10):
        answer = httpx.post(f"{url}gradio_api/upload", files={"files": (name, b"x" * 1_000_000)}, timeout=30)
        assert answer.status_code == 403 and "不接受上传" in answer.text
    assert not list(Path(get_upload_folder()).rglob(name))


def test_the_readers_app_takes_no_uploads(editor_app) -> None:
    url, *_ = editor_app
    _refuses_uploads(url)


def test_editor_uploads_are_deleted_once_added(editor_app) -> None:
    url, qa, *_ = editor_app
    with httpx.Client(timeout=60) as browser:
        assert browser.post(f"{url}editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 200
        files = {"files": ("library.txt", LIBRARY_ARTICLE.encode("utf-8"))}
        uploaded = Path(browser.post(f"{url}editor/gradio_api/upload", files=files).json()[0])
        assert uploaded.is_file()
        data = {"path": str(uploaded), "orig_name": "library.txt", "meta": {"_type": "gradio.FileData"}}
        event = browser.post(f"{url}editor/gradio_api/call/add_articles", json={"data": [[data], "replace"]})
        result = browser.get(f"{url}editor/gradio_api/call/add_articles/{event.json()['event_id']}").text
    assert "event: complete" in result and "library" in qa.index.docs
    assert not uploaded.exists()  # in the corpus now; the upload is gone


def test_pages_start_gradio_in_chinese(editor_app) -> None:
    """Gradio's own words ("Drop File Here", the login form) follow navigator.language: the pages
    set it to zh-CN before Gradio's scripts run, whatever the browser's language (item 14)."""
    url, *_ = editor_app
    for page in (url, f"{url}editor/"):  # the chat, and the editors' login page
        answer = httpx.get(page, headers={"Accept-Encoding": "gzip, br"}, timeout=30)
        pin = answer.text.find('"language", {get: () => "zh-CN"}')
        assert 0 < pin < answer.text.find('<script type="module"'), page
        assert int(answer.headers["content-length"]) == len(answer.content)


def test_editor_sessions_expire(editor_app) -> None:
    from dadong_qa.app.server import EDITOR_PATH, _mounted

    url, *_, server = editor_app
    info = f"{url}editor/gradio_api/info"
    with httpx.Client(timeout=30) as browser:
        assert browser.post(f"{url}editor/login", data={"username": "alice", "password": PASSWORD}).status_code == 200
        assert browser.get(info).status_code == 200
        sessions = _mounted(server.server.config.app, EDITOR_PATH).tokens
        ttl, sessions.ttl = sessions.ttl, 0.5
        try:
            time.sleep(0.7)
            assert browser.get(info).status_code == 401  # the session expired
        finally:
            sessions.ttl = ttl


def test_parallel_login_guesses_are_turned_away_and_the_editor_still_gets_in(editor_app) -> None:
    """60 wrong passwords at once from one address (issue 21, item 4): at most `login_max_failures`
    (5) are checked, the others answered 429 at once; then the name and the address are locked,
    but not for the address alice logged in from. Addresses come in X-Forwarded-For, which
    uvicorn takes from 127.0.0.1 as a local reverse proxy's."""
    url, *_ = editor_app
    login = f"{url}editor/login"
    attacker, editor, elsewhere = ({"X-Forwarded-For": a} for a in ("203.0.113.7", "198.51.100.2", "192.0.2.55"))
    right = {"username": "alice", "password": PASSWORD}
    assert httpx.post(login, data=right, headers=editor, timeout=30).status_code == 200

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as c:
            guesses = ({"username": "alice", "password": f"guess-{i}"} for i in range(60))
            return await asyncio.gather(*(c.post(login, data=g, headers=attacker) for g in guesses))

    codes = [r.status_code for r in asyncio.run(flood())]
    assert 1 <= codes.count(400) <= 5 and codes.count(429) == 60 - codes.count(400), codes

    def until_locked(name: str) -> httpx.Response:
        for _ in range(5):  # login_max_failures: one at a time until the lockout
            answer = httpx.post(login, data={"username": name, "password": "again"}, headers=attacker, timeout=60)
            if answer.status_code == 429:
                return answer
        raise AssertionError(f"no lockout for {name}")

    locked = until_locked("alice")
    assert "登录失败次数过多" in locked.json()["detail"] and 0 < int(locked.headers["Retry-After"]) <= 60
    assert httpx.post(login, data=right, headers=elsewhere, timeout=30).status_code == 429  # the name
    assert httpx.post(login, data=right, headers=editor, timeout=30).status_code == 200  # alice's address
    assert "登录失败次数过多" in until_locked("bob").json()["detail"]  # the address, for any name


def _endpoints_of(client: Client) -> set[str]:
    return set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])


def chat(url: str, question: str, session_hash: str) -> str:
    """Ask in the chat as the page does (queue/join, then the event stream); the stream's text."""
    config = httpx.get(f"{url}config", timeout=30).json()
    submit = next(d["id"] for d in config["dependencies"] if any(t[1] == "submit" for t in d["targets"]))
    join = {"data": [question, [], {}], "fn_index": submit, "session_hash": session_hash}
    assert httpx.post(f"{url}gradio_api/queue/join", json=join, timeout=30).status_code == 200
    text = ""
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as s:
        for line in s.iter_lines():
            text += line + "\n"
            if "process_completed" in line:
                break
    return text


def test_public_server_without_editors_is_read_only_and_rate_limited(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = 30.0  # long enough for the asks and chats below on a busy machine, short for the test
    monkeypatch.setattr("dadong_qa.app.ratelimit.WINDOW_SECONDS", window)
    with caplog.at_level(logging.WARNING, logger="dadong_qa.app.server"):
        server, _ = _serve(tmp_path, "0.0.0.0", rate_limit=2)
    try:
        assert "READ-ONLY" in caplog.text and "0.0.0.0" in caplog.text
        url = server.local_url
        assert _endpoints(url) == {"/ask"}
        assert httpx.get(f"{url}editor/gradio_api/info", timeout=30).status_code == 404
        _refuses_uploads(url)
        client = Client(url, verbose=False)
        started = time.monotonic()
        assert client.predict(LAKE_QUESTION, None, api_name="/ask")["answered"]
        first = time.monotonic()  # the first question was counted before this
        assert client.predict(LAKE_QUESTION, None, api_name="/ask")["answered"]
        with pytest.raises(Exception, match="提问太频繁"):
            client.predict(LAKE_QUESTION, None, api_name="/ask")
        # The chat counts per address too: a new random session per question gets no new budget.
        for _ in range(2):
            assert "提问太频繁" in chat(url, LAKE_QUESTION, secrets.token_hex(6))
        assert time.monotonic() - started < window  # all of the above inside one window
        time.sleep(first + window - time.monotonic() + 0.1)  # the first question has left the window
        assert "38万人次" in chat(url, LAKE_QUESTION, secrets.token_hex(6))  # recovered: one left the window
    finally:
        server.close()
