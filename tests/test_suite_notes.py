"""What the test run itself says: skipped browser tests are named, with how to run them (issue 21, item 15)."""

from __future__ import annotations

import pytest

from conftest import browser_note


def _skipped(nodeid: str, reason: str) -> pytest.TestReport:
    path = nodeid.split("::")[0]
    return pytest.TestReport(nodeid, (path, 1, "test"), {}, "skipped", (path, 70, f"Skipped: {reason}"), "setup")


def test_skipped_browser_tests_are_said_with_how_to_run_them():
    reason = "chromium / chromedriver not found (apt-get install chromium chromium-driver)"
    note = browser_note([_skipped(f"tests/test_browser.py::test_{i}", reason) for i in range(5)])
    assert note is not None and note.startswith("5 browser tests (tests/test_browser.py) were skipped: chromium")
    assert "apt-get install chromium chromium-driver" in note and ".ci/run" in note


def test_other_skips_are_not_browser_notes():
    assert browser_note([_skipped("tests/ingestion/test_paragraphs.py::test_every", "no data")]) is None
    assert browser_note([]) is None
