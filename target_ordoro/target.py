"""target-ordoro: the plugin class, its settings, stream routing, ordering and the summary.

Streams: ``orders``, ``products``, ``inventory`` and ``shipments`` (records as tap-ordoro emits
them, or the smaller write forms); other names through ``stream_aliases``. The tap's read-only
streams (warehouses, sales channels, ...) are skipped with a warning, so
``tap-ordoro | target-ordoro`` copies between two accounts without a catalog selection. Any
other stream name is an error when its SCHEMA arrives, unless ``unknown_streams`` is "skip".

Ordering: sinks are drained one at a time (``max_parallelism = 1``) and a dependent sink
drains the sinks it depends on first (products before inventory and orders, orders before
shipments), whatever order the streams arrive in. Records whose SKU or order is not found are
deferred and retried once after all input is read; STATE is held back while any is pending.
"""

from __future__ import annotations

import json
import sys
from functools import cached_property
from typing import TYPE_CHECKING

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities
from typing_extensions import override

from ordoro_core import catalog
from ordoro_core.client import OrdoroClient, OrdoroError, RetryPolicy
from ordoro_core.settings import CONNECTION_SETTINGS, check_credentials
from target_ordoro.dead_letter import DEFAULT_DEAD_LETTER_PATH, DeadLetterFile
from target_ordoro.errors import TargetOrdoroError, UnknownStreamError
from target_ordoro.ledger import DEFAULT_LEDGER_MAX_AGE_HOURS, DEFAULT_LEDGER_PATH, Ledger
from target_ordoro.report import DEFAULT_ORDER_MAP_PATH, OrderMapFile, RunReport
from target_ordoro.sinks import (
    SINK_TYPES,
    STREAM_RANK,
    OrdoroSink,
    SkippedStreamSink,
)
from target_ordoro.writers import WRITER_TYPES, OrderNumbering, Writer, WriteSettings

if TYPE_CHECKING:
    from pathlib import PurePath

    from singer_sdk.singerlib.encoding.base import GenericSingerReader
    from singer_sdk.sinks import Sink

#: The streams the target writes.
WRITE_STREAMS: tuple[str, ...] = catalog.WRITE_STREAM_NAMES
#: The tap's streams the target cannot write: skipped with a warning.
READ_ONLY_STREAMS: tuple[str, ...] = tuple(
    name for name in catalog.STREAM_NAMES if name not in WRITE_STREAMS
)
DEFAULT_MAX_WORKERS = 4

