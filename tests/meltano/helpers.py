"""What the Meltano pipeline tests share: the sandbox's records as they should land, by key.

``expected_records`` is built from the sandbox's store independently of the tap's code, so a
landing test compares what a loader stored with what the account holds, key by key.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from ordoro_core.catalog import STREAMS
from ordoro_sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
#: The plugins' ceiling in these tests: the client holds it as an even pace (at the default 480,
#: one request per 125 ms), and the pipelines here are about what lands, not how fast.
TEST_CEILING = "60000"


def landed(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stream target-jsonl wrote to ``directory``: stream -> records."""
    streams = {}
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            streams[path.stem] = [json.loads(line) for line in handle if line.strip()]
    return streams


def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    """The store's records as the API would send them (a JSON round trip)."""
    store = sandbox.store
    with store.lock:
        raw = {
            "orders": store.orders,
            "products": store.products,
            "warehouses": store.warehouses,
            "carts": store.carts,
            "suppliers": store.suppliers,
            "purchase_orders": store.purchase_orders,
            "return_orders": store.return_orders,
        }
        return json.loads(json.dumps({kind: list(rows.values()) for kind, rows in raw.items()}))


def key_of(stream: str, record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[name] for name in STREAMS[stream].key_properties)


def by_key(stream: str, records: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Records by primary key, failing on any key landed twice."""
    counts = Counter(key_of(stream, record) for record in records)
    repeated = {key: count for key, count in counts.items() if count > 1}
    assert not repeated, f"{stream}: keys landed more than once: {list(repeated.items())[:5]}"
    return {key_of(stream, record): record for record in records}


def expected_records(store: dict[str, Any]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """What each stream should land, by key, built independently of the tap's code."""
    inventory = {
        (product["sku"], entry["id"]): {"sku": product["sku"], "warehouse_id": entry["id"], **entry}
        for product in store["products"]
        for entry in product["warehouses"]
    }
    shipments = {
        (order["order_number"],): order["shipping_info"]
        for order in store["orders"]
        if order["status"] == "shipped"
        and (order.get("shipping_info") or {}).get("tracking_number")
    }
    return {
        "orders": {(row["order_number"],): row for row in store["orders"]},
        "products": {(row["sku"],): row for row in store["products"]},
        "inventory": inventory,
        "shipments": shipments,
        "warehouses": {(row["id"],): row for row in store["warehouses"]},
        "sales_channels": {(row["id"],): row for row in store["carts"]},
        "suppliers": {(row["id"],): row for row in store["suppliers"]},
        "purchase_orders": {(row["po_id"],): row for row in store["purchase_orders"]},
        "return_orders": {(row["reference_id"],): row for row in store["return_orders"]},
    }


#: Fields compared for streams whose records the tap reshapes (the rest: every landed field).
RESHAPED_FIELDS = {
    "inventory": ("on_hand", "available", "committed", "allocated", "physical_on_hand",
                  "location_in_warehouse"),
    "shipments": ("tracking_number", "carrier_name", "ship_date", "cost"),
}  # fmt: skip


def api(sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request to the sandbox over HTTP, as any API client would make it."""
    options = sandbox.options
    token = base64.b64encode(f"{options.username}:{options.password}".encode()).decode()
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def run_in_plugin_venv(plugin_type: str, name: str, script: str, *args: str) -> Any:
    """Run ``script`` with a Meltano plugin's own Python and return its stdout decoded as JSON.

    The project's environment has no database drivers; the loaders' virtualenvs do.
    """
    python = ROOT / ".meltano" / plugin_type / name / "venv" / "bin" / "python"
    result = subprocess.run(
        [str(python), "-c", script, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
