"""The account's rate limit, held as an even pace shared by every client of the account.

Ordoro answers 429 above 500 requests a minute, counted per account over a window of its own.
:func:`shared_rate_limiter` gives every client of one ``(api_url, username)`` in a process the
same :class:`PacedLimiter`, so threads and streams draw from one budget.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pyrate_limiter import Duration, Limiter, Rate

#: Ordoro answers 429 above 500 requests a minute; stay a little under it by default.
DEFAULT_REQUESTS_PER_MINUTE = 480


class PacedLimiter:
    """pyrate-limiter's :class:`Limiter` at an even pace, with waiting threads served in turn.

    pyrate-limiter wakes its waiters in no particular order, so a thread can be passed over
    again and again while others get slot after slot. The tap reads windows of a list on
    threads of their own, each waiting for its previous page; one thread passed over finishes
    last and alone, at the speed of latency. Threads here wait for their turn in a line, and
    the one whose turn it is waits for the limiter's next slot.

    The line is ordered by priority (:func:`pace_priority`), then first come first served. A
    keyset window asks with the pages it has left: the windows furthest from their end go
    first, so that they all end together instead of the last few running alone at the speed
    of latency while the pace goes unused.
    """

    def __init__(self, requests_per_window: int, window_seconds: float) -> None:
        self.limiter = Limiter(_paced(requests_per_window, window_seconds), buffer_ms=1)
        self._lock = threading.Lock()
        self._line: list[tuple[int, int, threading.Event]] = []  # a heap
        self._arrivals = itertools.count()
        self._busy = False  # a thread has the turn
        self._new_turn = threading.Event  # what a waiting thread blocks on

    def try_acquire(self, name: str) -> None:
        """Wait for this thread's turn, then for the next slot (blocking)."""
        turn = None
        with self._lock:
            if self._busy:
                turn = self._new_turn()
                heapq.heappush(self._line, (-_priority.get(), next(self._arrivals), turn))
            else:
                self._busy = True
        if turn is not None:
            try:
                turn.wait()
            except BaseException:  # interrupted: leave the line, or pass on a turn given
                with self._lock:
                    entry = next((e for e in self._line if e[2] is turn), None)
                    if entry is not None:
                        self._line.remove(entry)
                        heapq.heapify(self._line)
                        raise
                self._pass_turn()
                raise
        try:
            self.limiter.try_acquire(name)
        finally:
            self._pass_turn()

    def _pass_turn(self) -> None:
        with self._lock:
            if self._line:
                heapq.heappop(self._line)[2].set()  # the turn goes on: still busy
            else:
                self._busy = False


_priority: ContextVar[int] = ContextVar("ordoro_pace_priority", default=0)


@contextmanager
def pace_priority(priority: int) -> Iterator[None]:
    """Requests made inside (on this thread) take their turn of the pace before waiting
    requests of a lower priority (0 by default)."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


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