TARGET_SETTINGS = th.PropertiesList(
    th.Property(
        "sales_channel_id",
        th.IntegerType,
        title="Sales channel id",
        description=(
            "Ordoro cart (sales channel) id that new orders are filed under; their "
            "order_number becomes '<cart index>-<order_id>'. Absent: manual orders "
            "('M-<order_id>')."
        ),
    ),
    th.Property(
        "warehouse_id",
        th.IntegerType,
        title="Default warehouse id",
        description=(
            "Ordoro warehouse id for inventory records that name none. Absent: such records "
            "are dead-lettered."
        ),
    ),
    th.Property(
        "dead_letter_path",
        th.StringType,
        default=DEFAULT_DEAD_LETTER_PATH,
        title="Dead-letter file",
        description=(
            "JSON Lines file that records which could not be written are appended to, one line "
            "each with stream, input_stream, record, reason, at, and status/response where "
            "Ordoro answered. Its directory is created."
        ),
    ),
    th.Property(
        "notify",
        th.BooleanType,
        default=False,
        title="Notify on tracking",
        description=(
            "Whether adding tracking tells the customer (bill-to and ship-to) and the sales "
            "channel."
        ),
    ),
    th.Property(
        "stream_aliases",
        th.ObjectType(additional_properties=th.StringType(allowed_values=list(WRITE_STREAMS))),
        title="Stream aliases",
        description=(
            "Incoming stream name -> the stream it is written as (orders, products, inventory "
            'or shipments), e.g. {"stock": "inventory", "shop_orders": "orders"}, so other '
            "taps feed the target without stream maps."
        ),
    ),
    th.Property(
        "unknown_streams",
        th.StringType(allowed_values=["fail", "skip"]),
        default="fail",
        title="Unknown streams",
        description=(
            "What to do with a stream that is neither a target stream nor aliased: 'fail' "
            "(stop when its SCHEMA arrives) or 'skip' (drop its records with one warning per "
            "stream; the summary counts them). tap-ordoro's read-only streams (warehouses, "
            "sales_channels, ...) are always skipped."
        ),
    ),
    th.Property(
        "ledger_path",
        th.StringType,
        default=DEFAULT_LEDGER_PATH,
        title="Ledger file",
        description=(
            "SQLite file remembering what was written per account and key, so that a record "
            "identical to the last one written is not sent again, and which Ordoro "
            "order_number each input order became."
        ),
    ),
    th.Property(
        "ledger_max_age_hours",
        th.NumberType(minimum=0),
        default=DEFAULT_LEDGER_MAX_AGE_HOURS,
        title="Ledger max age (hours)",
        description=(
            "A record identical to what was written for its key within this many hours is "
            "skipped; older entries are ignored (Ordoro's stock moves with every sale, so an old "
            "'same on_hand' is sent again). 0 disables the ledger."
        ),
    ),
    th.Property(
        "order_map_path",
        th.StringType,
        default=DEFAULT_ORDER_MAP_PATH,
        title="Order map file",
        description=(
            "JSON Lines file with one line per input order written: order_id, the Ordoro "
            "order_number it maps to, action (created, updated, unchanged) and stream."
        ),
    ),
    th.Property(
        "max_workers",
        th.IntegerType(minimum=1),
        default=DEFAULT_MAX_WORKERS,
        title="Concurrent writes",
        description=(
            "Writes sent at the same time within a batch. requests_per_minute still caps the "
            "total request rate."
        ),
    ),
)


