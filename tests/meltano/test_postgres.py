"""`meltano run tap-ordoro target-postgres` into a throwaway PostgreSQL cluster.

The cluster (tests/meltano/pg_cluster.py) is started and stopped by the test, on 127.0.0.1 and
a free port, with its server time zone set to America/Chicago: not UTC, and on the DST switch
of 2024-11-03 that the sandbox's data spans (-05:00 before it, -06:00 after). The test checks:

* every stream the tap emits has its table in schema `ordoro`, with exactly the source's rows by
  primary key (none missing, none extra, none twice) and the source's values;
* every timestamp column holds the source value's instant: target-postgres stores
  `date-time` as `timestamp without time zone` in the session's zone, and meltano.yml sets
  PGTZ=UTC for it, so each value read as UTC must equal the instant Ordoro sent, whatever
  offset it was sent with;
* a second run upserts: a changed product is updated in place, no key is doubled.

Never skipped: without a PostgreSQL server it fails, saying how to install one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from ordoro_core.catalog import STREAM_NAMES
from ordoro_core.timestamps import parse_instant
from ordoro_sandbox import Sandbox
from tests.meltano.helpers import (
    RESHAPED_FIELDS,
    api,
    by_key,
    expected_records,
    quote,
    run_in_plugin_venv,
    snapshot,
)
from tests.meltano.pg_cluster import (
    SERVER_TIMEZONE,
    PostgresCluster,
    PostgresUnavailableError,
)

if TYPE_CHECKING:
    from conftest import MeltanoProject  # tests/meltano/conftest.py

pytestmark = pytest.mark.meltano

SCHEMA = "ordoro"

#: Dumps every table of the schema as JSON, run by target-postgres's own Python (psycopg):
#: timestamps as ISO text in UTC with their column's type, JSONB decoded, numbers as text.
POSTGRES_DUMP = """
import json, sys
import psycopg
host, port, user, password, database, schema = sys.argv[1:7]
out = {"tables": {}, "types": {}}
with psycopg.connect(host=host, port=int(port), user=user, password=password,
                     dbname=database) as connection:
    connection.execute("set time zone 'UTC'")
    out["server_timezone"] = connection.execute(
        "select reset_val from pg_settings where name = 'TimeZone'").fetchone()[0]
    tables = [row[0] for row in connection.execute(
        "select table_name from information_schema.tables where table_schema = %s", [schema])]
    for table in tables:
        columns = connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s", [schema, table]).fetchall()
        out["types"][table] = dict(columns)
        select = ", ".join(
            f'("{name}" at time zone \\'UTC\\')' if kind == "timestamp without time zone"
            else f'"{name}"' for name, kind in columns)
        rows = []
        for values in connection.execute(f'select {select} from "{schema}"."{table}"'):
            row = {}
            for (name, kind), value in zip(columns, values):
                if hasattr(value, "isoformat"):
                    value = value.isoformat()
                elif kind == "numeric" and value is not None:
                    value = str(value)
                row[name] = value
            rows.append(row)
        out["tables"][table] = rows
print(json.dumps(out))
"""


def dump(postgres: PostgresCluster) -> dict[str, Any]:
    return run_in_plugin_venv(
        "loaders",
        "target-postgres",
        POSTGRES_DUMP,
        postgres.host,
        str(postgres.port),
        postgres.user,
        postgres.password,
        postgres.database,
        SCHEMA,
    )


def point_at(meltano: MeltanoProject, sandbox: Sandbox, postgres: PostgresCluster) -> None:
    meltano.point_at(sandbox)
    meltano.env.update(
        TARGET_POSTGRES_HOST=postgres.host,
        TARGET_POSTGRES_PORT=str(postgres.port),
        TARGET_POSTGRES_USER=postgres.user,
        TARGET_POSTGRES_PASSWORD=postgres.password,
        TARGET_POSTGRES_DATABASE=postgres.database,
    )


class Comparison:
    """Compares landed values with the source's, counting the timestamps it checked."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    def same(self, kind: str, landed: Any, source: Any) -> bool:
        if landed is None or source is None:
            return landed == source
        if kind.startswith("timestamp"):
            # The column's value read as UTC (the dump did that) is the source's instant.
            instant = parse_instant(source)
            offset = source[-6:] if source[-6] in "+-" else "Z"
            self.offsets[offset] = self.offsets.get(offset, 0) + 1
            return parse_instant(landed) == instant
        if kind == "numeric":
            return Decimal(landed) == Decimal(str(source))
        return landed == source


def check_landing(
    tables: dict[str, list[dict[str, Any]]],
    types: dict[str, dict[str, str]],
    sandbox: Sandbox,
) -> Comparison:
    """Every stream's rows by key, every compared field equal to the source's."""
    expected = expected_records(snapshot(sandbox))
    assert set(expected) == set(STREAM_NAMES)
    assert set(tables) == set(STREAM_NAMES), f"tables: {sorted(tables)}"
    comparison = Comparison()
    for stream, want in expected.items():
        got = by_key(stream, tables[stream])
        assert set(got) == set(want), (
            f"{stream}: missing {sorted(set(want) - set(got))[:5]}, "
            f"unexpected {sorted(set(got) - set(want))[:5]}"
        )
        fields = RESHAPED_FIELDS.get(stream)
        for key, row in got.items():
            assert row["_sdc_deleted_at"] is None, f"{stream} {key} marked deleted"
            for field in fields or [name for name in row if not name.startswith("_sdc_")]:
                source = want[key].get(field)
                assert comparison.same(types[stream][field], row[field], source), (
                    f"{stream} {key}.{field} ({types[stream][field]}): PostgreSQL "
                    f"{row[field]!r}, source {source!r}"
                )
    return comparison


def test_tap_to_postgres_lands_every_row_by_key_with_its_instants(
    meltano: MeltanoProject, sandbox: Sandbox, postgres: PostgresCluster
):
    point_at(meltano, sandbox, postgres)
    meltano("run", "tap-ordoro", "target-postgres")

    landed = dump(postgres)
    assert landed["server_timezone"] == SERVER_TIMEZONE  # a zone where a leak would show
    types = landed["types"]
    assert types["orders"]["updated_date"] == "timestamp without time zone"
    assert types["orders"]["shipping_address"] == "jsonb"
    comparison = check_landing(landed["tables"], types, sandbox)
    # The data really spans the DST switch: both of the account's offsets were compared.
    assert comparison.offsets.get("-05:00", 0) > 0, comparison.offsets
    assert comparison.offsets.get("-06:00", 0) > 0, comparison.offsets

    # A second run upserts by key: the changed product is updated in place.
    sku = sorted(sandbox.store.products)[3]
    api(sandbox, "PUT", f"/product/{quote(sku)}/", {"name": "Renamed for PostgreSQL"})
    meltano("run", "tap-ordoro", "target-postgres")

    again = dump(postgres)
    check_landing(again["tables"], again["types"], sandbox)
    products = {row["sku"]: row for row in again["tables"]["products"]}
    assert products[sku]["name"] == "Renamed for PostgreSQL"


def test_without_a_server_the_failure_says_how_to_install_one(monkeypatch, tmp_path):
    """No pg_config on PATH: the cluster (and so the test above) fails with the fix."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresUnavailableError) as raised:
        PostgresCluster()
    assert "apt-get install -y postgresql" in str(raised.value)
    assert "scripts/test.sh" in str(raised.value)
