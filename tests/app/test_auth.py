"""Editor passwords, the `editor add` command, the login check, expiring sessions and the start-up rule."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT
from dadong_qa import load_settings
from dadong_qa.app.auth import (
    EditMode,
    ExpiringSessions,
    LoginCheck,
    LoginRefused,
    add_editor,
    client_address,
    edit_mode,
    hash_password,
    read_password,
    verify_password,
)


def test_hash_is_salted_and_verifies() -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("scrypt$")  # a fresh salt each time
    assert "correct horse" not in a
    assert verify_password("correct horse", a) and verify_password("correct horse", b)
    assert not verify_password("correct hors", a)
    for broken in ("", "plain", "scrypt$1$2", "md5$1$2$3$4$5", a[:-8]):
        assert not verify_password("correct horse", broken)


@pytest.mark.parametrize(
    ("host", "editors", "mode"),
    [
        ("127.0.0.1", False, EditMode.OPEN),
        ("localhost", False, EditMode.OPEN),
        ("::1", False, EditMode.OPEN),
        ("0.0.0.0", False, EditMode.OFF),
        ("192.168.1.20", False, EditMode.OFF),
        ("example.org", False, EditMode.OFF),
        ("127.0.0.1", True, EditMode.LOGIN),
        ("0.0.0.0", True, EditMode.LOGIN),
    ],
)
def test_start_up_rule(host: str, editors: bool, mode: EditMode) -> None:
    configured = (("ed", hash_password("pw-12345678")),) if editors else ()
    assert edit_mode(host, configured) is mode


def test_editor_add_keeps_the_rest_of_the_config(tmp_path: Path) -> None:
    config = tmp_path / "dadong-qa.toml"
    config.write_text('# my settings\ntop_k = 7\n\n[editors]\nbob = "scrypt$x"\n', "utf-8")
    add_editor(config, "alice", "s3cret-pass")
    add_editor(config, "bob", "another-pass")  # replaces bob's hash
    text = config.read_text("utf-8")
    assert "# my settings" in text and "s3cret-pass" not in text and "another-pass" not in text
    data = tomllib.loads(text)
    assert data["top_k"] == 7 and set(data["editors"]) == {"alice", "bob"}
    assert verify_password("another-pass", data["editors"]["bob"])
    with pytest.raises(ValueError, match="editor name"):
        add_editor(config, "bad name:1", "s3cret-pass")


def test_settings_read_editors_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    add_editor(config, "alice", "s3cret-pass")
    monkeypatch.setenv("DADONG_QA_CONFIG", str(config))
    editors = dict(load_settings().editors)
    assert verify_password("s3cret-pass", editors["alice"])
    h = hash_password("other-pass1")
    monkeypatch.setenv("DADONG_QA_EDITORS", f"carol:{h}, dave:{h}")
    assert [n for n, _ in load_settings().editors] == ["carol", "dave"]  # the env var wins
    monkeypatch.setenv("DADONG_QA_EDITORS", "no-hash-here")
    with pytest.raises(ValueError, match="DADONG_QA_EDITORS"):
        load_settings()


def test_cli_editor_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DADONG_QA_CONFIG", None)
    cmd = [sys.executable, "-m", "dadong_qa.app.cli", "editor", "add", "alice"]
    done = subprocess.run(cmd, input="pw-from-stdin\n", cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stored = tomllib.loads((tmp_path / "dadong-qa.toml").read_text("utf-8"))["editors"]["alice"]
    assert verify_password("pw-from-stdin", stored)
    short = subprocess.run(cmd, input="short\n", cwd=tmp_path, env=env, capture_output=True, text=True)
    assert short.returncode == 2 and "at least 8" in short.stderr


def test_read_password_refuses_short_ones() -> None:
    assert read_password(io.StringIO("long enough\n")) == "long enough"
    with pytest.raises(ValueError):
        read_password(io.StringIO("\n"))


def test_failed_logins_are_delayed_and_counted() -> None:
    check = LoginCheck((("alice", hash_password("right-pass")),), delay=0.2)

    def timed(user: str, password: str) -> tuple[bool, float]:
        t0 = time.monotonic()
        ok = asyncio.run(check.check(user, password))
        return ok, time.monotonic() - t0

    ok, first = timed("alice", "wrong")
    assert not ok and first >= 0.2
    ok, second = timed("alice", "wrong")
    assert not ok and second >= 0.4  # doubled
    assert check.failures["alice"].count == 2 and check.total_failures == 2
    assert not timed("mallory", "right-pass")[0]  # unknown names never match
    ok, _ = timed("alice", "right-pass")
    assert ok and "alice" not in check.failures  # a success resets the count


def test_sessions_expire() -> None:
    sessions = ExpiringSessions(ttl=0.3)
    sessions["token"] = "alice"
    assert sessions.get("token") == "alice" and "token" in sessions and len(sessions) == 1
    time.sleep(0.4)
    assert sessions.get("token") is None and len(sessions) == 0


EDITORS = (("alice", hash_password("right-pass")), ("bob", hash_password("bobs-pass")))
ATTACKER, EDITOR, ELSEWHERE = "203.0.113.7", "198.51.100.2", "192.0.2.55"


class _Clock:
    """A clock the test moves by hand, so windows pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _counting(check: LoginCheck) -> list[str]:
    """The passwords `check` really hashes from now on."""
    hashed: list[str] = []
    verify = check.verify

    def counted(username: str, password: str) -> bool:
        hashed.append(password)
        return verify(username, password)

    check.verify = counted  # type: ignore[method-assign]
    return hashed


