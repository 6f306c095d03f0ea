"""The target's writes in flight follow the latency, counted at the sandbox, never timed.

At 20 requests a second and answers that take 800 ms, 16 writes must be in flight to keep the
pace. The API client allows about 21 (``ordoro_core.inflight``), within ``max_workers``, the
ceiling. The old fixed 4 writes at a time could not pass 4: the control runs the same feed
with ``max_workers: 4`` and sees at most 4.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from ordoro_sandbox.inflight import InFlight
from tests.target_ordoro.conftest import PASSWORD, USERNAME


@pytest.fixture
def slow_sandbox() -> Iterator[Sandbox]:
    """120 products (240 on-hand rows) answered after 800 ms."""
    options = SandboxOptions(
        seed=4, username=USERNAME, password=PASSWORD, products=120, orders=0, latency_ms=800
    )
    with Sandbox(options) as sandbox:
        yield sandbox


def on_hand_feed(sandbox: Sandbox, rows: int) -> str:
    """An inventory feed changing the on-hand of ``rows`` (SKU, warehouse) pairs."""
    pairs = sorted(
        (product["sku"], entry["id"], entry["on_hand"])
        for product in sandbox.store.products.values()
        for entry in product["warehouses"]
    )[:rows]
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
    for sku, warehouse_id, on_hand in pairs:
        record = {"sku": sku, "warehouse_id": warehouse_id, "on_hand": on_hand + 3}
        lines.append(json.dumps({"type": "RECORD", "stream": "inventory", "record": record}))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("max_workers", "at_least", "at_most"),
    [(None, 12, 32), (4, 1, 4)],
    ids=["adaptive", "control-fixed-4"],
)
def test_writes_in_flight_grow_with_the_latency(
    slow_sandbox, tmp_path, run_target, max_workers, at_least, at_most
):
    config = {
        "username": USERNAME,
        "password": PASSWORD,
        "api_url": slow_sandbox.url,
        "requests_per_minute": 1200,
        "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
        "order_map_path": str(tmp_path / "order-map.jsonl"),
    }
    if max_workers is not None:
        config["max_workers"] = max_workers
    result = run_target(config, on_hand_feed(slow_sandbox, 80))
    assert result.returncode in (None, 0), result.stderr[-2000:]
    assert result.dead_letters == []
    writes = [r for r in slow_sandbox.requests if r.method in ("POST", "PUT")]
    assert len(writes) == 80
    assert at_least <= InFlight.of(writes).peak <= at_most
