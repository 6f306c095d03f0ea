"""One sink per stream. Sinks orchestrate; writers (``target_ordoro.writers``) do the I/O.

Each writing sink names the stream it writes by its catalog declaration
(``ordoro_core.catalog.STREAMS``) and shares the run's state through
:class:`target_ordoro.run.WriteRun` (never the target class itself).

For every record a sink coerces friendly values, validates, asks its writer for the write plan
and keeps the last record per key of the batch; what is invalid goes to the dead-letter file
with a reason and the run goes on. To drain a batch, a dependent sink (inventory, orders,
shipments) first drains the sinks it depends on (products before inventory and orders, orders
before shipments), asks its writer what Ordoro holds for the batch (one read for all of it),
then writes its keys concurrently (``max_workers``).

A record whose SKU or order is not in Ordoro is *deferred*, not dead-lettered: the products or
orders it needs may still be further down the input. It is retried as soon as an upstream sink
writes what it needs, and given up on after the bounds of :mod:`target_ordoro.run`, or at the
end of the input: only then is it dead-lettered.

Every record is numbered as it arrives (:class:`target_ordoro.checkpoints.Checkpoints`) and
settled once written, found unchanged, superseded or dead-lettered, so that each STATE message
is emitted as soon as the records before it are settled.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.sinks import BatchSink
from typing_extensions import override

from ordoro_core import catalog
from ordoro_core.catalog import StreamSpec
from target_ordoro.dead_letter import log_dead_letter, short_reason
from target_ordoro.run import WriteRun, run_of
from target_ordoro.validation import RecordChecker, coerce_record, shape_problem
from target_ordoro.writers import Outcome, RecordInvalid, WritePlan, WriteResult

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from singer_sdk import Target

#: The singer-sdk versions the private overrides below were checked against (see
#: tests/target_ordoro/test_target_sdk_contract.py, which fails when an upgrade breaks them).
SDK_VERSIONS_CHECKED = ">=0.54.9,<0.55"


@dataclass
class PendingWrite:
    """A record waiting to be written: as received (for the dead-letter file), planned, and
    numbered (its place in the input, see :class:`target_ordoro.checkpoints.Checkpoints`)."""

    received: Any
    plan: WritePlan
    seq: int
    #: Set once the record was deferred: what it waits for, since when (records, clock).
    needs: str | None = None
    deferred_at_record: int = 0
    deferred_at: float = 0.0
    #: Whether the record was deferred at least once (counted deferred_then_written).
    was_deferred: bool = False


class _UnvalidatedSink(BatchSink):
    """A sink that leaves validation to this target instead of the SDK."""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        self.run: WriteRun = run_of(target)
        super().__init__(target, stream_name, schema, key_properties)

    @override
    def get_validator(self) -> None:
        # Public hook: records are validated by the sink after friendly coercion ("12" -> 12),
        # and an invalid record is dead-lettered; the SDK's validator would end the run instead.
        return None

    @override
    def _validate_and_parse(self, record: dict) -> dict:
        # Private override, kept: besides validating (turned off through the public
        # get_validator above), the SDK's version replaces the date-time strings of the SCHEMA's
        # date-time properties by datetime objects, which neither Ordoro request bodies nor
        # dead-letter lines could keep as received ("…Z" would come back "…+00:00"). No public
        # hook turns that parsing off (preprocess_record runs after it; datetime_error_treatment
        # only chooses what happens to unparseable values). Records are kept exactly as they
        # arrive. Checked against singer-sdk SDK_VERSIONS_CHECKED; the SDK contract test fails
        # when Target._process_record_message stops calling it.
        return record

    @override
    def _singer_validate_message(self, record: dict) -> None:
        # Private override, kept: a record without its key properties (e.g. no SKU) is
        # dead-lettered with a reason by the sink's own validation; the SDK raises
        # MissingKeyPropertiesError and ends the run. The public alternative, a sink without
        # key properties, would break Target.get_sink, which compares a repeated SCHEMA's
        # key_properties with the sink's and replaces the sink (and its waiting records) when
        # they differ. Checked against singer-sdk SDK_VERSIONS_CHECKED (see the SDK contract
        # test).
        return


class SkippedStreamSink(_UnvalidatedSink):
    """Counts and drops the records of a stream the target does not write."""

    #: Whether the stream is one of tap-ordoro's read-only streams (else: unknown, skipped).
    read_only = False

    @override
    def setup(self) -> None:
        super().setup()
        self.run.note_skipped_stream(self.stream_name, read_only=self.read_only)

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.run.report.count_skipped_record(self.stream_name)

    @override
    def process_batch(self, context: dict) -> None:
        return


class OrdoroSink(_UnvalidatedSink):
    """Base sink: validate, order, defer, dead-letter; the stream's writer does the Ordoro I/O."""

    #: The catalog's declaration of the stream written.
    spec: ClassVar[StreamSpec]
    #: The canonical stream written (orders, products, inventory or shipments): spec.name.
    stream: ClassVar[str]
    #: The canonical streams whose sinks are drained before this one writes.
    upstream: ClassVar[tuple[str, ...]] = ()
    #: Records per batch unless ``batch_size_rows`` says otherwise.
    MAX_SIZE_DEFAULT = 1000

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.writer = self.run.writer_for(self.stream)
        self.checker = RecordChecker(self.stream)
        self.counts = self.run.report.counts(self.stream)
        #: Records whose SKU/order was not found, by key, waiting to be retried.
        self.deferred: dict[str, PendingWrite] = {}

    @override
    def setup(self) -> None:
        super().setup()
        self.run.register_sink(self)

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.counts.received += 1
        # Not an object, or nested too deeply for the recursive steps below: dead-lettered as is.
        problem = shape_problem(record)
        if problem is None:
            coerced = coerce_record(self.stream, record)
            problem = self.checker.problem(coerced)
        if problem is None:
            try:
                plan = self.writer.plan(coerced)
            except RecordInvalid as invalid:
                problem = invalid.reason
        if problem is not None:
            self.run.checkpoints.receive(open_=False)
            self.dead_letter(record, problem, key=self._record_key(record))
            return
        seq = self.run.checkpoints.receive(open_=True)
        batch: dict[str, PendingWrite] = context.setdefault("writes", {})
        replaced = batch.pop(plan.key, None)
        if replaced is not None:
            self.counts.superseded += 1
            self.tally_duplicate_merged()
            self.run.checkpoints.settle(replaced.seq)
        waiting = self.deferred.pop(plan.key, None)
        if waiting is not None:
            self.counts.superseded += 1
            self.counts.deferred -= 1
            self.run.checkpoints.settle(waiting.seq)
        batch[plan.key] = PendingWrite(record, plan, seq)

    @override
    def process_batch(self, context: dict) -> None:
        writes = list(context.get("writes", {}).values())
        if not writes:
            return
        try:
            self.run.drain_upstream(self)
            self._write(writes, final=False)
        except Exception as error:
            # Transient failures that outlasted retries, refused credentials, bad settings:
            # the run ends here; log its summary first.
            self.run.fail(error)
            raise
        self.run.emit_settled()

    # Deferred records

    def retry_ready(self, provided: Collection[str]) -> None:
        """Retry the deferred records waiting for something in ``provided``."""
        ready = [write for write in self.deferred.values() if write.needs in provided]
        if not ready:
            return
        for write in ready:
            del self.deferred[write.plan.key]
            self.counts.deferred -= 1
        self.logger.info("Retrying %d deferred %s record(s)", len(ready), self.stream)
        self._write(ready, final=False)

    def expired_keys(self, received: int, now: float) -> list[str]:
        """The keys of deferred records that waited too many records or seconds."""
        max_records, max_seconds = self.run.deferral_max_records, self.run.deferral_max_seconds
        return [
            key
            for key, write in self.deferred.items()
            if received - write.deferred_at_record >= max_records
            or now - write.deferred_at >= max_seconds
        ]

    def retry_deferred(self, keys: Collection[str] | None = None) -> None:
        """Last try for deferred records (all, or those of ``keys``); dead-letter the rest."""
        chosen = list(self.deferred) if keys is None else [k for k in keys if k in self.deferred]
        writes = [self.deferred.pop(key) for key in chosen]
        if not writes:
            return
        self.counts.deferred -= len(writes)
        self.logger.info("Last try for %d deferred %s record(s)", len(writes), self.stream)
        self._write(writes, final=True)

    # Results

    def dead_letter(
        self,
        record: Any,
        reason: str,
        status: int | None = None,
        response: Any = None,
        *,
        key: str | None = None,
    ) -> None:
        """Send one record to the dead-letter file, say so in one structured log line, and
        count it."""
        reason = short_reason(reason)
        self.counts.dead_lettered += 1
        if self.run.dry_run:
            self.run.plan.dead_letter(self.stream, key, reason)
        else:
            self.run.dead_letters.write(
                stream=self.stream,
                input_stream=self.stream_name,
                record=record,
                reason=reason,
                status=status,
                response=response,
            )
        log_dead_letter(self.logger, self.stream, self.stream_name, key, reason, status)

    def _record_key(self, record: Any) -> str | None:
        """The key of a record refused before it was planned: its key properties' values."""
        if not isinstance(record, dict):
            return None
        values = [record.get(name) for name in self.spec.key_properties]
        if all(value is None for value in values):
            return None
        return json.dumps(values[0] if len(values) == 1 else values, default=str)[:200]

    def on_written(self, write: PendingWrite, result: WriteResult) -> None:
        """Hook after a record was written or found unchanged (nothing by default)."""

    def _write(self, writes: list[PendingWrite], *, final: bool) -> None:
        """Read what Ordoro holds, write concurrently, then account for every result.

        A fatal error (transient failures outlasting retries, refused credentials) is
        re-raised once the results before it are accounted for.
        """
        current = self.writer.read_current([write.plan for write in writes])
        results, fatal = self._run_writes(writes, current)
        provided: set[str] = set()
        for write, result in results:
            self._account(write, result, final=final)
            provided.update(result.provides)
        self._bound_deferred()
        if fatal is not None:
            raise fatal
        self.run.provided(self, provided)

    def _run_writes(
        self, writes: list[PendingWrite], current: Any
    ) -> tuple[list[tuple[PendingWrite, WriteResult]], BaseException | None]:
        """Results in input order, and the first error that must end the run (if any).

        After such an error no further write starts; those already running finish.
        """
        workers = min(self.run.max_workers, len(writes))
        if workers <= 1:
            done = []
            for write in writes:
                try:
                    done.append((write, self.writer.write(write.plan, current)))
                except Exception as error:
                    return done, error
            return done, None
        fatal: BaseException | None = None
        done = []
        with ThreadPoolExecutor(workers, thread_name_prefix=f"ordoro-{self.stream}") as pool:
            futures: list[tuple[PendingWrite, Future[WriteResult]]] = [
                (write, pool.submit(self.writer.write, write.plan, current)) for write in writes
            ]
            for write, future in futures:
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    done.append((write, future.result()))
                    continue
                if fatal is None:
                    fatal = error
                    for _, other in futures:
                        other.cancel()
        return done, fatal

    def _account(self, write: PendingWrite, result: WriteResult, *, final: bool) -> None:
        """Count one result; settle the record unless it is deferred."""
        if result.outcome is Outcome.NOT_FOUND and not final:
            if not write.was_deferred:
                self.logger.info(
                    "Deferred %s: %s; retried when it is written or the input ends",
                    write.plan.label,
                    result.reason,
                )
            write.was_deferred = True
            write.needs = result.needs
            write.deferred_at_record = self.run.checkpoints.received
            write.deferred_at = self.run.clock()
            self.deferred[write.plan.key] = write
            self.counts.deferred += 1
            return
        if result.outcome is Outcome.WRITTEN:
            if write.was_deferred:
                self.counts.deferred_then_written += 1
            else:
                self.counts.written += 1
            self.counts.note_action(result.action)
            self.on_written(write, result)
        elif result.outcome is Outcome.UNCHANGED:
            self.counts.unchanged += 1
            self.on_written(write, result)
        else:
            self.counts.note_action(result.action)
            self.dead_letter(
                write.received,
                result.reason or "rejected",
                result.status,
                result.response,
                key=write.plan.key,
            )
        self.run.checkpoints.settle(write.seq)

    def _bound_deferred(self) -> None:
        """At most ``deferral_max_records`` records wait: the oldest beyond get a last try."""
        excess = len(self.deferred) - self.run.deferral_max_records
        if excess > 0:
            oldest = sorted(self.deferred.values(), key=lambda w: w.deferred_at_record)
            keys = [write.plan.key for write in oldest[:excess]]
            writes = [self.deferred.pop(key) for key in keys]
            self.counts.deferred -= len(writes)
            self._write(writes, final=True)