def _login(check: LoginCheck, username: str, password: str, address: str) -> bool:
    token = client_address.set(address)
    try:
        return asyncio.run(check.check(username, password))
    finally:
        client_address.reset(token)


def test_parallel_guesses_are_checked_one_at_a_time() -> None:
    """60 wrong passwords at once from one address: one is checked, 59 turned away unchecked."""
    check = LoginCheck(EDITORS, delay=0)
    hashed = _counting(check)

    async def flood() -> list[bool | BaseException]:
        client_address.set(ATTACKER)
        return await asyncio.gather(*(check.check("alice", f"guess-{i}") for i in range(60)), return_exceptions=True)

    results = asyncio.run(flood())
    refused = [r for r in results if isinstance(r, LoginRefused)]
    assert len(hashed) == 1 and results.count(False) == 1 and len(refused) == 59
    assert all(r.status_code == 429 and "另一次登录" in r.detail for r in refused)


def test_too_many_failures_lock_the_name_and_the_address_for_a_while() -> None:
    clock = _Clock()
    check = LoginCheck(EDITORS, delay=0, max_failures=3, window=60, clock=clock)
    hashed = _counting(check)
    for _ in range(3):
        assert not _login(check, "alice", "wrong", ATTACKER)
    with pytest.raises(LoginRefused, match="登录失败次数过多") as locked:
        _login(check, "alice", "right-pass", ATTACKER)  # not even the right password is checked
    assert locked.value.status_code == 429 and locked.value.headers == {"Retry-After": "60"}
    with pytest.raises(LoginRefused):
        _login(check, "bob", "bobs-pass", ATTACKER)  # the address is locked, for every name
    with pytest.raises(LoginRefused):
        _login(check, "alice", "right-pass", ELSEWHERE)  # and the name, from every new address
    assert len(hashed) == 3
    clock.now += 30
    with pytest.raises(LoginRefused) as still:
        _login(check, "alice", "right-pass", ATTACKER)
    assert still.value.headers == {"Retry-After": "30"}
    clock.now += 30  # the oldest failure left the window
    assert _login(check, "alice", "right-pass", ATTACKER)


def test_a_guesser_elsewhere_does_not_lock_the_editor_out() -> None:
    clock = _Clock()
    check = LoginCheck(EDITORS, delay=0, max_failures=3, window=60, clock=clock)
    assert _login(check, "alice", "right-pass", EDITOR)
    for _ in range(3):
        assert not _login(check, "alice", "wrong", ATTACKER)
    with pytest.raises(LoginRefused):
        _login(check, "alice", "right-pass", ELSEWHERE)
    assert _login(check, "alice", "right-pass", EDITOR)  # where alice logged in before
    assert not _login(check, "alice", "typo", EDITOR)  # her own failures still count for her address


def test_a_lockout_is_logged_when_it_begins(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    check = LoginCheck(EDITORS, delay=0, max_failures=3, window=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="dadong_qa.app.auth"):
        for _ in range(2):
            _login(check, "alice", "wrong", ATTACKER)
        clock.now += 60  # those two have left the window
        _login(check, "alice", "wrong", ATTACKER)
        assert "locked" not in caplog.text
        for _ in range(2):
            _login(check, "alice", "wrong", ATTACKER)
    locks = [r.getMessage() for r in caplog.records if "locked" in r.getMessage()]
    assert locks == [
        "editor logins for address 203.0.113.7 locked for 60 s: 3 failed in 60 s",
        "editor logins for name 'alice' locked for 60 s: 3 failed in 60 s",
    ]
