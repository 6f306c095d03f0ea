"""tap-ordoro: the plugin class and its settings."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from ordoro_core.catalog import STREAMS
from ordoro_core.client import OrdoroClient
from ordoro_core.collector import skip_exit_collection, space_full_collections
from ordoro_core.errors import OrdoroError
from ordoro_core.inflight import DEFAULT_MAX_IN_FLIGHT
from ordoro_core.settings import CONNECTION_SETTINGS, ChecksCredentials
from ordoro_core.timestamps import AccountZone
from tap_ordoro.client import OrdoroStream, SyncSettings
from tap_ordoro.connection_test import sync_first_records
from tap_ordoro.order_activity import OrderActivity
from tap_ordoro.output import BufferedMsgspecWriter
from tap_ordoro.streams import STREAM_CLASSES

#: Default of ``lookback_seconds``: rows that commit up to five minutes late are still read.
DEFAULT_LOOKBACK_SECONDS = 300
#: Default of ``max_parallel_requests``, the ceiling on requests in flight: at 600 requests a
#: minute enough for answers of up to about 2.4 s (see ordoro_core.inflight).
DEFAULT_PARALLEL_REQUESTS = DEFAULT_MAX_IN_FLIGHT
#: Default of ``inventory_refresh_hours``.
DEFAULT_INVENTORY_REFRESH_HOURS = 24.0


class TapOrdoro(ChecksCredentials, Tap):
    """Singer tap for Ordoro: orders, shipments, products, inventory and reference data."""

    name = "tap-ordoro"
    #: The distribution both plugins ship in (for --about and --version).
    package_name = "ordoro-singer"
    message_writer_class = BufferedMsgspecWriter

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS.wrapped.values(),
        th.Property(
            "start_date",
            th.DateTimeType,
            description=(
                "ISO 8601 timestamp (e.g. 2024-01-01T00:00:00Z) where incremental streams "
                "start when they have no bookmark yet. Absent: the whole history."
            ),
        ),
        th.Property(
            "warehouse_id",
            th.IntegerType,
            description=(
                "Only products and inventory of this Ordoro warehouse id. Absent: every warehouse."
            ),
        ),
        th.Property(
            "lookback_seconds",
            th.IntegerType(minimum=0),
            default=DEFAULT_LOOKBACK_SECONDS,
            description=(
                "An incremental sync re-reads records updated this many seconds before its "
                "bookmark: rows become visible when their transaction commits, which can be "
                "after the time they carry. Re-reads already emitted (remembered in the STATE) "
                "are dropped. 0 turns it off."
            ),
        ),
        th.Property(
            "max_parallel_requests",
            th.IntegerType(minimum=1),
            default=DEFAULT_PARALLEL_REQUESTS,
            description=(
                "Ceiling on requests in flight at once. Below it the number follows the "
                "latency (Little's law): the pace times the median answer time, plus a quarter "
                "and one; it halves at once on a 429 or a server error and shrinks when answers "
                "slow down. requests_per_minute still holds the even pace. 1: one request at a "
                "time."
            ),
        ),
        th.Property(
            "inventory_refresh_hours",
            th.NumberType(minimum=0),
            default=DEFAULT_INVENTORY_REFRESH_HOURS,
            description=(
                "Every this many hours the inventory stream reads the whole catalog, which "
                "catches stock that moved without an order (receipts, restocked returns, "
                "counts). 0: only the first sync does."
            ),
        ),
    ).to_dict()

    def __init__(
        self, *args: Any, client_options: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """Create the tap.

        ``client_options`` are passed to the API client (``OrdoroClient``: ``retry``,
        ``timeout``, ``rate_window_seconds``): for Python callers, tests and benchmarks. The
        CLI always uses the client's defaults.
        """
        self._client_options = dict(client_options or {})
        super().__init__(*args, **kwargs)
        #: The SKUs on the orders read in this run (see tap_ordoro.order_activity).
        self.order_activity = OrderActivity()
        #: The account's time zone as its records show it (filter values are written with it).
        self.account_zone = AccountZone()

    @cached_property
    def client(self) -> OrdoroClient:
        """The process's one Ordoro API client, shared by every stream."""
        options = {"max_in_flight": self.sync_settings.concurrency, **self._client_options}
        return OrdoroClient.from_config(self.config, **options)

    @cached_property
    def sync_settings(self) -> SyncSettings:
        """How streams read, from the settings."""
        refresh_hours = float(
            self.config.get("inventory_refresh_hours", DEFAULT_INVENTORY_REFRESH_HOURS)
        )
        return SyncSettings(
            lookback=timedelta(
                seconds=int(self.config.get("lookback_seconds", DEFAULT_LOOKBACK_SECONDS))
            ),
            concurrency=int(self.config.get("max_parallel_requests") or DEFAULT_PARALLEL_REQUESTS),
            inventory_refresh=timedelta(hours=refresh_hours) if refresh_hours > 0 else None,
        )

    @override
    def discover_streams(self) -> list[OrdoroStream]:
        return [
            STREAM_CLASSES.get(name, OrdoroStream)(
                self, spec, lambda: self.client, self.sync_settings
            )
            for name, spec in STREAMS.items()
        ]

    @override
    def sync_all(self) -> None:
        """Sync every selected stream, each one's list reading started at once.

        singer-sdk emits the streams one after the other. With ``max_parallel_requests`` > 1
        every selected stream starts reading its list when the sync starts (a bounded queue
        each, under the one shared rate limiter), so a stream's pages are already there when
        its turn to emit comes, and a stream's reading does not wait while its records are
        emitted. Bookmarks and STATE are unchanged by it.

        The run ends with a STATE of every stream, and a STATE the budget held back (see
        :class:`~tap_ordoro.output.StateBudget`) is written at the end, also when the run fails.
        """
        readers = [
            stream
            for stream in self.streams.values()
            if isinstance(stream, OrdoroStream)
            and stream.parent_stream_type is None
            and (stream.selected or stream.has_selected_descendents)
        ]
        if self.sync_settings.concurrency > 1:
            for stream in readers:
                stream.start_reading()
        try:
            super().sync_all()
            # singer-sdk's last STATE is the last stream's; children settle after it.
            self.state_writer.write_state(self.state)
        finally:
            for stream in readers:
                stream.stop_reading()
            if isinstance(self.message_writer, BufferedMsgspecWriter):
                self.message_writer.write_waiting_state()
            if "client" in self.__dict__:  # a request was sent
                self.logger.info("%s", self.client.in_flight.stats())

    @override
    def run_connection_test(self) -> bool:
        self.client.check_credentials()
        return sync_first_records(self)  # the SDK's dry run without its false "unhandled error"


def main() -> None:
    """Console entry point: the SDK's CLI, with Ordoro errors reported in one line."""
    space_full_collections()
    try:
        TapOrdoro.cli.main(prog_name=TapOrdoro.name)
    except OrdoroError as error:
        sys.stderr.write(f"{TapOrdoro.name}: {error}\n")
        sys.exit(1)
    finally:
        skip_exit_collection()
