"""The per-client question limit."""

from __future__ import annotations

import time

import pytest

from dadong_qa.app.ratelimit import RateLimited, RateLimiter


def test_limit_per_client_with_a_clear_message_then_recovery() -> None:
    limiter = RateLimiter(3, window=0.5)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(RateLimited, match="提问太频繁") as caught:
        limiter.check("a")
    assert 0 < caught.value.retry_after <= 0.5
    limiter.check("b")  # other clients are not affected
    time.sleep(0.55)
    limiter.check("a")  # recovered


def test_zero_means_no_limit() -> None:
    limiter = RateLimiter(0)
    for _ in range(1000):
        limiter.check("a")


def test_the_chat_says_so_in_chinese_and_keeps_the_question() -> None:
    from dadong_qa.app.ui import over_limit

    limiter = RateLimiter(1, window=60)
    assert over_limit(limiter, "session-1", "第一个问题", []) is None
    assert over_limit(limiter, "session-1", "   ", []) is None  # an empty box is not a question
    chat = over_limit(limiter, "session-1", "第二个问题", [{"role": "user", "content": "x"}])
    assert chat is not None and chat[-2] == {"role": "user", "content": "第二个问题"}
    assert "提问太频繁" in chat[-1]["content"] and "dq-error" in chat[-1]["content"]
    assert over_limit(limiter, "session-2", "别的用户", []) is None
