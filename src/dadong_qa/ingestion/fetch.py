"""Articles from the web: a page by URL, or the new items of an RSS/Atom feed.

Fetching is guarded because a URL comes from a user: only http and https, every address a
host name resolves to (at each redirect) must be public unless `allow_private_urls` is set,
redirects are bounded, the content type must be a page (or a feed), and the download stops at
`fetch_max_bytes` and at `fetch_timeout` seconds overall: every connect, send and receive waits
at most until that deadline (`_DeadlineBackend`), so a server that trickles its headers or body
a byte at a time cannot hold a fetch, and the write slot of the app, past it. A fetched page is stored in the
corpus folder like an uploaded .html file (so a rebuild keeps it) and its URL is kept as the
article's source (corpus/.meta.json). The host is resolved before connecting; a DNS answer that
changes between the check and the connection (DNS rebinding) is not defended against, and the
system resolver's own timeout is not bounded by `fetch_timeout`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from dadong_qa.config import Settings
from dadong_qa.index import Progress
from dadong_qa.ingestion import corpus_meta
from dadong_qa.ingestion.ingest import IngestError, make_doc_id
from dadong_qa.schema import ChangeReport

if TYPE_CHECKING:
    from dadong_qa.api import QA

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
USER_AGENT = "dadong-qa (article fetcher)"
_CHUNK = 64 * 1024


class FetchError(IngestError):
    """A URL that cannot be fetched as an article or a feed; the message says why."""


@dataclass
class Fetched:
    url: str  # after redirects
    data: bytes
    content_type: str


def is_url(text: str) -> bool:
    return bool(re.match(r"^https?://", text.strip(), re.I))


def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"{url}: only http and https addresses can be fetched")
    host = parts.hostname
    if not host:
        raise FetchError(f"{url}: no host name in the address")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme.lower() == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{url}: cannot resolve host {host!r} ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"{url}: {host} is a private or local address ({address}); refused "
                "(set allow_private_urls / DADONG_QA_ALLOW_PRIVATE_URLS=1 to allow it)"
            )


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every send and receive ends by the deadline.

    httpx's read timeout applies to each receive, so a server sending a byte just before it
    runs out is never timed out; clamping each wait to the time left bounds the whole fetch.
    """

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = _time_left(self._deadline, timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    """httpcore's sockets, with connects and every later wait ending by `deadline`."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(self.deadline, timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(super().connect_tcp(host, port, left, local_address, socket_options), self.deadline)


def _time_left(deadline: float, timeout: float | None, expired: type[Exception]) -> float:
    """The shorter of `timeout` and the time until `deadline`; `expired` once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the fetch deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport on `_DeadlineBackend`. httpx takes no network backend, so its connection
    pool is made again with one (the same settings otherwise: no proxy, verified TLS)."""

    def __init__(self, deadline: float) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=_DeadlineBackend(deadline)
        )


def fetch(url: str, settings: Settings, accept: tuple[str, ...] = PAGE_TYPES) -> Fetched:
    """GET `url` under the safety rules of this module; `FetchError` says what went wrong."""
    deadline = time.monotonic() + settings.fetch_timeout
    timeout = httpx.Timeout(settings.fetch_timeout)
    transport = _DeadlineTransport(deadline)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, transport=transport) as client:
        for _ in range(settings.fetch_max_redirects + 1):
            _check_address(url, settings.allow_private_urls)
            try:
                with client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    return _read(url, response, settings, accept, deadline)
            except httpx.TimeoutException:
                raise FetchError(
                    f"{url}: not fetched within {settings.fetch_timeout:g} s (fetch_timeout); given up"
                ) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: cannot fetch ({type(exc).__name__}: {exc})") from None
    raise FetchError(f"{url}: more than {settings.fetch_max_redirects} redirects")


def _read(url: str, response: httpx.Response, settings: Settings, accept: tuple[str, ...], deadline: float) -> Fetched:
    if response.status_code >= 400:
        raise FetchError(f"{url}: the server answered HTTP {response.status_code}")
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in accept:
        raise FetchError(f"{url}: content type {ctype or 'unknown'!r} is not a web page or feed")
    limit = settings.fetch_max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"{url}: {int(declared):,} bytes, above the {limit:,} byte limit (fetch_max_bytes)")
    body = bytearray()
    for chunk in response.iter_bytes(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise FetchError(f"{url}: larger than the {limit:,} byte limit (fetch_max_bytes)")
        if time.monotonic() > deadline:  # a fast server that never stops (the reads end by it too)
            raise FetchError(f"{url}: not fetched within {settings.fetch_timeout:g} s (fetch_timeout); given up")
    return Fetched(url, bytes(body), ctype)


def url_doc_id(url: str) -> str:
    """Stable article id for a URL: readable host and path, plus a hash so two URLs never share one."""
    parts = urlsplit(url)
    readable = make_doc_id(f"{parts.hostname or ''}{parts.path}".replace("/", "_").replace(".", "_") + ".x")
    return f"{readable[:60]}_{hashlib.sha1(url.encode()).hexdigest()[:8]}"


def add_urls(qa: QA, urls: list[str], progress: Progress | None = None, actor: str = "cli") -> ChangeReport:
    """Fetch pages and add them as articles in one index change; failures are listed, not raised."""
    report = ChangeReport()
    corpus = qa.settings.corpus_dir
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dadong-qa-fetch-") as tmp:
        files, ids = [], []
        for url in dict.fromkeys(u.strip() for u in urls):
            try:
                page = fetch(url, qa.settings)
            except FetchError as exc:
                report.errors.append(str(exc))
                continue
            doc_id = url_doc_id(url)
            suffix = ".txt" if page.content_type == "text/plain" else ".html"
            path = Path(tmp) / f"{doc_id}{suffix}"
            path.write_bytes(page.data)
            corpus_meta.save(corpus, doc_id, url=url)  # read back by add(), and by every rebuild
            files.append(path)
            ids.append(doc_id)
        if files:
            added = qa.add(files, progress=progress, actor=actor)
            report.added, report.replaced, report.unchanged = added.added, added.replaced, added.unchanged
            report.skipped = added.skipped
            report.errors += added.errors
            report.notes += added.notes
            indexed = set(added.added + added.replaced + added.unchanged)
            corpus_meta.forget(corpus, {d for d in ids if d not in indexed})
    report.seconds = time.perf_counter() - t0
    return report


def add_feed(qa: QA, feed_url: str, progress: Progress | None = None, actor: str = "cli") -> ChangeReport:
    """Add the items of an RSS/Atom feed that are not in the collection yet."""
    import feedparser

    feed = fetch(feed_url, qa.settings, accept=FEED_TYPES + PAGE_TYPES)
    parsed = feedparser.parse(feed.data)
    if not parsed.entries:
        raise FetchError(f"{feed_url}: not an RSS or Atom feed, or it has no items")
    known = _known_urls(qa)
    links = [urljoin(feed.url, e.get("link", "")) for e in parsed.entries if e.get("link")]
    new = [link for link in dict.fromkeys(links) if link not in known]
    report = add_urls(qa, new, progress, actor) if new else ChangeReport()
    report.unchanged += [url_doc_id(link) for link in dict.fromkeys(links) if link in known]
    return report


def _known_urls(qa: QA) -> set[str]:
    from dadong_qa import index as store

    if not store.exists(qa.settings.index_dir):
        return set()
    return {rec.doc.url for rec in qa.index.docs.values() if rec.doc.url} | {
        v["url"] for v in corpus_meta.load(qa.settings.corpus_dir).values() if v.get("url")
    }
