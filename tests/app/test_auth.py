"""Editor passwords, the `editor add` command, the login check, expiring sessions and the start-up rule."""

from __future__ import annotations

import asyncio
import io
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
    add_editor,
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
