"""tap-ordoro: the plugin class and its settings."""

from __future__ import annotations

import sys
from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from ordoro_core.catalog import STREAMS
from ordoro_core.client import OrdoroClient, OrdoroError
from ordoro_core.settings import CONNECTION_SETTINGS
from tap_ordoro.client import OrdoroStream
from tap_ordoro.streams import STREAM_CLASSES


class TapOrdoro(Tap):
    """Singer tap for Ordoro: orders, shipments, products, inventory and reference data."""

    name = "tap-ordoro"
    #: The distribution both plugins ship in (for --about and --version).
    package_name = "ordoro-singer"

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
    ).to_dict()

    @cached_property
    def client(self) -> OrdoroClient:
        """The process's one Ordoro API client, shared by every stream."""
        return OrdoroClient.from_config(self.config)

    @override
    def discover_streams(self) -> list[OrdoroStream]:
        return [
            STREAM_CLASSES.get(name, OrdoroStream)(self, spec, self.client)
            for name, spec in STREAMS.items()
        ]

    @override
    def run_connection_test(self) -> bool:
        self.client.check_credentials()
        return super().run_connection_test()


def main() -> None:
    """Console entry point: the SDK's CLI, with Ordoro errors reported in one line."""
    try:
        TapOrdoro.cli.main(prog_name=TapOrdoro.name)
    except OrdoroError as error:
        sys.stderr.write(f"{TapOrdoro.name}: {error}\n")
        sys.exit(1)
