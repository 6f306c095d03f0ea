"""Measure tap-ordoro and target-ordoro against the sandbox: time against the rate limit, CPU,
memory.

    python scripts/benchmark.py                  # every case below (about 10 minutes)
    python scripts/benchmark.py --quick          # smaller data, for a first look
    python scripts/benchmark.py --only tap-orders --latency-ms 500

Every case runs in a process of its own (so CPU seconds and peak RSS are that case's), against
a sandbox in another process on a loopback port, and prints one JSON line and one table row:

* ``wall_s``: the run's wall time;
* ``bound_s``: the rate-limit bound, the least time the rate allows for the pages the data
  needs (``ceil(records / 100)`` per list; orders and shipments share one list, products and
  inventory another): ``pages / (requests_per_minute / 60)``;
* ``ratio``: ``wall_s / bound_s`` (1.0: the rate limit set the pace; the goal is at most 1.15);
* ``records_per_s``, ``cpu_s`` (user + system of the case's process), ``peak_rss_mib``;
* ``requests`` and ``responses_429`` as the sandbox saw them;
* ``sequential_wall_s``: the same case with ``max_parallel_requests: 1`` (the tap's reference).

The client's limiter enforces ``requests_per_minute`` as a rate over one-second windows, so
the bound is reached in seconds; the sandbox enforces Ordoro's 500 a minute (over six-second
windows), so a burst of ours would show as a 429.

``cpu`` compares the tap's CPU per record with a minimal loop that fetches the same pages with
``requests`` and prints each order as a Singer RECORD with ``json.dumps`` (no latency, no limit).
``memory`` runs the orders case at two sizes: peak RSS should not grow with the data.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

USER, SECRET = "bench-user", "bench-secret"
#: Ordoro answers 429 above this many requests a minute; the sandbox enforces it.
ORDORO_LIMIT_PER_MINUTE = 500
DEFAULT_RPM = 480


@contextmanager
def sandbox_process(*options: str) -> Iterator[str]:
    """Run ``ordoro-sandbox`` in a process of its own on a free port; yield its URL."""
    command = [sys.executable, "-m", "ordoro_sandbox", "--port", "0"]
    command += ["--username", USER, "--password", SECRET, *options]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline() if process.stderr else ""
        match = re.search(r"http://127\.0\.0\.1:\d+", banner)
        if not match:
            raise RuntimeError(f"the sandbox did not start: {banner!r}")
        yield match.group(0)
    finally:
        process.terminate()
        process.wait(timeout=60)


def sandbox_options(case: dict[str, Any]) -> list[str]:
    options = ["--seed", "1", "--orders", str(case.get("orders", 0))]
    # Orders need products to sell: at least 50.
    options += ["--products", str(max(50, case.get("products", 0)))]
    options += ["--purchase-orders", str(case.get("purchase_orders", 0))]
    options += ["--return-orders", str(case.get("return_orders", 0))]
    options += ["--latency-ms", str(case.get("latency_ms", 0))]
    if case.get("limited", True):
        per_window = ORDORO_LIMIT_PER_MINUTE // 10  # Ordoro's limit over 6-second windows
        options += ["--rate-limit", str(per_window), "--rate-window", "6"]
    return options


def bench_config(url: str, case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A plugin config for the sandbox at ``url``, and the client options of the case: the
    limiter holds ``requests_per_minute`` as a rate over one-second windows (no limit when the
    case is unlimited)."""
    rpm = case.get("rpm", DEFAULT_RPM)
    limited = case.get("limited", True)
    config = {
        "username": USER,
        "password": SECRET,
        "api_url": url,
        "requests_per_minute": max(1, round(rpm / 60)) if limited else 1_000_000,
    }
    return config, {"rate_window_seconds": 1.0} if limited else {}


class RecordCounter(io.TextIOBase):
    """A stdout that counts RECORD messages and keeps nothing, so memory is the tap's own."""

    def __init__(self) -> None:
        self.records = 0

    def write(self, text: str) -> int:
        self.records += text.count('{"type":"RECORD"') + text.count('{"type": "RECORD"')
        return len(text)


def counting(client: Any) -> dict[str, int]:
    """Count the requests the client sends and the 429s it gets, through a response hook."""
    counts = {"requests": 0, "429": 0, "writes": 0}

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        counts["requests"] += 1
        counts["429"] += response.status_code == 429
        counts["writes"] += response.request.method in ("POST", "PUT", "DELETE")

    client.session.hooks["response"].append(hook)
    return counts


