"""What the sinks of one target run share: resources, counts, dead letters, writers, ordering,
deferred records and STATE checkpoints.

:class:`WriteRun` is created by the target (``TargetOrdoro.run``) and handed to every sink. It
imports neither the target nor the sinks, so the two do not import each other: sinks are typed
against this object, and the target fills in what only it can do (drain a sink through the SDK,
end a failed run with its summary, write a STATE message) as callbacks.

Deferred records: a record whose SKU or order is not in Ordoro yet waits, since what it needs
may come later in the input. It is retried as soon as a sink writes what it needs, and given up
(dead-lettered after one last try, once the sinks it depends on are drained) when it has waited
for ``deferral_max_records`` further records or ``deferral_max_seconds``, checked at every
STATE message, or at the end of the input. At most ``deferral_max_records`` records wait at
once. A waiting record holds back only the STATE messages that came after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from functools import cached_property
from typing import Any, ClassVar, Protocol

from ordoro_core.client import OrdoroClient
from ordoro_core.inflight import DEFAULT_MAX_IN_FLIGHT
from target_ordoro.checkpoints import Checkpoints
from target_ordoro.dead_letter import DEFAULT_DEAD_LETTER_PATH, DeadLetterFile
from target_ordoro.dry_run import DryRunClient
from target_ordoro.plan import DEFAULT_PLAN_PATH, PlanFile
from target_ordoro.report import DEFAULT_ORDER_MAP_PATH, OrderMapFile, RunReport
from target_ordoro.writers import (
    WRITER_TYPES,
    Lookups,
    OrderLocator,
    OrderNumbering,
    ProductReader,
    TagCatalog,
    Writer,
    WriteSettings,
)

#: Default of ``max_workers``, the ceiling on requests in flight (the client follows the
#: latency below it; see ordoro_core.inflight).
DEFAULT_MAX_WORKERS = DEFAULT_MAX_IN_FLIGHT
DEFAULT_DEFERRAL_MAX_RECORDS = 10_000
DEFAULT_DEFERRAL_MAX_SECONDS = 600.0

#: The order in which deferred records are retried (what others depend on first).
STREAM_RANK: dict[str, int] = {"products": 0, "orders": 1, "inventory": 2, "shipments": 3}


class OrderedSink(Protocol):
    """What the run needs of a writing sink to order drains, retries and deferral."""

    stream: ClassVar[str]
    upstream: ClassVar[tuple[str, ...]]

    @property
    def deferred(self) -> Mapping[str, Any]:
        """Records waiting for what they refer to, by key."""
        ...

    def retry_ready(self, provided: Collection[str]) -> None:
        """Retry the deferred records waiting for something in ``provided``."""
        ...

    def expired_keys(self, received: int, now: float) -> list[str]:
        """The keys of deferred records that have waited too long."""
        ...

    def retry_deferred(self, keys: Collection[str] | None = None) -> None:
        """Last try for deferred records (all, or those of ``keys``); dead-letter the rest."""
        ...


class WriteRun:
    """The shared state of one run of target-ordoro.

    ``config`` is the target's validated config; ``drain`` drains one sink (the SDK's
    ``Target.drain_one``); ``fail`` logs the summary of a run that is about to fail; ``emit``
    writes one STATE message. Resources (client, files, writers) are created on first use and
    released by :meth:`close`.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        logger: logging.Logger,
        drain: Callable[[Any], None],
        fail: Callable[[BaseException], None],
        emit: Callable[[Any], None],
        client_options: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.logger = logger
        self.report = RunReport()
        self.checkpoints = Checkpoints()
        self.clock = clock
        self._drain = drain
        self._fail = fail
        self._emit = emit
        self._client_options = dict(client_options or {})
        self._sinks: list[OrderedSink] = []
        self._writers: dict[str, Writer] = {}
        self._writers_lock = threading.Lock()
        self._expiring = False

    # Settings

    @property
    def dry_run(self) -> bool:
        """Whether this run only plans (no write request, no STATE): see ``dry_run``."""
        return bool(self.config.get("dry_run", False))

    @property
    def max_workers(self) -> int:
        """The ceiling on requests in flight: threads that write (or read) a batch at once;
        the API client lets as many through as the latency asks for."""
        return max(1, int(self.config.get("max_workers") or DEFAULT_MAX_WORKERS))

    @property
    def deferral_max_records(self) -> int:
        """How many further records a deferred record waits at most (and how many wait)."""
        value = self.config.get("deferral_max_records")
        return max(0, int(DEFAULT_DEFERRAL_MAX_RECORDS if value is None else value))

    @property
    def deferral_max_seconds(self) -> float:
        """How long a deferred record waits at most."""
        value = self.config.get("deferral_max_seconds")
        return max(0.0, float(DEFAULT_DEFERRAL_MAX_SECONDS if value is None else value))

    # Resources (created on first use, closed by close())

    @cached_property
    def client(self) -> OrdoroClient:
        """The process's one Ordoro API client, shared by every sink and thread (in a dry run,
        one that plans its writes instead of sending them)."""
        options = {"max_in_flight": self.max_workers, **self._client_options}
        if self.dry_run:
            client = DryRunClient.from_config(self.config, **options)
            return client.start_plan(self.plan)
        return OrdoroClient.from_config(self.config, **options)

    @cached_property
    def plan(self) -> PlanFile:
        """The plan of a dry run (``plan_path``)."""
        return PlanFile(self.config.get("plan_path") or DEFAULT_PLAN_PATH)

    @cached_property
    def dead_letters(self) -> DeadLetterFile:
        """The dead-letter file."""
        return DeadLetterFile(self.config.get("dead_letter_path") or DEFAULT_DEAD_LETTER_PATH)

    @cached_property
    def order_map(self) -> OrderMapFile:
        """The order map file (a report: the target never reads it)."""
        return OrderMapFile(self.config.get("order_map_path") or DEFAULT_ORDER_MAP_PATH)

    @cached_property
    def settings(self) -> WriteSettings:
        """The settings that shape what is written."""
        return WriteSettings(
            sales_channel_id=self.config.get("sales_channel_id"),
            warehouse_id=self.config.get("warehouse_id"),
            notify=bool(self.config.get("notify", False)),
            remove_order_tags=bool(self.config.get("remove_order_tags", False)),
            update_order_lines=bool(self.config.get("update_order_lines", False)),
            max_workers=self.max_workers,
        )

    @cached_property
    def lookups(self) -> Lookups:
        """What the writers share: order numbering, the product reader, the order tags."""
        numbering = OrderNumbering(self.client, self.config.get("sales_channel_id"))
        return Lookups(
            numbering=numbering,
            products=ProductReader(self.client, self.max_workers),
            tags=TagCatalog(self.client),
            orders=OrderLocator(self.client, numbering),
        )

    def writer_for(self, stream: str) -> Writer:
        """The one writer of a canonical stream."""
        with self._writers_lock:
            if stream not in self._writers:
                self._writers[stream] = WRITER_TYPES[stream](
                    self.client, self.settings, self.lookups
                )
            return self._writers[stream]

    def close(self) -> None:
        """Close the API client's connections (safe to call twice); log how many requests it
        had in flight."""
        if "client" in self.__dict__:
            self.logger.info("%s", self.client.in_flight.stats())
            self.client.close()

    def flush_reports(self) -> str | None:
        """Make the report files durable (an object-store URL is written now); what went wrong
        in one line, or None. Every report is tried, whatever the others do."""
        problems = []
        for name in ("dead_letters", "order_map", "plan"):
            report = self.__dict__.get(name)
            if report is None:
                continue
            try:
                report.close()
            except Exception as error:  # any store SDK's error: said, never swallowed
                problems.append(
                    f"could not write {report.location}: {type(error).__name__}: {error}"
                )
        return "; ".join(problems) or None

    # Meltano's loader test

    def check_connection(self, stream_name: str) -> None:
        """Check the credentials with one read (``GET /authenticated/``) and say so; raises
        ``OrdoroAuthError`` when Ordoro refuses them. Writes nothing."""
        self.client.check_credentials()
        self.report.count_checked_record(stream_name, records=0)
        self.logger.info(
            "Stream %r is Meltano's loader test: checked the connection instead of writing "
            "(%s accepted the credentials); nothing is written to Ordoro",
            stream_name,
            self.client.api_url,
        )

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
        """Whether any record is waiting for what it refers to."""
        return any(sink.deferred for sink in self._sinks)

    def provided(self, sink: OrderedSink, keys: Collection[str]) -> None:
        """``sink`` wrote what ``keys`` name: retry the deferred records waiting for them."""
        if not keys:
            return
        for other in self._ranked():
            if sink.stream in other.upstream and other.deferred:
                other.retry_ready(keys)

    def retry_deferred(self) -> None:
        """The end-of-input retry: every deferred record, what others depend on first."""
        for sink in self._ranked():
            sink.retry_deferred()

    def _ranked(self) -> list[OrderedSink]:
        return sorted(self._sinks, key=lambda s: STREAM_RANK[s.stream])

    # STATE

    def on_state(self, value: Any) -> None:
        """A STATE message arrived: give up on deferred records that waited too long, then
        emit the latest STATE whose records are all settled."""
        self.checkpoints.state(value)
        self.expire_deferred()
        self.emit_settled()

    def expire_deferred(self) -> None:
        """Last try (after draining what they depend on) for deferred records waiting too long."""
        if self._expiring:
            return
        self._expiring = True
        try:
            received, now = self.checkpoints.received, self.clock()
            for sink in self._ranked():
                keys = sink.expired_keys(received, now)
                if not keys:
                    continue
                self.logger.info(
                    "%d deferred %s record(s) waited too long: last try", len(keys), sink.stream
                )
                self.drain_upstream(sink)
                sink.retry_deferred(keys)
        finally:
            self._expiring = False

    def emit_settled(self) -> None:
        """Write the latest STATE whose every earlier record is written or dead-lettered.

        A dry run writes none: Meltano would save it, and the next real run would skip the
        records this one only planned."""
        state = self.checkpoints.emittable()
        if state is not None and not self.dry_run:
            self._emit(state)

    def fail(self, error: BaseException) -> None:
        """Log the summary of a run that is about to fail (the caller re-raises)."""
        self._fail(error)


def run_of(target: object) -> WriteRun:
    """The :class:`WriteRun` of the target a sink was created by."""
    run = getattr(target, "run", None)
    if not isinstance(run, WriteRun):
        raise TypeError(f"target-ordoro's sinks need a target with a WriteRun, got {target!r}")
    return run
