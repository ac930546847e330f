"""The web server: one FastAPI app with the readers' chat at / and, when editors are configured,
the editor app at /editor behind Gradio's login; run by uvicorn.

Who may edit from the web (auth.edit_mode):
- editors configured: only logged-in editors, at /editor (the chat at / has no editing controls);
- no editors, loopback address (`make run`): the articles tabs are part of the app, no login;
- no editors, any other address: the chat is read-only, said at start-up; edit with the CLI.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.routing import APIRoute
from gradio.route_utils import API_PREFIX
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dadong_qa import index as store
from dadong_qa.api import QA
from dadong_qa.app.article_page import ARTICLE_PATH, article_page
from dadong_qa.app.auth import EditMode, ExpiringSessions, LoginCheck, client_address, edit_mode
from dadong_qa.app.chat_render import CSS, PAGE_SCRIPT
from dadong_qa.app.ui import build_app
from dadong_qa.index import IndexLockedError, IndexStoreError

log = logging.getLogger(__name__)

EDITOR_PATH = "/editor"
_START_TIMEOUT = 60.0
# Seconds a stopping server waits for connections still open after its streams were ended
# (a download in progress, a slow client) before it cancels them: service managers send
# SIGKILL 10 s after SIGTERM (docker, and systemd units with TimeoutStopSec=10).
_GRACEFUL_SECONDS = 5.0
# Seconds a stopping server waits for an index change in progress (an upload being added, a
# rebuild) to finish: most take seconds. One still running when a service manager's SIGKILL
# comes is cut off, which the index survives (docs/reliability.md); the server does not cut it.
_WRITE_WAIT = 60.0


def startup_message(mode: EditMode, host: str, port: int) -> str:
    """What the server says at start-up about who may change the collection."""
    where = f"http://{host}:{port}/"
    if mode is EditMode.LOGIN:
        return f"dadong-qa: chat on {where}, editors log in at {where.rstrip('/')}{EDITOR_PATH}/"
    if mode is EditMode.OPEN:
        return f"dadong-qa: chat and article management on {where} (loopback only, no editor login configured)"
    return (
        f"dadong-qa: READ-ONLY: listening on {host}, which other machines can reach, and no editor is "
        f"configured, so the chat on {where} cannot change the articles. Change them with the dadong-qa "
        "CLI, or add an editor (dadong-qa editor add NAME) and restart."
    )


def _theme() -> gr.themes.Base:
    return gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def make_app(qa: QA, host: str, port: int) -> tuple[FastAPI, EditMode]:
    """The FastAPI app for `host` with the chat at / and, in LOGIN mode, the editor app at /editor."""
    settings = qa.settings
    mode = edit_mode(host, settings.editors)
    common: dict[str, Any] = {
        "server_name": host,
        "server_port": port,
        "max_file_size": settings.max_file_bytes,
        "show_error": True,
        "ssr_mode": False,
        "css": CSS,
        "head": PAGE_SCRIPT,
        "theme": _theme(),
    }
    app = FastAPI()
    app.add_middleware(_ClientAddress)
    app.add_middleware(_ChinesePages, paths={"/", f"{EDITOR_PATH}/"})
    _add_article_page(app, qa)
    if mode is EditMode.LOGIN:
        from dadong_qa.app.editor_ui import build_editor_app

        editor = build_editor_app(qa)
        editor.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
        gr.mount_gradio_app(
            app,
            editor,
            EDITOR_PATH,
            auth=LoginCheck(
                settings.editors, settings.login_delay, settings.login_max_failures, settings.login_window
            ).check,
            auth_message=(
                "编辑登录：只有编辑可以修改文章。读者无需登录，请直接使用首页的问答。"
                f"同一用户名或地址 {settings.login_window:g} 秒内登录失败 {settings.login_max_failures} 次后，"
                "需等待片刻才能再试（此时点“登录”不会有反应）。"
            ),
            **common,
        )
        # Gradio keeps logins in a plain dict; this one forgets them after the session time.
        _mounted(app, EDITOR_PATH).tokens = ExpiringSessions(settings.editor_session_minutes * 60)
        _check_upload_paths(editor)
    reader = build_app(qa, mode)
    reader.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    gr.mount_gradio_app(app, reader, "/", **common)
    _check_upload_paths(reader)
    if mode is not EditMode.OPEN:  # only the open loopback app has the articles tab on its page
        _refuse_uploads(_mounted(app, ""))
    return app, mode


def _add_article_page(app: FastAPI, qa: QA) -> None:
    """GET /article/{doc_id}?s=N: the whole article, sentence N highlighted (article_page.py)."""

    @app.get(ARTICLE_PATH + "/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def article(doc_id: str, s: int | None = None) -> HTMLResponse:
        try:
            page, status = article_page(qa.index, doc_id, s)
        except IndexStoreError as exc:
            page, status = f"<p>{html.escape(str(exc))}</p>", 503
        return HTMLResponse(page, status_code=status)


class _ClientAddress:
    """ASGI middleware: the request's client address in `auth.client_address` while it is handled.

    Gradio calls the login check with the name and password only; the check also limits failed
    logins per address. uvicorn has already put a trusted proxy's X-Forwarded-For into `client`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        token = client_address.set(client[0] if client else "unknown")
        try:
            await self.app(scope, receive, send)
        finally:
            client_address.reset(token)