class TargetOrdoro(Target):
    """Singer target for Ordoro: orders, products, inventory and shipment tracking."""

    name = "target-ordoro"
    #: The distribution both plugins ship in (for --about and --version).
    package_name = "ordoro-singer"

    # No FLATTENING (order lines and addresses are nested by nature) and no VALIDATE_RECORDS
    # (the sinks validate after coercion and dead-letter instead of failing).
    capabilities = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS.wrapped.values(),
        *TARGET_SETTINGS.wrapped.values(),
    ).to_dict()

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        message_reader: GenericSingerReader | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        """Create the target.

        ``retry_policy`` overrides the API client's retry policy (Python callers and tests
        only: e.g. a short backoff); the CLI always uses the client's default.
        """
        super().__init__(
            config=config,
            parse_env_config=parse_env_config,
            validate_config=validate_config,
            setup_mapper=setup_mapper,
            message_reader=message_reader,
        )
        # One sink at a time: dependent sinks drain their upstream sinks themselves.
        self.max_parallelism = 1
        self.report = RunReport()
        self._retry_policy = retry_policy
        self._sinks: list[OrdoroSink] = []
        self._writers: dict[str, Writer] = {}
        self._emitted_state: str | None = None
        self._run_ended = False

    @override
    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)
        # An API target loads no tables and keeps no _sdc columns: these built-in settings
        # would do nothing here, so they are not offered.
        for name in ("load_method", "add_record_metadata"):
            config_jsonschema["properties"].pop(name, None)

    # Settings

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        check_credentials(self.config, required=raise_errors)  # either pair; before any request
        return errors

    @property
    def max_workers(self) -> int:
        """Concurrent writes within a batch."""
        return max(1, int(self.config.get("max_workers") or DEFAULT_MAX_WORKERS))

    @property
    def stream_aliases(self) -> dict[str, str]:
        """Incoming stream name -> canonical stream."""
        return dict(self.config.get("stream_aliases") or {})

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

    # Stream routing

    def canonical_stream(self, stream_name: str) -> str | None:
        """The stream an incoming stream is written as, or None when it is not written."""
        name = self.stream_aliases.get(stream_name, stream_name)
        return name if name in WRITE_STREAMS else None

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        canonical = self.canonical_stream(stream_name)
        if canonical is not None:
            return SINK_TYPES[canonical]
        if stream_name in READ_ONLY_STREAMS or self.config.get("unknown_streams") == "skip":
            return SkippedStreamSink
        error = UnknownStreamError(
            f"cannot write stream {stream_name!r}: target-ordoro writes "
            f"{', '.join(WRITE_STREAMS)}. Name the stream it is with the `stream_aliases` "
            f'setting (e.g. {{"{stream_name}": "inventory"}}) or set `unknown_streams` to '
            '"skip" to ignore it.'
        )
        self.end_failed_run(error)
        raise error

    def note_skipped_stream(self, stream_name: str) -> None:
        """Warn once per stream that its records are skipped."""
        if self.report.note_skipped_stream(stream_name):
            why = (
                "a tap-ordoro stream this target does not write"
                if stream_name in READ_ONLY_STREAMS
                else "not a target stream (unknown_streams: skip)"
            )
            self.logger.warning("Skipping stream %r: %s", stream_name, why)

    # Ordering

    def register_sink(self, sink: OrdoroSink) -> None:
        """Called by each sink when it is set up."""
        self._sinks.append(sink)

    def drain_upstream(self, sink: OrdoroSink) -> None:
        """Drain the sinks whose records ``sink`` depends on (products before inventory...)."""
        for other in list(self._sinks):
            if other.stream in sink.upstream:
                self.drain_one(other)

    def has_deferred(self) -> bool:
        """Whether any record is waiting for the end-of-input retry."""
        return any(sink.deferred for sink in self._sinks)

    @override
    def process_endofpipe(self) -> None:
        try:
            self.drain_all()
            for sink in sorted(self._sinks, key=lambda s: STREAM_RANK[s.stream]):
                sink.retry_deferred()
            self.drain_all(is_endofpipe=True)
        except Exception as error:
            self.end_failed_run(error)
            raise
        self._end_run("succeeded")

    @override
    def _write_state_message(self, state: dict) -> None:
        # STATE says "everything before me is written". While a deferred record waits for its
        # retry that is not true yet, so STATE is held back and emitted after the retry (the
        # end-of-input drain emits the latest STATE). Repeats of the last STATE are dropped.
        if self.has_deferred():
            self.logger.debug("Holding STATE back until deferred records are retried")
            return
        text = json.dumps(state, sort_keys=True)
        if text == self._emitted_state:
            return
        self._emitted_state = text
        super()._write_state_message(state)

    # Summary

    def end_failed_run(self, error: BaseException) -> None:
        """Log the summary of a run that is about to fail, and release resources."""
        self._end_run("failed", error=str(error) or type(error).__name__)

    def _end_run(self, status: str, error: str | None = None) -> None:
        if self._run_ended:
            return
        self._run_ended = True
        try:
            summary = self.report.summary(
                status=status,
                dead_letter_path=self.dead_letters.path.resolve(),
                order_map_path=self.order_map.path.resolve(),
                error=error,
            )
            self.logger.info(
                "target-ordoro summary (%s):\n%s\nDead-letter file: %s (%d record(s))",
                status,
                self.report.table(),
                summary["dead_letter_path"],
                summary["dead_lettered"],
            )
            sys.stderr.write(json.dumps(summary) + "\n")
            sys.stderr.flush()
        finally:
            self.close()


def main() -> None:
    """Console entry point: the SDK's CLI, with run-ending errors reported in one line."""
    try:
        TargetOrdoro.cli.main(prog_name=TargetOrdoro.name)
    except (OrdoroError, TargetOrdoroError) as error:
        sys.stderr.write(f"{TargetOrdoro.name}: {error}\n")
        sys.exit(1)
