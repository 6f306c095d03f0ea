"""How many requests one account may have in flight: the pace times the latency (Little's law).

At an even pace of ``r`` requests a second and answers that take ``L`` seconds, ``r * L``
requests are on their way at any moment. With fewer allowed, latency sets the throughput and
the pace goes unused; more only wait for the pace. :class:`InFlightLimit` allows
``ceil(r * L * 1.25) + 1`` (a quarter more for jitter, and one waiting for its turn of the
pace), where ``L`` is the median of the last round trips, never more than its ceiling
(``max_parallel_requests`` in the tap, ``max_workers`` in the target) nor fewer than one.

It shrinks at once when Ordoro shows strain, then grows back by one per answer to a request
sent after the cut (doubling each round trip) up to what the latency asks for:

* a 429, or a failure that may be the server's (a 5xx, a timeout, a dropped connection): half;
* an answer that took more than twice the median and 250 ms: in proportion, so that the
  requests in flight do not pile up on a server that is slowing down.

One cut per round trip: answers to requests sent before a cut do not cut again.

Requests made inside :func:`spare_capacity` wait behind every other: a slot goes to them only
when no other request waits for it. A read whose pages can all be asked for at once (a list in
creation order) gives way so to reads that must wait a round trip between two pages (keyset
windows): those finish first, and the pages fill the slots the windows leave free, at the
start and when the last windows run alone at the end.

The limit never makes requests go faster: :mod:`ordoro_core.pacing` holds the even pace, and a
request takes its slot here before it waits for its turn of the pace. Waiting threads block on
an event of their own, are served first come first served, and use no CPU while they wait.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ordoro_core.errors import OrdoroTransientError

#: Default ceiling: at 600 requests a minute (Ordoro's limit) enough for answers of up to
#: about 2.4 s (``ceil(10 * 2.4 * 1.25) + 1 = 31``).
DEFAULT_MAX_IN_FLIGHT = 32
#: Room for jitter above the average Little's law asks for.
HEADROOM = 1.25
#: The latency is the median of this many recent round trips.
LATENCY_SAMPLES = 9
#: An answer this many times slower than the median (and RISE_MARGIN_S more) is a rise.
RISE_FACTOR = 2.0
RISE_MARGIN_S = 0.25

_spare: ContextVar[bool] = ContextVar("ordoro_spare_capacity", default=False)
_on_sent: ContextVar[Callable[[], None] | None] = ContextVar("ordoro_on_sent", default=None)


@contextmanager
def spare_capacity() -> Iterator[None]:
    """Requests made inside (on this thread) wait behind every other for a slot."""
    token = _spare.set(True)
    try:
        yield
    finally:
        _spare.reset(token)


@contextmanager
def when_sent(callback: Callable[[], None] | None) -> Iterator[None]:
    """Requests made inside (on this thread) call ``callback`` as they go out: once their turn
    of the pace came, before the exchange (a request sent again after a failure calls it again).
    A reader uses it to know that a request has left, not only that it was asked for: a thread
    asking for a request waits first for a slot and then for the pace, behind others."""
    token = _on_sent.set(callback)
    try:
        yield
    finally:
        _on_sent.reset(token)


@dataclass(frozen=True)
class InFlightStats:
    """What the limit did so far: the most requests in flight at once, the limit now, the
    latency it follows, and how often it was cut and why."""

    peak: int
    limit: int
    latency_s: float | None
    cuts_429: int
    cuts_error: int
    cuts_latency: int

    def __str__(self) -> str:
        latency = "none yet" if self.latency_s is None else f"{self.latency_s:.2f} s"
        return (
            f"requests in flight: peak {self.peak}, allowed now {self.limit} (median answer "
            f"{latency}); cut {self.cuts_429} time(s) after a 429, {self.cuts_error} after a "
            f"server failure, {self.cuts_latency} as answers slowed down"
        )


class InFlightLimit:
    """The number of requests of one account in flight at once (see the module docstring).

    ``pace`` is the account's even pace in requests a second; ``ceiling`` the most ever
    allowed. Before the first answer the ceiling is allowed: the pace spaces those requests.
    """

    def __init__(
        self, pace: float, ceiling: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ceiling < 1:
            raise ValueError("the ceiling on requests in flight must be at least 1")
        self.pace = pace
        self.ceiling = ceiling
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._waiting_spare: deque[threading.Event] = deque()
        self._in_flight = 0
        self._limit = ceiling
        self._regrowing = False
        self._cut_at = -math.inf
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self._peak = 0
        self._cuts = {"429": 0, "error": 0, "latency": 0}

    # What readers ask

    def allowance(self) -> int:
        """How many requests may be in flight now: what a reader plans its parallel reads for."""
        with self._lock:
            return self._limit

    def stats(self) -> InFlightStats:
        """The limit's figures so far."""
        with self._lock:
            return InFlightStats(
                self._peak,
                self._limit,
                self._median(),
                self._cuts["429"],
                self._cuts["error"],
                self._cuts["latency"],
            )

    # Taking and giving back a slot

    @contextmanager
    def slot(self) -> Iterator[_Slot]:
        """Hold one of the slots for a request (blocking until one is free).

        Call :meth:`_Slot.sent` when the request goes out (after waiting for the pace). The
        way the block ends says how it went: normally or with an error the server answered
        (the round trip counts), with a 429 or another :class:`OrdoroTransientError` (a cut).
        """
        self._acquire()
        held = _Slot(self._clock)
        try:
            yield held
        except OrdoroTransientError as error:
            self._release(held, "429" if error.status == 429 else "error")
            raise
        except BaseException:
            self._release(held, "answered")
            raise
        self._release(held, "answered")

    def _acquire(self) -> None:
        line = self._waiting_spare if _spare.get() else self._waiting
        with self._lock:
            if not self._waiting and not line and self._in_flight < self._limit:
                self._take()
                return
            turn = threading.Event()
            line.append(turn)
        try:
            turn.wait()
        except BaseException:  # interrupted while waiting: give the slot back if it came
            with self._lock:
                if turn in line:
                    line.remove(turn)
                else:
                    self._in_flight -= 1
                    self._hand_over()
            raise

    def _take(self) -> None:
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)

    def _hand_over(self) -> None:
        """Wake the threads first in line for the slots that are free (spare capacity last)."""
        while self._in_flight < self._limit and (self._waiting or self._waiting_spare):
            self._take()
            (self._waiting or self._waiting_spare).popleft().set()

    def _release(self, held: _Slot, outcome: str) -> None:
        now = self._clock()
        with self._lock:
            self._in_flight -= 1
            if held.sent_at is not None:
                self._learn(held.sent_at, now, outcome)
            self._hand_over()

    # The limit

    def _learn(self, sent_at: float, now: float, outcome: str) -> None:
        fresh = sent_at >= self._cut_at  # sent after the last cut: may cut again
        if outcome != "answered":
            if fresh:
                self._cut(self._limit // 2, outcome, now)
            return
        round_trip = now - sent_at
        typical = self._median()
        self._latencies.append(round_trip)
        if fresh and typical is not None and round_trip > RISE_FACTOR * typical + RISE_MARGIN_S:
            self._cut(math.floor(self._limit * typical / round_trip), "latency", now)
            return
        wanted = self._wanted()
        if self._regrowing and wanted > self._limit:
            self._limit += fresh  # answers to requests sent before the cut do not count
        else:
            self._limit, self._regrowing = wanted, False

    def _cut(self, limit: int, reason: str, now: float) -> None:
        self._limit = max(1, min(limit, self._limit))
        self._regrowing = True
        self._cut_at = now
        self._cuts[reason] += 1

    def _wanted(self) -> int:
        """Little's law: the pace times the latency, with headroom, within [1, ceiling]."""
        latency = self._median() or 0.0
        return max(1, min(self.ceiling, math.ceil(self.pace * latency * HEADROOM) + 1))

    def _median(self) -> float | None:
        return statistics.median(self._latencies) if self._latencies else None


class _Slot:
    """One request's slot: when it went out (None: it never did)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.sent_at: float | None = None

    def sent(self) -> None:
        """The request goes out now (its turn of the pace came)."""
        self.sent_at = self._clock()
        callback = _on_sent.get()
        if callback is not None:
            callback()


_limits: dict[tuple[str, str], tuple[float, int, InFlightLimit]] = {}
_limits_lock = threading.Lock()


def shared_in_flight_limit(api_url: str, username: str, pace: float, ceiling: int) -> InFlightLimit:
    """The process-wide in-flight limit of one Ordoro account, shared like its pace (see
    :func:`ordoro_core.pacing.shared_rate_limiter`); another pace or ceiling replaces it."""
    key = (api_url, username)
    with _limits_lock:
        known = _limits.get(key)
        if known and known[0] == pace and known[1] == ceiling:
            return known[2]
        limit = InFlightLimit(pace, ceiling)
        _limits[key] = (pace, ceiling, limit)
        return limit