def run_tap_case(case: dict[str, Any], parallel: int) -> dict[str, Any]:
    """Run the tap over the case's streams once; in this process."""
    from tap_ordoro.tap import TapOrdoro

    rpm = case.get("rpm", DEFAULT_RPM)
    with sandbox_process(*sandbox_options(case)) as url:
        config, options = bench_config(url, case)
        config["max_parallel_requests"] = parallel
        catalog = TapOrdoro(config=config, parse_env_config=False).catalog_dict
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if not metadata["breadcrumb"]:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in case["streams"]
        tap = TapOrdoro(
            config=config, catalog=catalog, parse_env_config=False, client_options=options
        )
        counts = counting(tap.client)
        sink = RecordCounter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with redirect_stdout(sink):
            tap.sync_all()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    pages = ideal_pages(case)
    bound = pages / (rpm / 60) if case.get("limited", True) else None
    return {
        "case": case["name"],
        "latency_ms": case.get("latency_ms", 0),
        "parallel": parallel,
        "records": sink.records,
        "requests": counts["requests"],
        "responses_429": counts["429"],
        "pages": pages,
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2) if bound else None,
        "ratio": round(wall / bound, 3) if bound else None,
        "records_per_s": round(sink.records / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_record": round(cpu * 1000 / max(1, sink.records), 3),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


def ideal_pages(case: dict[str, Any]) -> int:
    """Pages the case's data needs at 100 a page, each list read once."""
    streams = set(case["streams"])
    pages = 0
    if streams & {"orders", "shipments"}:
        pages += max(1, math.ceil(case.get("orders", 0) / 100))
    if streams & {"products", "inventory"}:
        pages += max(1, math.ceil(case.get("products", 0) / 100))
    for stream, size in (
        ("purchase_orders", case.get("purchase_orders", 0)),
        ("return_orders", case.get("return_orders", 0)),
    ):
        if stream in streams:
            pages += max(1, math.ceil(size / 100))
    pages += len(streams & {"warehouses", "sales_channels", "suppliers"})
    return pages


def run_minimal_loop(case: dict[str, Any]) -> dict[str, Any]:
    """The CPU reference: fetch the same order pages with requests, print RECORDs."""
    import requests

    from ordoro_core.timestamps import RESOLUTION, parse_instant, to_utc_iso

    with sandbox_process(*sandbox_options({**case, "limited": False})) as url:
        session = requests.Session()
        session.auth = (USER, SECRET)
        sink = RecordCounter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        query: dict[str, Any] = {"sort": "updated_date", "limit": 100, "offset": 0}
        with redirect_stdout(sink):
            while True:
                page = session.get(url + "/v3/order", params=query, timeout=60).json()["order"]
                for order in page:
                    print(json.dumps({"type": "RECORD", "stream": "orders", "record": order}))
                if len(page) < 100:
                    break
                last = parse_instant(page[-1]["updated_date"])
                query["updated_after"] = to_utc_iso(last - RESOLUTION)
                query["offset"] = sum(
                    1 for order in page if parse_instant(order["updated_date"]) == last
                )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {
        "case": case["name"] + " (minimal loop)",
        "records": sink.records,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_record": round(cpu * 1000 / max(1, sink.records), 3),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


def run_target_case(case: dict[str, Any]) -> dict[str, Any]:
    """An on-hand feed: ``rows`` rows over ``products`` products, ``changed`` differing."""
    from ordoro_core.client import OrdoroClient
    from target_ordoro.target import TargetOrdoro

    rpm = case.get("rpm", DEFAULT_RPM)
    with sandbox_process(*sandbox_options(case)) as url, TemporaryDirectory() as scratch:
        reader = OrdoroClient(USER, SECRET, url, 1_000_000)
        products: list[dict[str, Any]] = []
        while True:
            page = reader.get("/product/", {"limit": 100, "offset": len(products)})["product"]
            products.extend(page)
            if len(page) < 100:
                break
        current = {(p["sku"], e["id"]): e["on_hand"] for p in products for e in p["warehouses"]}
        keys = sorted(current)[: case["rows"]]
        lines = [
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "inventory",
                    "schema": {"properties": {}},
                    "key_properties": ["sku", "warehouse_id"],
                }
            )
        ]
        for index, (sku, warehouse_id) in enumerate(keys):
            on_hand = current[(sku, warehouse_id)] + (7 if index < case["changed"] else 0)
            record = {"sku": sku, "warehouse_id": warehouse_id, "on_hand": on_hand}
            lines.append(json.dumps({"type": "RECORD", "stream": "inventory", "record": record}))
        config, options = bench_config(url, case)
        config["dead_letter_path"] = str(Path(scratch) / "dead.jsonl")
        config["order_map_path"] = str(Path(scratch) / "order-map.jsonl")
        target = TargetOrdoro(config=config, parse_env_config=False, client_options=options)
        counts = counting(target.run.client)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            target.listen(file_input=io.StringIO("\n".join(lines) + "\n"))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    bound = counts["requests"] / (rpm / 60)
    return {
        "case": case["name"],
        "latency_ms": case.get("latency_ms", 0),
        "rows": len(keys),
        "changed": case["changed"],
        "requests": counts["requests"],
        "writes": counts["writes"],
        "requests_per_row": round(counts["requests"] / max(1, len(keys)), 3),
        "responses_429": counts["429"],
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2),
        "ratio": round(wall / bound, 3) if bound else None,
        "records_per_s": round(len(keys) / wall, 1),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
    }


