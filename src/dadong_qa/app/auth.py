"""Editors: password hashes, the login check Gradio calls, expiring sessions, and who may edit.

Readers need no login. Editors are listed in the configuration (`Settings.editors`) as user
names with salted scrypt hashes; plain passwords are never stored. The login page, its cookie
and logout are Gradio's own (`gr.mount_gradio_app(..., auth=...)`): this module supplies the
password check (which limits, delays and counts failures) and makes Gradio's session table expire.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TextIO

from fastapi import HTTPException

log = logging.getLogger(__name__)

# scrypt cost: n=2**14, r=8 takes 57 ms (measured) and 16 MiB per check on the 2-core dev machine, so a
# guesser gets ~17 tries a second per core before the login delay, and a login feels instant.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 64  # hashlib.scrypt's default dklen
_PREFIX = "scrypt"
_MAX_DELAY = 30.0
_SWEEP_EVERY = 1000  # login attempts between sweeps of names and addresses that went quiet
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class EditMode(Enum):
    """Who may change the collection from the web app."""

    LOGIN = "login"  # editors configured: the editor app at /editor behind a login
    OPEN = "open"  # no editors, loopback address: the articles tab as part of the app, no login
    OFF = "off"  # no editors, reachable from other machines: read-only, edit with the CLI


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def edit_mode(host: str, editors: tuple[tuple[str, str], ...]) -> EditMode:
    """The start-up rule: a login when editors exist; otherwise editing only on a loopback address."""
    if editors:
        return EditMode.LOGIN
    return EditMode.OPEN if is_loopback(host) else EditMode.OFF


# ---------------------------------------------------------------- password hashes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash as "scrypt$n$r$p$salt$hash" (base64; no ':' or ',' so it fits the env var)."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt or os.urandom(_SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_KEY_BYTES)
    return "$".join([_PREFIX, str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the stored hash; a malformed hash never matches."""
    try:
        prefix, n, r, p, salt, key = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(key, validate=True)
        if len(expected) != _KEY_BYTES:  # a cut-short hash would otherwise match its own prefix
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=_KEY_BYTES
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_name(name: str) -> str:
    if not name or set(name) - _NAME_CHARS or len(name) > 64:
        raise ValueError(f"editor name {name!r}: use 1-64 letters, digits, '_', '.' or '-'")
    return name


def add_editor(config: Path, name: str, password: str) -> None:
    """Write (or replace) editor `name` with a fresh hash of `password` into the TOML file `config`.

    The rest of the file is kept as it was (tomlkit); the file is replaced atomically.
    """
    import tomlkit

    check_name(name)
    doc = tomlkit.parse(config.read_text("utf-8")) if config.is_file() else tomlkit.document()
    if "editors" not in doc:
        doc["editors"] = tomlkit.table()
    doc["editors"][name] = hash_password(password)
    tmp = config.with_name(f".{config.name}.tmp")
    tmp.write_text(tomlkit.dumps(doc), "utf-8")
    os.chmod(tmp, 0o600)  # hashes are not passwords, but nobody else needs to read them
    tmp.replace(config)


# ---------------------------------------------------------------- login


# Gradio calls the login check with the name and password only; server.py's middleware puts the
# request's client address here for the check to limit attempts per address as well.
client_address: ContextVar[str] = ContextVar("client_address", default="unknown")

LOCKED = (
    "登录失败次数过多：请 {seconds} 秒后再试。"
    "（too many failed logins for this name or address; try again in {seconds} s）"
)
BUSY = "这个用户名或地址的另一次登录正在核对，请稍后再试。（another login for this name or address is being checked）"


