"""How many requests were in flight at the sandbox over time, from its request log.

A request is in flight from its arrival (``RequestRecord.at``) until its answer was ready
(``RequestRecord.answered``). Tests and the benchmark read client behaviour from here, on the
server's side, whatever code the client runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from ordoro_sandbox.app import RequestRecord


@dataclass(frozen=True)
class InFlight:
    """Requests in flight, sampled every ``step`` seconds from the first arrival to the last
    answer: ``peak`` (the most at any moment) and ``median`` (of the samples)."""

    peak: int
    median: float
    samples: tuple[int, ...]

    @classmethod
    def of(cls, records: Iterable[RequestRecord], step: float = 0.05) -> InFlight:
        """The profile of the answered requests among ``records``."""
        spans = sorted(
            (record.at, record.answered) for record in records if record.answered is not None
        )
        if not spans:
            return cls(0, 0.0, ())
        events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
        peak = current = 0
        for _, change in events:
            current += change
            peak = max(peak, current)
        first, last = spans[0][0], max(end for _, end in spans)
        samples = []
        moment, current, index = first, 0, 0
        while moment <= last:
            while index < len(events) and events[index][0] <= moment:
                current += events[index][1]
                index += 1
            samples.append(current)
            moment += step
        return cls(peak, float(statistics.median(samples)), tuple(samples))


def in_flight_at(records: Iterable[RequestRecord], moment: float) -> int:
    """How many of ``records`` were in flight at ``moment`` (a ``time.time()`` value)."""
    return sum(
        1
        for record in records
        if record.at <= moment and (record.answered is None or moment < record.answered)
    )
