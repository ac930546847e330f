"""Per-client rate limit for questions (chat and /ask), so one client cannot crowd out the others.

A sliding window: at most `limit` questions in any `window` seconds per client. The client is
the request's address, in the chat and through /ask alike (one budget for both): a script can
open a new Gradio session for every question, not a new address. Behind a reverse proxy that
does not pass the reader's address on, all readers share the proxy's (README). In memory: a
restart forgets, which is fine for a rate limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0
_FORGET_EVERY = 1000  # calls between sweeps of clients that went quiet


class RateLimited(Exception):
    """Too many questions from one client; the message (Chinese) says when to try again."""

    def __init__(self, limit: int, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"提问太频繁：每个用户每分钟最多 {limit} 个问题，请 {math.ceil(retry_after)} 秒后再试。"
            f"（rate limit: {limit} questions per minute; retry in {math.ceil(retry_after)} s）"
        )


class RateLimiter:
    def __init__(self, limit: int, window: float | None = None) -> None:
        self.limit = limit  # 0 or less: no limit
        self.window = WINDOW_SECONDS if window is None else window
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def check(self, client: str) -> None:
        """Count one question from `client`, or raise `RateLimited` (not counted) if over the limit."""
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client, deque())
            while calls and now - calls[0] >= self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                raise RateLimited(self.limit, self.window - (now - calls[0]))
            calls.append(now)
            self._since_sweep += 1
            if self._since_sweep >= _FORGET_EVERY:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        for client in [c for c, calls in self._calls.items() if not calls or now - calls[-1] >= self.window]:
            del self._calls[client]
