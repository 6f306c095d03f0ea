"""A sliding-window rate limit per username, like Ordoro's 500 requests per minute."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindowLimit:
    """At most ``limit`` accepted requests per key within any ``window_seconds``.

    Rejected requests do not count. ``limit=None`` switches the limit off.
    """

    def __init__(
        self,
        limit: int | None = None,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._accepted: defaultdict[str, deque[float]] = defaultdict(deque)
        self.configure(limit, window_seconds)

    def configure(self, limit: int | None, window_seconds: float = 60.0) -> None:
        """Change the limit (and forget what was counted so far)."""
        if limit is not None and limit < 1:
            raise ValueError("the rate limit must be at least 1 request per window")
        if window_seconds <= 0:
            raise ValueError("the rate-limit window must be positive")
        with self._lock:
            self.limit = limit
            self.window_seconds = float(window_seconds)
            self._accepted.clear()

    def acquire(self, key: str) -> int | None:
        """Count one request for ``key``; None if it is allowed, else Retry-After seconds (>= 1)."""
        with self._lock:
            if self.limit is None:
                return None
            now = self._clock()
            accepted = self._accepted[key]
            while accepted and accepted[0] <= now - self.window_seconds:
                accepted.popleft()
            if len(accepted) < self.limit:
                accepted.append(now)
                return None
            return max(1, math.ceil(accepted[0] + self.window_seconds - now))
