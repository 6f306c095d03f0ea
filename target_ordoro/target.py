"""target-ordoro: the plugin class, its settings, stream routing, ordering and the summary.

Streams: ``orders``, ``products``, ``inventory`` and ``shipments`` (records as tap-ordoro emits
them, or the smaller write forms); other names through ``stream_aliases``. The tap's read-only
streams (warehouses, sales channels, ...) are skipped with a warning, so
``tap-ordoro | target-ordoro`` copies between two accounts without a catalog selection. Any
other stream name is an error when its SCHEMA arrives, unless ``unknown_streams`` is "skip".

Ordering: sinks are drained one at a time (``max_parallelism = 1``) and a dependent sink
drains the sinks it depends on first (products before inventory and orders, orders before
shipments), whatever order the streams arrive in. Records whose SKU or order is not found are
deferred: retried as soon as what they need is written, given up on within the deferral bounds
(see ``target_ordoro.run``). Each STATE is emitted as soon as every record before it is written
or dead-lettered, during the run as well as at its end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper import RemoveRecordTransform
from typing_extensions import override

from ordoro_core import catalog
from ordoro_core.collector import space_full_collections
from ordoro_core.errors import OrdoroError
from ordoro_core.retries import RetryPolicy
from ordoro_core.settings import CONNECTION_SETTINGS, ChecksCredentials
from target_ordoro.connection_check import MELTANO_TEST_STREAM, ConnectionCheckSink
from target_ordoro.dead_letter import DEFAULT_DEAD_LETTER_PATH
from target_ordoro.errors import SettingsError, TargetOrdoroError, UnknownStreamError
from target_ordoro.object_store import check_location
from target_ordoro.plan import DEFAULT_PLAN_PATH
from target_ordoro.reading import InputReader
from target_ordoro.report import DEFAULT_ORDER_MAP_PATH
from target_ordoro.run import (
    DEFAULT_DEFERRAL_MAX_RECORDS,
    DEFAULT_DEFERRAL_MAX_SECONDS,
    DEFAULT_MAX_WORKERS,
    WriteRun,
)
from target_ordoro.sinks import SINK_TYPES, ReadOnlyStreamSink, SkippedStreamSink

if TYPE_CHECKING:
    from pathlib import PurePath

    from singer_sdk.singerlib.encoding.base import GenericSingerReader
    from singer_sdk.sinks import Sink

#: The streams the target writes.
WRITE_STREAMS: tuple[str, ...] = catalog.WRITE_STREAM_NAMES
#: The tap's streams the target cannot write: skipped with a warning.
READ_ONLY_STREAMS: tuple[str, ...] = tuple(
    name for name, spec in catalog.STREAMS.items() if not spec.is_writable
)

#: Settings of earlier versions, still accepted (with a warning) so that old configs run.
REMOVED_SETTINGS = ("ledger_path", "ledger_max_age_hours")

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
            "Ordoro answered. Its directory is created. Or an s3:// gs:// az:// URL (the s3, gcs "
            "or azure extra): written at the end of the run. Each dead letter is also one log "
            "line (stream, key, reason)."
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
        "remove_order_tags",
        th.BooleanType,
        default=False,
        title="Remove order tags",
        description=(
            "Whether tags an existing order has and its record no longer carries are removed "
            "from it. Off: tags are only added (other integrations tag orders too)."
        ),
    ),
    th.Property(
        "update_order_lines",
        th.BooleanType,
        default=False,
        title="Update order lines",
        description=(
            "Whether line changes (quantities, SKUs added or removed) are applied to an existing "
            "order that has not shipped. Off: such a record is dead-lettered with the changes "
            "(its other changes are applied), since changing lines under allocation is risky."
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
        "order_map_path",
        th.StringType,
        default=DEFAULT_ORDER_MAP_PATH,
        title="Order map file",
        description=(
            "JSON Lines file with one line per input order written: order_id, the Ordoro "
            "order_number it maps to, action (created, updated, unchanged, ...) and stream. A "
            "report only: the target finds orders again through Ordoro, never through it. Or an "
            "s3:// gs:// az:// URL (the s3, gcs or azure extra)."
        ),
    ),
    th.Property(
        "deferral_max_records",
        th.IntegerType(minimum=0),
        default=DEFAULT_DEFERRAL_MAX_RECORDS,
        title="Deferral bound (records)",
        description=(
            "A record whose SKU or order is not in Ordoro yet waits for it (it may come later "
            "in the input) for at most this many further records, and at most this many "
            "records wait at once; then it gets a last try and is dead-lettered. A waiting "
            "record holds back the STATE messages after it."
        ),
    ),
    th.Property(
        "deferral_max_seconds",
        th.NumberType(minimum=0),
        default=DEFAULT_DEFERRAL_MAX_SECONDS,
        title="Deferral bound (seconds)",
        description=(
            "A record whose SKU or order is not in Ordoro yet waits for it at most this long "
            "(checked at each STATE message); then it gets a last try and is dead-lettered."
        ),
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        title="Dry run",
        description=(
            "Read what the run needs from Ordoro and send no write request; emit no STATE "
            "(Meltano would save it and the next real run would skip these records). Every "
            "write the run would make is one JSON line in plan_path (stream, key, action, "
            "changes, method, path); the summary counts them per action with the requests a "
            "real run would send."
        ),
    ),
    th.Property(
        "plan_path",
        th.StringType,
        default=DEFAULT_PLAN_PATH,
        title="Plan file",
        description=(
            "JSON Lines file a dry run writes its plan to, one line per write (appended; its "
            "directory is created), or an s3:// gs:// az:// URL (the s3, gcs or azure extra)."
        ),
    ),
    th.Property(
        "max_workers",
        th.IntegerType(minimum=1),
        default=DEFAULT_MAX_WORKERS,
        title="Concurrent writes",
        description=(
            "Ceiling on requests in flight at once (writes within a batch, catalog pages). "
            "Below it the number follows the latency (Little's law): the pace times the median "
            "answer time, plus a quarter and one; it halves at once on a 429 or a server error "
            "and shrinks when answers slow down. requests_per_minute still holds the even "
            "pace. 1: one request at a time."
        ),
    ),
)


class TargetOrdoro(ChecksCredentials, Target):
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

    #: singer-sdk's reader, surviving a RECORD line nested too deeply to parse.
    message_reader_class = InputReader

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
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Create the target.

        ``client_options`` are passed to the API client (``OrdoroClient``: ``retry``,
        ``timeout``, ``rate_window_seconds``), and ``retry_policy`` is short for
        ``client_options={"retry": ...}``: for Python callers, tests and benchmarks (e.g. a
        short backoff). The CLI always uses the client's defaults.
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
        #: What the sinks share: resources, counts, dead letters, writers, ordering.
        self.run = WriteRun(
            self.config,
            logger=self.logger,
            drain=self.drain_one,
            fail=self.end_failed_run,
            emit=self._emit_state,
            client_options={
                **(client_options or {}),
                **({"retry": retry_policy} if retry_policy is not None else {}),
            },
        )
        self._run_ended = False
        for setting in ("dead_letter_path", "order_map_path", "plan_path"):
            if isinstance(self.config.get(setting), str):
                check_location(setting, self.config[setting])
        for name in REMOVED_SETTINGS:
            if name in self.config:
                self.logger.warning(
                    "Setting %r is no longer used and is ignored: target-ordoro judges every "
                    "record against what Ordoro holds, with no local ledger.",
                    name,
                )

    @override
    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)
        # An API target loads no tables and keeps no _sdc columns: these built-in settings
        # would do nothing here, so they are not offered.
        for name in ("load_method", "add_record_metadata"):
            config_jsonschema["properties"].pop(name, None)

    # Settings

    @property
    def stream_aliases(self) -> dict[str, str]:
        """Incoming stream name -> canonical stream."""
        return dict(self.config.get("stream_aliases") or {})

    def close(self) -> None:
        """Close the API client's connections (safe to call twice)."""
        self.run.close()

    # Stream routing

    def canonical_stream(self, stream_name: str) -> str | None:
        """The stream an incoming stream is written as, or None when it is not written."""
        name = self.stream_aliases.get(stream_name, stream_name)
        return name if name in WRITE_STREAMS else None

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        if stream_name == MELTANO_TEST_STREAM:
            return ConnectionCheckSink
        canonical = self.canonical_stream(stream_name)
        if canonical is not None:
            return SINK_TYPES[canonical]
        if stream_name in READ_ONLY_STREAMS:
            return ReadOnlyStreamSink
        if self.config.get("unknown_streams") == "skip":
            return SkippedStreamSink
        error = UnknownStreamError(
            f"cannot write stream {stream_name!r}: target-ordoro writes "
            f"{', '.join(WRITE_STREAMS)}. Name the stream it is with the `stream_aliases` "
            f'setting (e.g. {{"{stream_name}": "inventory"}}) or set `unknown_streams` to '
            '"skip" to ignore it.'
        )
        self.end_failed_run(error)
        raise error

    # Ordering

    def has_deferred(self) -> bool:
        """Whether any record is waiting for the end-of-input retry."""
        return self.run.has_deferred()

    @override
    def process_endofpipe(self) -> None:
        try:
            self.drain_all()
            self.run.retry_deferred()
            self.drain_all(is_endofpipe=True)
        except Exception as error:
            self.end_failed_run(error)
            raise
        self._end_run("succeeded")

    @override
    def _process_record_message(self, message_dict: dict) -> None:
        # Private override, kept: a RECORD whose "record" is not a JSON object (a list, a
        # string, null) must be dead-lettered like any invalid record, but the SDK's handling
        # treats it as a dict before any public hook sees it (Sink._remove_sdc_metadata_from_
        # record / _add_sdc_metadata_to_record call .pop() or set keys on it: a TypeError ends
        # the run; a stream map's transform would fail the same way). Target.get_sink(record=)
        # is the only public point before that, and it cannot stop the SDK from going on. So
        # such a record goes straight to its sink's process_record (which dead-letters it with
        # "record: ... is not a JSON object"); every object takes the SDK's path unchanged.
        # Checked against singer-sdk >=0.54.9,<0.55; tests/target_ordoro/test_target_sdk_
        # contract.py fails when an upgrade stops routing RECORD messages through it.
        record = message_dict.get("record")
        if "record" not in message_dict or isinstance(record, dict):
            super()._process_record_message(message_dict)
            return
        self._assert_line_requires(message_dict, requires={"stream", "record"})
        stream_name = message_dict["stream"]
        if stream_name not in self.mapper.stream_maps:
            self._assert_sink_exists(stream_name)
        # Stream maps cannot be applied to it; it goes to the sink of the stream's first map
        # that keeps records (a stream the maps drop entirely drops it too, as it would any of
        # its records).
        for stream_map in self.mapper.stream_maps[stream_name]:
            if isinstance(stream_map, RemoveRecordTransform):
                continue
            self._assert_sink_exists(stream_map.stream_alias)
            sink = self.get_sink(stream_map.stream_alias, record=None)
            sink.tally_record_read()
            sink.process_record(record, {})  # type: ignore[arg-type]
            sink.record_counter_metric.increment()
            return

    @override
    def _process_state_message(self, message_dict: dict) -> None:
        # Private override, kept: the SDK has no public hook for STATE arrival. A STATE says
        # "everything before me is done", so the run notes how many records came before it and
        # emits it as soon as they are all written or dead-lettered (run.on_state). The SDK's
        # own handling (checks; latest state, emitted at each drain_all) is kept. Checked
        # against singer-sdk >=0.54.9,<0.55; tests/target_ordoro/test_target_sdk_contract.py
        # fails when an upgrade stops routing STATE messages through it.
        super()._process_state_message(message_dict)
        try:
            self.run.on_state(message_dict["value"])
        except Exception as error:
            # Giving up on deferred records writes (their last try) and may fail for good.
            self.end_failed_run(error)
            raise

    @override
    def _write_state_message(self, state: dict) -> None:
        # Private override, kept: drain_all (final in the SDK, no public hook) calls this with
        # the latest STATE received, which may follow records still deferred. What is written
        # instead is the latest STATE whose records are all settled (none while the records
        # before every STATE still wait), each once. Checked against singer-sdk >=0.54.9,<0.55
        # (see the SDK contract test).
        _ = state
        self.run.emit_settled()

    def _emit_state(self, state: dict) -> None:
        """Write one STATE message (the SDK's own writer)."""
        super()._write_state_message(state)

    # Summary

    def end_failed_run(self, error: BaseException) -> None:
        """Log the summary of a run that is about to fail, and release resources."""
        self._end_run("failed", error=str(error) or type(error).__name__)

    def _end_run(self, status: str, error: str | None = None) -> None:
        if self._run_ended:
            return
        self._run_ended = True
        unwritten = self.run.flush_reports()
        if unwritten is not None:
            self.logger.error("Report files: %s", unwritten)
            if status == "succeeded":
                status, error = "failed", unwritten
        try:
            report = self.run.report
            summary = report.summary(
                status=status,
                dead_letter_path=self.run.dead_letters.location,
                order_map_path=self.run.order_map.location,
                error=error,
            )
            if self.run.dry_run:
                summary["dry_run"] = True
                summary["plan_path"] = self.run.plan.location
                summary["plan"] = self.run.plan.counts.summary()
                self.logger.info(
                    "Dry run: nothing was written to Ordoro and no STATE was emitted. Plan: %s "
                    "(%s); a real run would send %d request(s)",
                    summary["plan_path"],
                    ", ".join(f"{a} {n}" for a, n in summary["plan"]["actions"].items())
                    or "no write",
                    summary["plan"]["requests"]["total"],
                )
            self.logger.info(
                "target-ordoro summary (%s):\n%s\nDead-letter file: %s (%d record(s))",
                status,
                report.table(),
                summary["dead_letter_path"],
                summary["dead_lettered"],
            )
            sys.stderr.write(json.dumps(summary) + "\n")
            sys.stderr.flush()
        finally:
            self.close()
        if unwritten is not None and error == unwritten:
            raise SettingsError(unwritten)


def main() -> None:
    """Console entry point: the SDK's CLI, with run-ending errors reported in one line."""
    space_full_collections()
    try:
        TargetOrdoro.cli.main(prog_name=TargetOrdoro.name)
    except (OrdoroError, TargetOrdoroError) as error:
        sys.stderr.write(f"{TargetOrdoro.name}: {error}\n")
        sys.exit(1)
