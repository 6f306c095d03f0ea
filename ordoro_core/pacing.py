"""The account's rate limit, held as an even pace shared by every client of the account.

Ordoro answers 429 above 500 requests a minute, counted per account over a window of its own.
:func:`shared_rate_limiter` gives every client of one ``(api_url, username)`` in a process the
same :class:`PacedLimiter`, so threads and streams draw from one budget.
"""

from __future__ import annotations

import math
import threading

from pyrate_limiter import Duration, Limiter, Rate

#: Ordoro answers 429 above 500 requests a minute; stay a little under it by default.
DEFAULT_REQUESTS_PER_MINUTE = 480


class PacedLimiter:
    """pyrate-limiter's :class:`Limiter` at an even pace, with waiting threads served in turn.

    pyrate-limiter wakes its waiters in no particular order, so a thread can be passed over
    again and again while others get slot after slot. The tap reads windows of a list on
    threads of their own, each waiting for its previous page; one thread passed over finishes
    last and alone, at the speed of latency. Threads here queue on a lock for their turn
    (first come, first served, as far as the OS wakes them), and the one holding it waits for
    the limiter's next slot.
    """

    def __init__(self, requests_per_window: int, window_seconds: float) -> None:
        self.limiter = Limiter(_paced(requests_per_window, window_seconds), buffer_ms=1)
        self._turn = threading.Lock()

    def try_acquire(self, name: str) -> None:
        """Wait for the next slot (blocking)."""
        with self._turn:
            self.limiter.try_acquire(name)


_limiters: dict[tuple[str, str], tuple[int, float, PacedLimiter]] = {}
_limiters_lock = threading.Lock()


def _paced(requests_per_window: int, window_seconds: float) -> Rate:
    """The ceiling as an even pace: one request per ``window / requests``.

    Ordoro counts an account's requests over a window of its own, whose edges we do not see.
    A client that spends a whole window's allowance in a burst, and the next one at the next
    edge, has two bursts inside one of Ordoro's windows as soon as network delays differ by a
    few milliseconds; an even pace puts at most one extra request into any window of theirs.
    It is also the pace that leaves the merchant's other integrations a share at every moment.
    """
    spacing_ms = math.ceil(Duration.SECOND * window_seconds / requests_per_window)
    return Rate(1, max(1, spacing_ms))


def shared_rate_limiter(
    api_url: str, username: str, requests_per_window: int, window_seconds: float = 60.0
) -> PacedLimiter:
    """The process-wide limiter for one Ordoro account.

    Ordoro counts requests per account, so every client of the same ``(api_url, username)`` in
    this process, and every thread using them, draws from the same sliding window. A different
    ceiling for the same account replaces the limiter (the latest configuration wins).
    """
    key = (api_url, username)
    with _limiters_lock:
        known = _limiters.get(key)
        if known and known[0] == requests_per_window and known[1] == window_seconds:
            return known[2]
        limiter = PacedLimiter(requests_per_window, window_seconds)
        _limiters[key] = (requests_per_window, window_seconds, limiter)
        return limiter
