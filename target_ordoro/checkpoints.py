"""Which STATE may be emitted: the latest one whose every earlier record is settled.

A STATE message says "everything before me is done". Records get a sequence number when they
reach a sink (:meth:`Checkpoints.receive`); those waiting to be written (in a batch not drained
yet, or deferred) are *open* until they are written, found unchanged, superseded or
dead-lettered (:meth:`Checkpoints.settle`). Each STATE is kept with the number of records
received before it (its watermark), and becomes emittable once no record below its watermark is
open. Emitting the latest emittable STATE makes every earlier one redundant.

Thread-safe; no I/O.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections import deque
from typing import Any


class Checkpoints:
    """Record sequence numbers, open records and the STATE messages waiting for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received = 0
        self._open: set[int] = set()
        self._heap: list[int] = []
        self._pending: deque[tuple[int, Any]] = deque()
        self._emitted: str | None = None

    @property
    def received(self) -> int:
        """How many records have been received (the next record's sequence number)."""
        with self._lock:
            return self._received

    def receive(self, *, open_: bool) -> int:
        """Give the next record its sequence number; ``open_`` when it still has to be written."""
        with self._lock:
            seq = self._received
            self._received += 1
            if open_:
                self._open.add(seq)
                heapq.heappush(self._heap, seq)
            return seq

    def settle(self, seq: int) -> None:
        """The record ``seq`` is written, unchanged, superseded or dead-lettered."""
        with self._lock:
            self._open.discard(seq)

    def state(self, value: Any) -> None:
        """A STATE message arrived after every record received so far."""
        with self._lock:
            self._pending.append((self._received, value))

    def oldest_open(self) -> int | None:
        """The sequence number of the oldest open record, or None."""
        with self._lock:
            return self._oldest_open()

    def _oldest_open(self) -> int | None:
        while self._heap and self._heap[0] not in self._open:
            heapq.heappop(self._heap)
        return self._heap[0] if self._heap else None

    def emittable(self) -> Any | None:
        """The latest STATE whose records are all settled, once (None when there is none new).

        It and every STATE before it are dropped from the waiting list; a STATE equal to the one
        emitted last is not returned again.
        """
        with self._lock:
            oldest = self._oldest_open()
            found = None
            while self._pending and (oldest is None or self._pending[0][0] <= oldest):
                found = self._pending.popleft()[1]
            if found is None:
                return None
            text = json.dumps(found, sort_keys=True, default=str)
            if text == self._emitted:
                return None
            self._emitted = text
            return found