class ProductsSink(OrdoroSink):
    """Products: created or updated by SKU."""

    spec = catalog.STREAMS["products"]
    stream = spec.name


class InventorySink(OrdoroSink):
    """On-hand stock per SKU and warehouse; written after the products of the same run."""

    spec = catalog.STREAMS["inventory"]
    stream = spec.name
    upstream = ("products",)


class OrdersSink(OrdoroSink):
    """Orders: created once; written after the products of the same run.

    Reports the Ordoro order_number of every input order (a log line and the order map file).
    """

    spec = catalog.STREAMS["orders"]
    stream = spec.name
    upstream = ("products",)
    #: Whether the log has said once what a record with both order_number and order_id means.
    _told_both_ids = False

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if (
            not self._told_both_ids
            and isinstance(record, dict)
            and record.get("order_number") not in (None, "")
            and record.get("order_id") not in (None, "")
        ):
            self._told_both_ids = True
            self.logger.warning(
                "Records of stream %r carry both order_number and order_id: order_number names "
                "the order (it becomes the Ordoro order's order_id, e.g. %r -> 'M-%s'); "
                "order_id is not sent to Ordoro (it keeps one order_id per order) and is "
                "reported in the order map as record_order_id. To name orders by order_id "
                'instead, drop order_number with a stream map: {"%s": {"order_number": '
                '"__NULL__"}}',
                self.stream_name,
                record["order_number"],
                record["order_number"],
                self.stream_name,
            )
        super().process_record(record, context)

    @override
    def on_written(self, write: PendingWrite, result: WriteResult) -> None:
        details = write.plan.details
        source = details.get("order_number")
        self.logger.info(
            "Order %s -> %s (%s)%s",
            source or details["order_id"],
            result.order_number,
            result.action,
            " (dry run: planned)" if self.run.dry_run else "",
        )
        if self.run.dry_run:
            return
        self.run.order_map.write(
            order_id=details["order_id"],
            order_number=result.order_number,
            action=result.action or "unchanged",
            stream=self.stream_name,
            source_order_number=source,
            record_order_id=details.get("record_order_id"),
            changes=result.changes,
        )


class ShipmentsSink(OrdoroSink):
    """Tracking added to orders; written after the orders of the same run."""

    spec = catalog.STREAMS["shipments"]
    stream = spec.name
    upstream = ("orders",)


class ReadOnlyStreamSink(SkippedStreamSink):
    """Counts and drops the records of one of tap-ordoro's read-only streams."""

    read_only = True


SINK_TYPES: dict[str, type[OrdoroSink]] = {
    sink.stream: sink for sink in (ProductsSink, OrdersSink, InventorySink, ShipmentsSink)
}