class LoginRefused(HTTPException):
    """A login turned away before its password was checked: answered 429 with `Retry-After`.

    Raised from the check Gradio awaits; FastAPI turns it into the response of /login.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(status_code=429, detail=message.format(seconds=seconds), headers={"Retry-After": str(seconds)})


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class _Attempts:
    """Recent failed logins and the check in progress, for one user name or one client address."""

    failures: deque[float] = field(default_factory=deque)  # clock times of the failures in the window
    checking: bool = False


class LoginCheck:
    """The password check for Gradio's login (`auth=LoginCheck(...).check`): limits, delays and counts failures.

    Per user name and per client address (`client_address`):
    - one password is checked at a time: a login that arrives while another for the same name or
      address is being checked is refused at once, so parallel guesses are not checked in parallel;
    - at most `max_failures` failed logins in any `window` seconds: further logins are refused,
      without checking the password, until the oldest of those failures is `window` seconds old.
    An address that has logged in as a name is exempt from that name's limits (not from its own
    address's), so a guesser elsewhere does not lock the editor out. A failed login is also
    answered only after `delay * 2**(failures in a row - 1)` seconds (at most 30). Refusals raise
    `LoginRefused` (HTTP 429); a lockout is logged when it begins, every failure with its count.
    Async, so the wait and the scrypt hash do not hold up other requests.
    """

    def __init__(
        self,
        editors: tuple[tuple[str, str], ...],
        delay: float = 1.0,
        max_failures: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.editors = dict(editors)
        self.delay = delay
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self.failures: dict[str, _Failures] = {}  # failures in a row per name (for the delay)
        self.total_failures = 0
        self.attempts: dict[str, _Attempts] = {}  # per "name ..." and "address ..." key
        self.trusted: set[tuple[str, str]] = set()  # (name, address) pairs that logged in
        self._since_sweep = 0
        self._lock = threading.Lock()

    def verify(self, username: str, password: str) -> bool:
        stored = self.editors.get(username)
        # Unknown names cost the same hash, so timing does not tell which names exist.
        ok = verify_password(password, stored or hash_password("x", salt=b"\0" * _SALT_BYTES))
        return ok and stored is not None

    async def check(self, username: str, password: str) -> bool:
        """Pass this bound method as Gradio's `auth`: Gradio awaits it only if it is a coroutine
        function, which a callable object with an async __call__ is not."""
        address = client_address.get()
        keys = self._admit(username, address)
        ok = False
        try:
            ok = await asyncio.to_thread(self.verify, username, password)
        finally:
            self._finish(username, address, keys, ok)
        if ok:
            log.info("editor %r logged in from %s", username, address)
            return True
        with self._lock:
            f = self.failures.setdefault(username, _Failures())
            f.count += 1
            f.last = time.time()
            self.total_failures += 1
            wait = min(self.delay * 2 ** (f.count - 1), _MAX_DELAY)
        count, total = f.count, self.total_failures
        log.warning("failed editor login for %r from %s (%d in a row, %d in all)", username, address, count, total)
        await asyncio.sleep(wait)
        return False

    def _keys(self, username: str, address: str) -> list[str]:
        keys = [f"address {address}"]
        if (username, address) not in self.trusted:
            keys.append(f"name {username!r}")
        return keys

    def _admit(self, username: str, address: str) -> list[str]:
        """The keys this login counts against, marked as being checked; or raise LoginRefused."""
        keys = self._keys(username, address)
        now = self.clock()
        with self._lock:
            self._since_sweep += 1
            if self._since_sweep >= _SWEEP_EVERY:
                self._sweep(now)
            states = [self.attempts.setdefault(key, _Attempts()) for key in keys]
            for key, state in zip(keys, states, strict=True):
                self._forget_old(state, now)
                if len(state.failures) >= self.max_failures:
                    log.info("editor login for %r from %s refused: %s is locked", username, address, key)
                    raise LoginRefused(LOCKED, self.window - (now - state.failures[0]))
            if any(state.checking for state in states):
                log.info("editor login for %r from %s refused: another one is being checked", username, address)
                raise LoginRefused(BUSY, 1)
            for state in states:
                state.checking = True
        return keys

    def _finish(self, username: str, address: str, keys: list[str], ok: bool) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                state = self.attempts[key]
                state.checking = False
                if ok:
                    continue
                self._forget_old(state, now)
                state.failures.append(now)
                if len(state.failures) == self.max_failures:
                    log.warning(
                        "editor logins for %s locked for %.0f s: %d failed in %g s",
                        key,
                        self.window - (now - state.failures[0]),
                        self.max_failures,
                        self.window,
                    )
            if ok:
                self.failures.pop(username, None)
                self.trusted.add((username, address))

    def _forget_old(self, state: _Attempts, now: float) -> None:
        while state.failures and now - state.failures[0] >= self.window:
            state.failures.popleft()

    def _sweep(self, now: float) -> None:
        """Forget names and addresses with no failure in the window (guessed names would pile up)."""
        self._since_sweep = 0
        for key in [
            k
            for k, state in self.attempts.items()
            if not state.checking and (not state.failures or now - state.failures[-1] >= self.window)
        ]:
            del self.attempts[key]


class ExpiringSessions(MutableMapping[str, str]):
    """Gradio's session table (token -> user name) whose entries expire `ttl` seconds after login."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, token: str) -> str:
        with self._lock:
            user, since = self._items[token]
            if time.monotonic() - since > self.ttl:
                del self._items[token]
                raise KeyError(token)
            return user

    def __setitem__(self, token: str, user: str) -> None:
        with self._lock:
            self._expire()
            self._items[token] = (user, time.monotonic())

    def __delitem__(self, token: str) -> None:
        with self._lock:
            del self._items[token]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            self._expire()
            return iter(list(self._items))

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, since) in self._items.items() if now - since > self.ttl]:
            del self._items[token]


def read_password(stream: TextIO) -> str:
    """A new password: asked twice with getpass on a terminal, else the first line of `stream`."""
    if stream.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise ValueError("the two passwords differ; nothing was saved")
        password = first
    else:
        password = stream.readline().rstrip("\r\n")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters; nothing was saved")
    return password
