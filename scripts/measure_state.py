"""Measure tap-ordoro's STATE and what a resume re-emits, against the sandbox.

The figures of docs/tap.md (bookmarks and STATE size) come from here. Each case runs the tap
in-process (the SIGKILL case as a process of its own) on a sandbox seeded for it:

* ``bulk-sync``: a bulk action stamped 4,000 of 6,000 orders; one full sync of every stream.
* ``bulk-near-bookmark``: a full sync, then bulk actions after its bookmark (4,000 of 6,000
  orders, all 3,000 products, all purchase orders), a second sync of every stream, then an
  idle one: STATE sizes, and what the idle run emits.
* ``sigkill``: 3,000 orders, windows read in parallel, the tap killed (SIGKILL) once 1,500
  orders are out; the resumed run's orders, and whether any order was lost.
* ``inventory``: 3,000 products, 20 of them sold (some edited too), with and without the
  orders stream in the run, and an idle run: the requests inventory makes to read them again.

Usage::

    .venv/bin/python scripts/measure_state.py                  # every case
    .venv/bin/python scripts/measure_state.py --only sigkill
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from ordoro_core.client import OrdoroClient
from ordoro_core.urls import build_path
from ordoro_sandbox import Sandbox, SandboxOptions
from tap_ordoro.tap import TapOrdoro

USER, SECRET = "measure-user", "measure-secret"
BIN = Path(sys.executable).parent


def config(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    return {
        "username": USER,
        "password": SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 100_000,
        **extra,
    }


def catalog_of(conf: dict[str, Any], streams: tuple[str, ...] | None) -> dict[str, Any] | None:
    if streams is None:
        return None
    catalog = TapOrdoro(config=conf, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def sync(
    conf: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """One in-process run: records per stream, STATE lines and bytes, the final STATE."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap = TapOrdoro(
            config=conf, state=state, catalog=catalog_of(conf, streams), parse_env_config=False
        )
        tap.sync_all()
    records: Counter[str] = Counter()
    state_lines, state_bytes, final = 0, 0, None
    for line in buffer.getvalue().splitlines():
        if line.startswith('{"type":"STATE"') or line.startswith('{"type": "STATE"'):
            state_lines += 1
            state_bytes += len(line.encode()) + 1
            final = json.loads(line)["value"]
        elif line.startswith('{"type":"RECORD"') or line.startswith('{"type": "RECORD"'):
            records[json.loads(line)["stream"]] += 1
    return {
        "records": dict(records),
        "state_lines": state_lines,
        "state_bytes": state_bytes,
        "final_state_bytes": len(json.dumps(final, separators=(",", ":")).encode()),
        "final_state": final,
    }


def summary(run: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in run.items() if key != "final_state"}


def bulk_sync() -> dict[str, Any]:
    options = SandboxOptions(
        seed=61, username=USER, password=SECRET, orders=6000, bulk_action_orders=4000
    )
    with Sandbox(options) as sandbox:
        return summary(sync(config(sandbox)))


def bulk_near_bookmark() -> dict[str, Any]:
    options = SandboxOptions(seed=62, username=USER, password=SECRET, orders=6000, products=3000)
    with Sandbox(options) as sandbox:
        first = sync(config(sandbox))
        sandbox.bulk_action("orders", sorted(sandbox.store.orders)[1000:5000])
        sandbox.bulk_action("products", sorted(sandbox.store.products))
        sandbox.bulk_action("purchase_orders", sorted(sandbox.store.purchase_orders))
        second = sync(config(sandbox), state=first["final_state"])
        idle = sync(config(sandbox), state=second["final_state"])
        return {
            "first": summary(first),
            "after_bulk": summary(second),
            "idle": summary(idle),
            "orders": len(sandbox.store.orders),
        }


