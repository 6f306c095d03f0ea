"""Measure tap-ordoro and target-ordoro against the sandbox: speed against the rate limit, memory.

    python scripts/benchmark.py                      # defaults: a few thousand records each way
    python scripts/benchmark.py --orders 20000 --products 10000 --latency-ms 30

Each part runs in-process against a sandbox on a loopback port and reports:

* requests made, seconds, records per second;
* the ratio to the rate-limit bound: the least time the configured ceiling
  (``requests_per_minute``, 480 by default) allows for that many requests divided by the time
  taken (1.0 means the limit, not the plugin, set the pace), and the request rate as a share of
  Ordoro's own 500 a minute;
* peak memory: the benchmark process's peak RSS (the sandbox runs in a process of its own, so
  the figure is the plugin's).

To reach the rate limit in seconds rather than minutes, ``--window-seconds`` scales the limiter's
window while keeping the rate (480 requests a minute becomes 48 per 6 seconds); the sandbox
enforces the same limit, so any 429 would show up in the report.
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

from ordoro_core.client import DEFAULT_REQUESTS_PER_MINUTE, OrdoroClient

USER, SECRET = "bench-user", "bench-secret"
#: Ordoro answers 429 above this; the sandbox enforces it (scaled like the client's window).
ORDORO_LIMIT_PER_MINUTE = 500


def rate_limit_bound(requests: int, per_window: int, window_seconds: float) -> float:
    """Least seconds a sliding-window limit of ``per_window`` allows for ``requests``.

    The first window's worth goes at once; every further window's worth waits a window.
    """
    return max(0, math.ceil(requests / per_window) - 1) * window_seconds


@contextmanager
def sandbox_process(*options: str) -> Iterator[str]:
    """Run ``ordoro-sandbox`` in a process of its own on a free port; yield its URL."""
    command = [sys.executable, "-m", "ordoro_core.sandbox", "--port", "0"]
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
        process.wait(timeout=30)


def window_scaled_client(url: str, rpm: int, window: float) -> tuple[OrdoroClient, int]:
    """A client whose limiter allows ``rpm`` a minute over a ``window``-second window."""
    per_window = max(1, round(rpm * window / 60))
    return OrdoroClient(USER, SECRET, url, per_window, rate_window_seconds=window), per_window


def measure(label: str, run: Any, per_window: int, window: float) -> dict:
    """Run ``run()`` (returning records, requests, 429s) and report speed against the bound."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    records, requests, limited = run()
    elapsed = time.perf_counter() - started
    bound = rate_limit_bound(requests, per_window, window)
    return {
        "part": label,
        "records": records,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "records_per_second": round(records / elapsed, 1),
        "requests_per_minute": round(requests / elapsed * 60, 1),
        "rate_limit_bound_seconds": round(bound, 2),
        "ratio_to_rate_limit_bound": round(bound / elapsed, 3) if bound else None,
        "ratio_to_ordoro_limit": round(requests / elapsed * 60 / ORDORO_LIMIT_PER_MINUTE, 3),
        "responses_429": limited,
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def counting(client: OrdoroClient) -> dict[str, int]:
    """Count the requests the client sends and the 429s it gets, through a response hook."""
    counts = {"requests": 0, "429": 0}

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        counts["requests"] += 1
        counts["429"] += response.status_code == 429

    client.session.hooks["response"].append(hook)
    return counts


class RecordCounter(io.TextIOBase):
    """A stdout that counts RECORD messages and keeps nothing, so memory is the tap's own."""

    def __init__(self) -> None:
        self.records = 0

    def write(self, text: str) -> int:
        self.records += text.count('{"type":"RECORD"')
        return len(text)


def sandbox_limit(args: argparse.Namespace) -> list[str]:
    """Ordoro's own limit (500 a minute), scaled to the window like the client's."""
    per_window = round(ORDORO_LIMIT_PER_MINUTE * args.window_seconds / 60)
    return ["--rate-limit", str(per_window), "--rate-window", str(args.window_seconds)]


def bench_tap(args: argparse.Namespace) -> dict:
    from tap_ordoro.tap import TapOrdoro

    options = ["--seed", str(args.seed), "--products", str(args.products)]
    options += ["--orders", str(args.orders), "--latency-ms", str(args.latency_ms)]
    options += sandbox_limit(args)
    with sandbox_process(*options) as url:
        client, per_window = window_scaled_client(
            url, args.requests_per_minute, args.window_seconds
        )
        counts = counting(client)
        config = {"username": USER, "password": SECRET, "api_url": url}

        def run() -> tuple[int, int, int]:
            tap = TapOrdoro(config=config, parse_env_config=False)
            tap.__dict__["client"] = client  # the benchmark's window-scaled limiter
            sink = RecordCounter()
            with redirect_stdout(sink):
                tap.sync_all()
            return sink.records, counts["requests"], counts["429"]

        return measure("tap (all streams)", run, per_window, args.window_seconds)


def all_skus(reader: OrdoroClient) -> list[str]:
    """Every SKU of the account, paging the product list by offset."""
    skus: list[str] = []
    while True:
        page = reader.get("/product/", {"limit": 100, "offset": len(skus)})["product"]
        skus.extend(product["sku"] for product in page)
        if len(page) < 100:
            return skus


def bench_target(args: argparse.Namespace) -> dict:
    from target_ordoro.target import TargetOrdoro

    products = args.target_records // 3 + 1
    options = ["--seed", str(args.seed), "--products", str(products), "--orders", "0"]
    options += ["--purchase-orders", "0", "--return-orders", "0"]
    options += ["--latency-ms", str(args.latency_ms)]
    options += sandbox_limit(args)
    with sandbox_process(*options) as url, TemporaryDirectory() as scratch:
        client, per_window = window_scaled_client(
            url, args.requests_per_minute, args.window_seconds
        )
        reader = OrdoroClient(USER, SECRET, url, 10_000)
        warehouses = sorted(w["id"] for w in reader.get("/warehouse/")["warehouse"])
        skus = sorted(all_skus(reader))
        counts = counting(client)
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
        for index in range(args.target_records):
            record = {
                "sku": skus[index // len(warehouses) % len(skus)],
                "warehouse_id": warehouses[index % len(warehouses)],
                "on_hand": 1000 + index,
            }
            lines.append(json.dumps({"type": "RECORD", "stream": "inventory", "record": record}))
        config = {
            "username": USER,
            "password": SECRET,
            "api_url": url,
            "dead_letter_path": str(Path(scratch) / "dead.jsonl"),
            "order_map_path": str(Path(scratch) / "order-map.jsonl"),
        }

        def run() -> tuple[int, int, int]:
            target = TargetOrdoro(config=config, parse_env_config=False)
            target.run.__dict__["client"] = client  # the benchmark's window-scaled limiter
            with redirect_stdout(io.StringIO()):
                target.listen(file_input=io.StringIO("\n".join(lines) + "\n"))
            return args.target_records, counts["requests"], counts["429"]

        return measure("target (inventory on_hand)", run, per_window, args.window_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=6000, help="orders in the tap's sandbox")
    parser.add_argument("--products", type=int, default=3000, help="products in the tap's sandbox")
    parser.add_argument("--target-records", type=int, default=600, help="inventory records written")
    parser.add_argument("--latency-ms", type=int, default=20, help="sandbox latency per request")
    parser.add_argument("--requests-per-minute", type=int, default=DEFAULT_REQUESTS_PER_MINUTE)
    parser.add_argument("--window-seconds", type=float, default=6.0, help="limiter window (scaled)")
    parser.add_argument("--only", choices=["tap", "target"], help="run one part")
    args = parser.parse_args()

    reports = []
    if args.only in (None, "tap"):
        reports.append(bench_tap(args))
    if args.only in (None, "target"):
        reports.append(bench_target(args))
    for report in reports:
        print(json.dumps(report))
    print(file=sys.stderr)
    for report in reports:
        print(
            f"{report['part']}: {report['records']} records, {report['requests']} requests in "
            f"{report['seconds']}s = {report['records_per_second']} records/s; "
            f"rate-limit bound {report['rate_limit_bound_seconds']}s "
            f"(ratio {report['ratio_to_rate_limit_bound']}, {report['ratio_to_ordoro_limit']} of "
            f"Ordoro's 500/min); 429s {report['responses_429']}; "
            f"peak RSS {report['peak_rss_mib']} MiB",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
