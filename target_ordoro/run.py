"""What the sinks of one target run share: resources, counts, dead letters, writers, ordering.

:class:`WriteRun` is created by the target (``TargetOrdoro.run``) and handed to every sink. It
imports neither the target nor the sinks, so the two do not import each other: sinks are typed
against this object, and the target fills in the two things only it can do (drain a sink
through the SDK, and end a failed run with its summary) as callbacks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, ClassVar, Protocol

from ordoro_core.client import OrdoroClient, RetryPolicy
from target_ordoro.dead_letter import DEFAULT_DEAD_LETTER_PATH, DeadLetterFile
from target_ordoro.ledger import DEFAULT_LEDGER_MAX_AGE_HOURS, DEFAULT_LEDGER_PATH, Ledger
from target_ordoro.report import DEFAULT_ORDER_MAP_PATH, OrderMapFile, RunReport
from target_ordoro.writers import WRITER_TYPES, OrderNumbering, Writer, WriteSettings

DEFAULT_MAX_WORKERS = 4

#: The order in which deferred records are retried (what others depend on first).
STREAM_RANK: dict[str, int] = {"products": 0, "orders": 1, "inventory": 2, "shipments": 3}


class OrderedSink(Protocol):
    """What the run needs of a writing sink to order the drains and the deferred retries."""

    stream: ClassVar[str]
    upstream: ClassVar[tuple[str, ...]]

    @property
    def deferred(self) -> Mapping[str, Any]:
        """Records waiting for what they refer to, by key."""
        ...

    def retry_deferred(self) -> None:
        """Write the deferred records once more; dead-letter what is still not found."""
        ...


class WriteRun:
    """The shared state of one run of target-ordoro.

    ``config`` is the target's validated config; ``drain`` drains one sink (the SDK's
    ``Target.drain_one``); ``fail`` logs the summary of a run that is about to fail.
    Resources (client, ledger, files, writers) are created on first use and released by
    :meth:`close`.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        logger: logging.Logger,
        drain: Callable[[Any], None],
        fail: Callable[[BaseException], None],
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.logger = logger
        self.report = RunReport()
        self._drain = drain
        self._fail = fail
        self._retry_policy = retry_policy
        self._sinks: list[OrderedSink] = []
        self._writers: dict[str, Writer] = {}
        self._writers_lock = threading.Lock()

    # Settings

    @property
    def max_workers(self) -> int:
        """Concurrent writes within a batch."""
        return max(1, int(self.config.get("max_workers") or DEFAULT_MAX_WORKERS))

    # Resources (created on first use, closed by close())

    @cached_property
    def client(self) -> OrdoroClient:
        """The process's one Ordoro API client, shared by every sink and thread."""
        if self._retry_policy is not None:
            return OrdoroClient.from_config(self.config, retry=self._retry_policy)
        return OrdoroClient.from_config(self.config)

    @cached_property
    def ledger(self) -> Ledger:
        """What this target wrote before, for this account."""
        max_age = self.config.get("ledger_max_age_hours", DEFAULT_LEDGER_MAX_AGE_HOURS)
        return Ledger(
            self.config.get("ledger_path") or DEFAULT_LEDGER_PATH,
            account=f"{self.client.api_url} {self.client.username}",
            max_age_hours=float(max_age),
        )

    @cached_property
    def dead_letters(self) -> DeadLetterFile:
        """The dead-letter file."""
        return DeadLetterFile(self.config.get("dead_letter_path") or DEFAULT_DEAD_LETTER_PATH)

    @cached_property
    def order_map(self) -> OrderMapFile:
        """The order map file."""
        return OrderMapFile(self.config.get("order_map_path") or DEFAULT_ORDER_MAP_PATH)

    @cached_property
    def order_numbering(self) -> OrderNumbering:
        """The order_number Ordoro gives new orders."""
        return OrderNumbering(self.client, self.config.get("sales_channel_id"))

    def writer_for(self, stream: str) -> Writer:
        """The one writer of a canonical stream."""
        with self._writers_lock:
            if stream not in self._writers:
                settings = WriteSettings(
                    sales_channel_id=self.config.get("sales_channel_id"),
                    warehouse_id=self.config.get("warehouse_id"),
                    notify=bool(self.config.get("notify", False)),
                )
                self._writers[stream] = WRITER_TYPES[stream](
                    self.client, self.ledger, settings, self.order_numbering
                )
            return self._writers[stream]

    def close(self) -> None:
        """Close the API client's connections and the ledger (safe to call twice)."""
        if "client" in self.__dict__:
            self.client.close()
        if "ledger" in self.__dict__:
            self.ledger.close()

    # Skipped streams

    def note_skipped_stream(self, stream_name: str, *, read_only: bool) -> None:
        """Warn once per stream that its records are skipped."""
        if self.report.note_skipped_stream(stream_name):
            why = (
                "a tap-ordoro stream this target does not write"
                if read_only
                else "not a target stream (unknown_streams: skip)"
            )
            self.logger.warning("Skipping stream %r: %s", stream_name, why)

    # Ordering

    def register_sink(self, sink: OrderedSink) -> None:
        """Called by each writing sink when it is set up."""
        self._sinks.append(sink)

    def drain_upstream(self, sink: OrderedSink) -> None:
        """Drain the sinks whose records ``sink`` depends on (products before inventory...)."""
        for other in list(self._sinks):
            if other.stream in sink.upstream:
                self._drain(other)

    def has_deferred(self) -> bool:
        """Whether any record is waiting for the end-of-input retry."""
        return any(sink.deferred for sink in self._sinks)

    def retry_deferred(self) -> None:
        """Retry every sink's deferred records, what others depend on first."""
        for sink in sorted(self._sinks, key=lambda s: STREAM_RANK[s.stream]):
            sink.retry_deferred()

    def fail(self, error: BaseException) -> None:
        """Log the summary of a run that is about to fail (the caller re-raises)."""
        self._fail(error)


def run_of(target: object) -> WriteRun:
    """The :class:`WriteRun` of the target a sink was created by."""
    run = getattr(target, "run", None)
    if not isinstance(run, WriteRun):
        raise TypeError(f"target-ordoro's sinks need a target with a WriteRun, got {target!r}")
    return run