class Lines:
    """A process's stdout, line by line, on a thread."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.orders = 0
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)
            if line.startswith('{"type":"RECORD","stream":"orders"'):
                self.orders += 1

    def finish(self) -> list[str]:
        self._thread.join(timeout=30)
        return [line for line in self.lines if line.endswith("\n")]


def sigkill(kill_at: int = 1500) -> dict[str, Any]:
    options = SandboxOptions(seed=63, username=USER, password=SECRET, orders=3000)
    with Sandbox(options) as sandbox, tempfile.TemporaryDirectory() as directory:
        sandbox.set_latency_ms(40)
        conf = config(sandbox)
        config_path = Path(directory) / "config.json"
        config_path.write_text(json.dumps(conf), encoding="utf-8")
        catalog_path = Path(directory) / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_of(conf, ("orders",))), encoding="utf-8")
        process = subprocess.Popen(
            [str(BIN / "tap-ordoro"), "--config", str(config_path), "--catalog", str(catalog_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines = Lines(process)
        while lines.orders < kill_at and process.poll() is None:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        killed = lines.finish()
        emitted = [
            json.loads(line)["record"]["order_number"]
            for line in killed
            if line.startswith('{"type":"RECORD","stream":"orders"')
        ]
        states = [
            json.loads(line)["value"] for line in killed if line.startswith('{"type":"STATE"')
        ]
        sandbox.set_latency_ms(0)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            TapOrdoro(
                config=conf,
                state=states[-1],
                catalog=catalog_of(conf, ("orders",)),
                parse_env_config=False,
            ).sync_all()
        resumed = [
            json.loads(line)["record"]["order_number"]
            for line in buffer.getvalue().splitlines()
            if line.startswith('{"type":"RECORD","stream":"orders"')
        ]
        every = set(sandbox.store.orders)
        return {
            "orders": len(every),
            "emitted_before_the_kill": len(emitted),
            "resumed_emitted": len(resumed),
            "re_emitted": len(set(resumed) & set(emitted)),
            "lost": len(every - set(emitted) - set(resumed)),
        }


def request_paths(sandbox: Sandbox) -> dict[str, int]:
    """Requests by path, a product's own path counted as ``/product/{sku}/``."""
    paths: Counter[str] = Counter()
    for entry in sandbox.requests:
        own = entry.path.startswith("/product/") and entry.path != "/product/"
        paths["/product/{sku}/" if own else entry.path] += 1
    return dict(paths)


def place(client: OrdoroClient, sandbox: Sandbox, sku: str, order_id: str) -> None:
    address = {"name": "Ada Buyer", "street1": "1 Main St", "city": "Austin", "state": "TX",
               "zip": "78701", "country": "US"}  # fmt: skip
    client.post(
        build_path("v3", "order"),
        {
            "order_id": order_id,
            "shipping_address": address,
            "billing_address": address,
            "warehouse_id": sandbox.store.default_warehouse()["id"],
            "lines": [{"product": {"sku": sku, "name": sku}, "quantity": 1}],
        },
    )


def inventory_rereads() -> dict[str, Any]:
    """What inventory reads again for stock moved by sales, on 3,000 products (30 pages)."""
    figures: dict[str, Any] = {}
    cases = {
        "20 sales, inventory alone": (("inventory",), 20, 0),
        "20 sales, orders + products + inventory": (("orders", "products", "inventory"), 20, 0),
        "20 products edited, then sold, orders + products + inventory": (
            ("orders", "products", "inventory"),
            20,
            20,
        ),
        "idle, orders + products + inventory": (("orders", "products", "inventory"), 0, 0),
    }
    for name, (streams, sales, edited) in cases.items():
        options = SandboxOptions(
            seed=64, username=USER, password=SECRET, products=3000, orders=400,
            stock_moves_untouched=True,
        )  # fmt: skip
        with Sandbox(options) as sandbox:
            conf = config(sandbox)
            first = sync(conf, streams=streams)
            client = OrdoroClient(USER, SECRET, sandbox.url, requests_per_minute=100_000)
            skus = sorted(sandbox.store.products)[::150][:sales]
            for sku in skus[:edited]:
                client.put(build_path("product", sku), {"name": f"edited {sku}"})
            for index, sku in enumerate(skus):
                place(client, sandbox, sku, f"MEASURE-{index}")
            sandbox.reset_request_log()
            second = sync(conf, state=first["final_state"], streams=streams)
            figures[name] = {
                "requests": request_paths(sandbox),
                "inventory_records": second["records"].get("inventory", 0),
            }
    return figures


CASES = {
    "bulk-sync": bulk_sync,
    "bulk-near-bookmark": bulk_near_bookmark,
    "sigkill": sigkill,
    "inventory": inventory_rereads,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    results = {}
    for name in args.only or CASES:
        started = time.monotonic()
        results[name] = CASES[name]()
        results[name]["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps({name: results[name]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
