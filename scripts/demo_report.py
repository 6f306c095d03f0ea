"""Print what the quick start's pipelines did (used by scripts/quickstart.sh).

1. tap-ordoro -> target-jsonl: records per stream in the landing directory, and a few rows;
   tap-ordoro -> target-duckdb: rows per table of the DuckDB file.
2. supplier feed -> target-ordoro: every (sku, warehouse_id, on_hand) of the feed's CSV files,
   next to the on-hand that the Ordoro API (here: the sandbox) answers for that product and
   warehouse now (``GET /product/{sku}/``); target-ordoro's run summary; the dead-letter file.

Exits non-zero when an on-hand value differs from the feed's. Standard library only. The
password comes from the environment (TAP_ORDORO_PASSWORD), never from the command line.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

#: Columns shown for the sample rows of some streams (the others show their first columns).
SAMPLE_COLUMNS = {
    "orders": ["order_number", "status", "order_placed_date", "updated_date"],
    "products": ["sku", "name", "total_on_hand", "updated"],
    "inventory": ["sku", "warehouse_id", "on_hand", "available"],
    "shipments": ["order_number", "carrier_name", "tracking_number", "ship_date"],
}
SAMPLE_ROWS = 3


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def short(value: Any, width: int = 32) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[short(cell) for cell in row] for row in rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    for row in cells:
        padded = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  " + "  ".join(padded))


def report_landed(output_dir: Path) -> None:
    files = sorted(path for path in output_dir.glob("*.jsonl") if path.name != "dead-letter.jsonl")
    if not files:
        sys.exit(f"nothing landed in {output_dir}")
    streams = {path.stem: read_jsonl(path) for path in files}
    print(f"tap-ordoro -> target-jsonl: records per stream in {output_dir}")
    print_table(["stream", "records"], [[name, len(rows)] for name, rows in streams.items()])
    for name, rows in streams.items():
        if name not in SAMPLE_COLUMNS or not rows:
            continue
        columns = SAMPLE_COLUMNS[name]
        print(f"\nfirst {min(SAMPLE_ROWS, len(rows))} of {name}.jsonl:")
        print_table(columns, [[row.get(col) for col in columns] for row in rows[:SAMPLE_ROWS]])


#: Rows per table of the `ordoro` schema; run by target-duckdb's Python, which has duckdb.
DUCKDB_COUNTS = """
import json, sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
tables = connection.execute(
    "select table_name from information_schema.tables where table_schema = 'ordoro' order by 1"
).fetchall()
print(json.dumps({name: connection.execute(f'select count(*) from ordoro."{name}"').fetchone()[0]
                  for (name,) in tables}))
"""


DUCKDB_EXAMPLE = "select status, count(*) from ordoro.orders group by 1"


def report_duckdb(database: Path, python: Path) -> None:
    result = subprocess.run(
        [str(python), "-c", DUCKDB_COUNTS, str(database)], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"cannot read {database}: {result.stderr.strip()}")
    counts = json.loads(result.stdout)
    print(f"\ntap-ordoro -> target-duckdb: rows per table of schema `ordoro` in {database}")
    print_table(["table", "rows"], [[name, rows] for name, rows in counts.items()])
    code = f"import duckdb; duckdb.connect('{database}').sql('{DUCKDB_EXAMPLE}').show()"
    print(f'  query it: {python} -c "{code}"')


class OrdoroReader:
    """Just enough of the Ordoro API to read a product back, with HTTP Basic auth."""

    def __init__(self, api_url: str, username: str, password: str) -> None:
        self.api_url = api_url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}

    def product(self, sku: str) -> dict[str, Any] | None:
        url = f"{self.api_url}/product/{urllib.parse.quote(sku, safe='')}/"
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


def feed_rows(feed_dir: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(feed_dir.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def report_feed(feed_dir: Path, reader: OrdoroReader) -> int:
    rows = feed_rows(feed_dir)
    print(f"\nsupplier feed -> target-ordoro: on-hand read back from {reader.api_url}")
    table, mismatches = [], 0
    for row in rows:
        sku, warehouse_id, wanted = row["sku"], int(row["warehouse_id"]), int(row["on_hand"])
        product = reader.product(sku)
        warehouses = {int(w["id"]): w for w in (product or {}).get("warehouses", [])}
        actual = warehouses.get(warehouse_id, {}).get("on_hand")
        ok = actual == wanted
        mismatches += not ok
        shown = "(no such product)" if product is None else actual
        table.append([sku, warehouse_id, wanted, shown, "ok" if ok else "DIFFERS"])
    print_table(["sku", "warehouse_id", "feed on_hand", "Ordoro on_hand", ""], table)
    print(f"  {len(rows) - mismatches} of {len(rows)} feed rows match what Ordoro holds")
    return mismatches


def report_target_summary(log: Path) -> None:
    """target-ordoro's run summary: the JSON line it logs at the end of every run."""
    marker = '{"type": "target_ordoro_summary"'
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if marker in line]
    if not lines:
        print(f"\n(no target-ordoro summary in {log})")
        return
    summary = json.loads(lines[-1][lines[-1].index(marker) :])
    print(f"\ntarget-ordoro run summary ({summary.get('status')}), from {log}:")
    streams = summary.get("streams") or {}
    counters = sorted({name for counts in streams.values() for name in counts})
    rows = [
        [stream, *(counts.get(name, 0) for name in counters)] for stream, counts in streams.items()
    ]
    print_table(["stream", *counters], rows)
    for stream, count in (summary.get("skipped_streams") or {}).items():
        print(f"  skipped stream {stream}: {count} record(s)")


def report_dead_letters(path: Path) -> None:
    if not path.exists() or not path.stat().st_size:
        print(f"\ndead-letter file: none written ({path})")
        return
    letters = read_jsonl(path)
    print(f"\ndead-letter file {path}: {len(letters)} record(s)")
    for letter in letters[:5]:
        print(f"  {letter.get('stream')}: {letter.get('status')} {short(letter.get('reason'), 80)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--feed-dir", type=Path, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--dead-letter", type=Path, help="default: OUTPUT_DIR/dead-letter.jsonl")
    parser.add_argument("--target-log", type=Path, help="the feed pipeline's Meltano log")
    parser.add_argument("--duckdb", type=Path, help="target-duckdb's database file")
    parser.add_argument("--duckdb-python", type=Path, help="a Python that has duckdb")
    args = parser.parse_args()
    password = os.environ.get("TAP_ORDORO_PASSWORD")
    if not password:
        sys.exit("set TAP_ORDORO_PASSWORD")

    report_landed(args.output_dir)
    if args.duckdb and args.duckdb_python:
        report_duckdb(args.duckdb, args.duckdb_python)
    mismatches = report_feed(args.feed_dir, OrdoroReader(args.api_url, args.username, password))
    if args.target_log:
        report_target_summary(args.target_log)
    report_dead_letters(args.dead_letter or args.output_dir / "dead-letter.jsonl")
    if mismatches:
        sys.exit(f"{mismatches} on-hand value(s) differ from the feed")


if __name__ == "__main__":
    main()