def cases(quick: bool) -> list[dict[str, Any]]:
    scale = 0.1 if quick else 1.0
    orders, products = int(12_000 * scale), int(6_000 * scale)
    found: list[dict[str, Any]] = []
    for latency in (500, 150):
        found.append(
            {
                "name": f"tap-orders-{latency}ms",
                "kind": "tap",
                "streams": ["orders", "shipments"],
                "orders": orders,
                "latency_ms": latency,
            }
        )
        found.append(
            {
                "name": f"tap-products-inventory-{latency}ms",
                "kind": "tap",
                "streams": ["products", "inventory"],
                "products": products,
                "latency_ms": latency,
            }
        )
        found.append(
            {
                "name": f"tap-all-streams-{latency}ms",
                "kind": "tap",
                "streams": [
                    "orders",
                    "shipments",
                    "products",
                    "inventory",
                    "warehouses",
                    "sales_channels",
                    "suppliers",
                    "purchase_orders",
                    "return_orders",
                ],
                "orders": orders // 2,
                "products": products // 2,
                "purchase_orders": 200,
                "return_orders": 150,
                "latency_ms": latency,
            }
        )
    found.append(
        {
            "name": "cpu-orders",
            "kind": "cpu",
            "streams": ["orders"],
            "orders": int(20_000 * scale),
            "limited": False,
        }
    )
    for size in (int(4_000 * scale), int(40_000 * scale)):
        found.append(
            {
                "name": f"memory-orders-{size}",
                "kind": "memory",
                "streams": ["orders", "shipments"],
                "orders": size,
                "limited": False,
            }
        )
    for latency in (150, 500):
        found.append(
            {
                "name": f"target-feed-{latency}ms",
                "kind": "target",
                "products": 500 if not quick else 100,
                "rows": 1000 if not quick else 200,
                "changed": 50 if not quick else 10,
                "latency_ms": latency,
            }
        )
    found.append(
        {
            "name": "target-feed-mostly-changed-500ms",
            "kind": "target",
            "products": 500 if not quick else 100,
            "rows": 1000 if not quick else 200,
            "changed": 600 if not quick else 120,
            "latency_ms": 500,
        }
    )
    return found


def run_case(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every measurement of one case, each in a process of its own."""
    runs = []
    if case["kind"] == "tap":
        runs.append({"case": case, "mode": "tap", "parallel": 8})
        runs.append({"case": case, "mode": "tap", "parallel": 1})
    elif case["kind"] == "cpu":
        runs.append({"case": case, "mode": "tap", "parallel": 1})
        runs.append({"case": case, "mode": "minimal"})
    elif case["kind"] == "memory":
        runs.append({"case": case, "mode": "tap", "parallel": 8})
    else:
        runs.append({"case": case, "mode": "target"})
    results = []
    for run in runs:
        output = subprocess.run(
            [sys.executable, __file__, "--run", json.dumps(run)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    case = spec["case"]
    if spec["mode"] == "tap":
        return run_tap_case(case, spec["parallel"])
    if spec["mode"] == "minimal":
        return run_minimal_loop(case)
    return run_target_case(case)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--only", help="run the cases whose name starts with this")
    parser.add_argument("--latency-ms", type=int, help="only cases with this latency")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(json.loads(args.run))))
        return 0

    selected = [
        case
        for case in cases(args.quick)
        if (args.only is None or case["name"].startswith(args.only))
        and (args.latency_ms is None or case.get("latency_ms") == args.latency_ms)
    ]
    for case in selected:
        results = run_case(case)
        for result in results:
            print(json.dumps(result), flush=True)
        main_result = results[0]
        if case["kind"] == "tap":
            reference = results[1]
            print(
                f"# {case['name']}: {main_result['records']} records, {main_result['requests']} "
                f"requests in {main_result['wall_s']} s (bound {main_result['bound_s']} s, ratio "
                f"{main_result['ratio']}); sequential {reference['wall_s']} s "
                f"(ratio {reference['ratio']}); {main_result['records_per_s']} records/s, "
                f"CPU {main_result['cpu_s']} s, peak RSS {main_result['peak_rss_mib']} MiB, "
                f"429s {main_result['responses_429']}",
                file=sys.stderr,
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
