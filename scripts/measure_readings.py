"""Measure what tap-ordoro loses and what it costs under each list reading the spec leaves open.

Runs the tap in-process against sandboxes with each of ``ordoro_sandbox.listing.ListReading``'s
options on (and off, for the request count it is compared with), and prints one line per
scenario: records expected, emitted, lost, the requests made, and how the run ended. The tap
that is imported is whatever is first on ``sys.path``: run it from a checkout to measure that
checkout's tap (docs/tap.md quotes its figures).

    .venv/bin/python scripts/measure_readings.py            # every scenario
    .venv/bin/python scripts/measure_readings.py cap window  # the scenarios whose name has a word
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ordoro_core.urls import build_path
from ordoro_sandbox import Sandbox, SandboxOptions
from tap_ordoro.tap import TapOrdoro

USER, SECRET = "measure-user", "measure-secret"
KEYS = {
    "orders": ("orders", "order_number"),
    "products": ("products", "sku"),
    "purchase_orders": ("purchase_orders", "po_id"),
    "return_orders": ("return_orders", "reference_id"),
}
PATHS = {
    "orders": "/v3/order",
    "products": "/product/",
    "purchase_orders": "/purchase_order/",
    "return_orders": "/v3/return_order",
}


@dataclass
class Outcome:
    """One tap run: what it emitted, its last STATE, how it ended."""

    emitted: dict[str, set[Any]]
    state: dict[str, Any] | None
    ended: str


def run_tap(sandbox: Sandbox, streams: tuple[str, ...], state: dict | None = None) -> Outcome:
    config = {
        "username": USER,
        "password": SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 60_000,
    }
    tap = TapOrdoro(config=config, parse_env_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    buffer = io.StringIO()
    ended = "exit 0"
    with contextlib.redirect_stdout(buffer):
        try:
            TapOrdoro(
                config=config, catalog=catalog, state=state, parse_env_config=False
            ).sync_all()
        except Exception as error:
            ended = f"exit 1 ({type(error).__name__}: {str(error)[:90]})"
    emitted: dict[str, set[Any]] = {stream: set() for stream in streams}
    last_state = None
    for line in buffer.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD" and message["stream"] in KEYS:
            emitted[message["stream"]].add(message["record"][KEYS[message["stream"]][1]])
        elif message["type"] == "STATE":
            last_state = message["value"]
    return Outcome(emitted, last_state, ended)


def sandbox(**options: Any) -> Sandbox:
    return Sandbox(SandboxOptions(seed=11, username=USER, password=SECRET, **options))


def list_requests(box: Sandbox, stream: str) -> int:
    return sum(1 for entry in box.requests if entry.path == PATHS[stream])


def full_sync(stream: str, sizes: dict[str, int], reading: dict[str, Any]) -> tuple:
    """A first sync of ``stream``: (expected, emitted, requests, ended)."""
    with sandbox(**sizes, **reading) as box:
        outcome = run_tap(box, (stream,))
        kind = KEYS[stream][0]
        expected = set(getattr(box.store, kind))
        return expected, outcome.emitted[stream], list_requests(box, stream), outcome.ended


def changes_after_a_run(
    stream: str, sizes: dict[str, int], reading: dict[str, Any], busy: bool = False
) -> tuple:
    """A run, then 30 records of ``stream`` changed at once, then the next run: what the next
    run emits of them. ``busy``: 40 more records changed three hours before the first run."""
    with sandbox(**sizes, **reading) as box:
        touch = _toucher(box, stream)
        if busy:
            box.set_commit_lag(3 * 3600)
            for index in range(31, 71):
                touch(index)
            box.set_commit_lag(0)
        touch(0)  # the first run's bookmark is now
        first = run_tap(box, (stream,))
        changed = {touch(index) for index in range(1, 31)}
        box.reset_request_log()
        second = run_tap(box, (stream,), state=first.state)
        return changed, second.emitted[stream] & changed, list_requests(box, stream), second.ended


def _toucher(box: Sandbox, stream: str) -> Callable[[int], Any]:
    kind = KEYS[stream][0]
    keys = sorted(getattr(box.store, kind))

    def touch(index: int) -> Any:
        key = keys[index]
        if stream == "orders":
            box.store.update_order(key, {"internal_notes": f"changed {index}"})
        elif stream == "products":
            box.store.update_product(key, {"name": f"changed {index}"})
        else:
            with box.store.lock:
                box.store.touch(kind, key)
        return key

    return touch


SIZES = {"orders": 620, "products": 620, "purchase_orders": 300, "return_orders": 228}
SCENARIOS: list[tuple[str, Callable[..., tuple], str, dict[str, int], dict[str, Any]]] = [
    *(
        (f"cap-50 full {stream}", full_sync, stream, SIZES, {"page_size_cap": 50})
        for stream in ("orders", "purchase_orders", "products", "return_orders")
    ),
    *(
        (
            f"offsets-ignored full {stream}",
            full_sync,
            stream,
            SIZES,
            {"filter_offsets_ignored": True},
        )
        for stream in ("orders", "purchase_orders", "products")
    ),
    *(
        (
            f"offsets-ignored next-run {stream}",
            changes_after_a_run,
            stream,
            SIZES,
            {"filter_offsets_ignored": True},
        )
        for stream in ("orders", "purchase_orders", "products")
    ),
    *(
        (
            f"offsets-ignored busy-next-run {stream}",
            lambda *args: changes_after_a_run(*args, busy=True),
            stream,
            SIZES,
            {"filter_offsets_ignored": True},
        )
        for stream in ("orders", "purchase_orders", "products")
    ),
    ("window-1000 full orders", full_sync, "orders", {"orders": 1500}, {"result_window": 1000}),
    (
        "window-1000 full products",
        full_sync,
        "products",
        {"products": 1300},
        {"result_window": 1000},
    ),
    (
        "window-1000 full products (5,000)",
        full_sync,
        "products",
        {"products": 5000},
        {"result_window": 1000},
    ),
]


def main(words: list[str]) -> None:
    logging.disable(logging.WARNING)
    build_path("product")  # import check: the tap's packages are importable
    for name, scenario, stream, sizes, reading in SCENARIOS:
        if words and not any(word in name for word in words):
            continue
        expected, emitted, requests, ended = scenario(stream, sizes, reading)
        _, _, baseline, _ = scenario(stream, sizes, {})
        lost = len(expected - emitted)
        print(
            f"{name:42} expected {len(expected):5}  emitted {len(emitted & expected):5}  "
            f"lost {lost:5}  requests {requests:4} (option off: {baseline:4})  {ended}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