# Gradio's own words on a page ("Drop File Here", "Click to Upload", the login form, "Error")
# follow the browser's language, read from navigator.language when the page starts; custom
# strings (gr.I18n) cannot replace them, as Gradio 6 lays its built-in English over a custom
# "en". The app is Chinese for everyone, so its pages tell Gradio's front end the browser
# speaks zh-CN, before Gradio's scripts run.
_ZH_CN = (
    b'<script>Object.defineProperty(navigator, "language", {get: () => "zh-CN"});'
    b'Object.defineProperty(navigator, "languages", {get: () => ["zh-CN", "zh"]});</script>'
)


def zh_cn_page(page: bytes) -> bytes:
    """A Gradio page (index.html) that starts its front end in Chinese (which also sets <html lang>)."""
    return page.replace(b"<head>", b"<head>" + _ZH_CN, 1)


class _ChinesePages:
    """ASGI middleware: the Gradio pages at `paths` made Chinese by `zh_cn_page`.

    The request goes on without Accept-Encoding, so the page comes back uncompressed and can
    be edited (a page is ~10 kB; scripts and styles, at other paths, stay compressed).
    """

    def __init__(self, app: ASGIApp, paths: set[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: Message = {}
        body = bytearray()

        async def edit(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            page = bytes(body)
            if dict(start["headers"]).get(b"content-type", b"").startswith(b"text/html"):
                page = zh_cn_page(page)
            fixed = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*fixed, (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        await self.app({**scope, "headers": headers}, receive, edit)


def _check_upload_paths(blocks: gr.Blocks) -> None:
    """Make Gradio refuse file paths a client did not upload (a request naming a server file).

    Gradio 6.31 runs that check only once a Blocks `has_launched`, which `launch()` sets and
    `mount_gradio_app` does not: without this a raw API call could add any server file.
    tests/test_ui.py and tests/test_server.py send such a request.
    """
    blocks.has_launched = True


NO_UPLOADS = "读者页面不接受上传文件；编辑请登录 /editor/ 后上传。（uploads are not accepted here）"


def _refuse_uploads(gradio_app: Any) -> None:
    """Make a mounted Gradio app answer 403 to uploads, without reading or storing the body.

    Gradio serves POST /gradio_api/upload for every app, with or without a file input; the
    readers' app has none, so a file sent there could only fill the server's disk (anyone could,
    in read-only and in login mode). The refusal goes first in the app's routes, with the path
    of Gradio's upload route, so it answers every request that route would have.
    """

    def refuse() -> PlainTextResponse:
        return PlainTextResponse(NO_UPLOADS, status_code=403)

    route = APIRoute(f"{API_PREFIX}/upload", refuse, methods=["POST"], include_in_schema=False)
    gradio_app.router.routes.insert(0, route)


def _mounted(app: FastAPI, path: str) -> Any:
    for route in app.routes:
        if getattr(route, "path", None) == path:
            return route.app  # type: ignore[attr-defined]
    raise LookupError(path)


class _Server(uvicorn.Server):
    """uvicorn's server, which on shutdown first ends the mounted Gradio apps' endless streams.

    Every open page holds a heartbeat stream (GET /gradio_api/heartbeat/...) that ends only when
    its Gradio app's `stop_event` is set, which `Blocks.close()` does for a launched app and
    nothing does for a mounted one: uvicorn waited for open tabs (30-45 s and more after
    SIGTERM, issue 21). Closing each queue ends its event streams and starts no new job. An
    index change already running in a worker thread is waited for (`_WRITE_WAIT`): uvicorn ends
    the process with the signal it caught as soon as shutdown returns, which would cut it off.
    """

    def __init__(self, app: FastAPI, host: str, port: int, index_dir: Path) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=_GRACEFUL_SECONDS
        )
        super().__init__(config)
        self.gradio_apps = _gradio_apps(app)
        self.index_dir = index_dir

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for gradio_app in self.gradio_apps:
            gradio_app.stop_event.set()
            gradio_app.get_blocks()._queue.close()
        await super().shutdown(sockets)
        await asyncio.to_thread(_wait_for_writes, self.index_dir)


def _wait_for_writes(index_dir: Path) -> None:
    """Return once no index change is running (the index's write lock is free), or after `_WRITE_WAIT`."""
    try:
        with store.write_lock(index_dir, timeout=0):
            return
    except IndexLockedError:
        log.warning("dadong-qa: stopping once the index change in progress is done (at most %g s)", _WRITE_WAIT)
    try:
        with store.write_lock(index_dir, timeout=_WRITE_WAIT):
            return
    except IndexLockedError:
        log.warning("dadong-qa: stopping with the index change still running; the index keeps its last version")


def _gradio_apps(app: FastAPI) -> list[Any]:
    from gradio.routes import App

    return [route.app for route in app.routes if isinstance(getattr(route, "app", None), App)]


class RunningServer:
    """A uvicorn server in a background thread (tests, `serve(block=False)`)."""

    def __init__(self, app: FastAPI, host: str, port: int, index_dir: Path) -> None:
        self.server = _Server(app, host, port, index_dir)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        self.local_url = f"http://{shown}:{port}/"
        self.thread = threading.Thread(target=self.server.run, name="dadong-qa-server", daemon=True)

    def start(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the server on {self.local_url} did not start (port in use?)")
            time.sleep(0.05)
        return self

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(qa: QA, host: str | None = None, port: int | None = None, *, block: bool = True) -> RunningServer | None:
    """Start the app on host:port (defaults from `Settings`: 127.0.0.1:7860, GRADIO_SERVER_PORT).

    With `block=False` the server runs in a background thread and is returned (`.local_url`,
    `.close()`); otherwise this returns when the server stops.
    """
    settings = qa.settings
    host = host or settings.server_host
    port = port or settings.server_port
    if not store.exists(settings.index_dir):
        qa.build(actor="server")  # first run (`make run`): the audit log says who built it
    qa.warm()  # load the index, the embedder and the reader before the first user arrives
    app, mode = make_app(qa, host, port)
    message = startup_message(mode, host, port)
    if mode is EditMode.OFF:
        log.warning(message)
    else:
        log.info(message)
    if not block:
        return RunningServer(app, host, port, settings.index_dir).start()
    if mode is not EditMode.OFF:  # OFF was logged as a warning, on stderr, already
        print(message, flush=True)
    _Server(app, host, port, settings.index_dir).run()
    return None
