"""Reading a stream's list ahead of its turn, on a thread of its own, into a bounded queue."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class ReadAhead(Generic[Item]):
    """Runs an iterator on a thread of its own, at most ``ahead`` items before its consumer.

    The tap starts every selected stream's list reading when the sync starts, so that a
    stream's pages are already coming while the streams before it are emitted (one shared rate
    limiter paces them all). Items wait in a bounded queue: memory stays flat. An error of the
    producer is raised to the consumer; closing the consumer stops the producer.
    """

    def __init__(self, produce: Callable[[], Iterator[Item]], ahead: int, name: str) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(produce,), name=f"ordoro-ahead-{name}", daemon=True
        )
        self._thread.start()

    def _run(self, produce: Callable[[], Iterator[Item]]) -> None:
        try:
            for item in produce():
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(("error", error))

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Item]:
        try:
            while True:
                kind, value = self._queue.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the producer (it finishes the request it is in) and let its thread end."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
