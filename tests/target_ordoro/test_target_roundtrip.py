"""``tap-ordoro | target-ordoro`` copies one account into another (an empty account of the same
seed: same warehouses and sales channels)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordoro_core.sandbox import Sandbox, SandboxOptions

BIN = Path(sys.executable).parent
ROUND_TRIP_SEED = 23
SIZES = {"products": 60, "orders": 80, "purchase_orders": 5, "return_orders": 5}


@pytest.fixture(scope="module")
def source(password) -> Iterator[Sandbox]:
    """A seeded account to copy from."""
    options = SandboxOptions(seed=ROUND_TRIP_SEED, username="source", password=password, **SIZES)
    with Sandbox(options) as server:
        yield server


@pytest.fixture(scope="module")
def destination(password) -> Iterator[Sandbox]:
    """An empty account of the same seed to copy into."""
    options = SandboxOptions(
        seed=ROUND_TRIP_SEED, username="destination", password=password, empty=True, **SIZES
    )
    with Sandbox(options) as server:
        yield server


def stock(sandbox: Sandbox) -> dict[tuple[str, int], float]:
    return {
        (sku, entry["id"]): entry["on_hand"]
        for sku, product in sandbox.store.products.items()
        for entry in product["warehouses"]
    }


def pipe(tap_config: Path, target_config: Path, log: Path) -> subprocess.CompletedProcess:
    """Run ``tap-ordoro --config A | target-ordoro --config B``."""
    with (
        log.open("w", encoding="utf-8") as tap_log,
        subprocess.Popen(
            [str(BIN / "tap-ordoro"), "--config", str(tap_config)],
            stdout=subprocess.PIPE,
            stderr=tap_log,
        ) as tap,
    ):
        target = subprocess.run(
            [str(BIN / "target-ordoro"), "--config", str(target_config)],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        tap.stdout.close()
        assert tap.wait(timeout=60) == 0, log.read_text()
    return target


def test_tap_to_target_copies_products_stock_orders_and_tracking(
    source, destination, password, tmp_path
):
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "username": "source",
                "password": password,
                "api_url": source.url,
                "requests_per_minute": 100_000,
            }
        )
    )
    target_config = tmp_path / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "username": "destination",
                "password": password,
                "api_url": destination.url,
                "requests_per_minute": 100_000,
                "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
                "ledger_path": str(tmp_path / "ledger.sqlite3"),
                "order_map_path": str(tmp_path / "order-map.jsonl"),
            }
        )
    )

    result = pipe(tap_config, target_config, tmp_path / "tap.log")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "dead-letter.jsonl").exists()
    assert result.stdout.strip(), "the target relays the tap's final STATE"

    assert set(destination.store.products) == set(source.store.products)
    assert stock(destination) == stock(source)
    assert len(destination.store.orders) == len(source.store.orders) == SIZES["orders"]
    # Orders keep their ids; without a sales channel they are manual ("M-") in the copy.
    copied = {number.split("-", 1)[1] for number in destination.store.orders}
    assert copied == {number.split("-", 1)[1] for number in source.store.orders}
    shipped = {
        number.split("-", 1)[1]: order["shipping_info"]["tracking_number"]
        for number, order in source.store.orders.items()
        if (order.get("shipping_info") or {}).get("tracking_number")
    }
    assert shipped
    assert {
        number.split("-", 1)[1]: order["shipping_info"]["tracking_number"]
        for number, order in destination.store.orders.items()
        if (order.get("shipping_info") or {}).get("tracking_number")
    } == shipped
    assert len(destination.store.tracking_writes) == len(shipped)

    # The same copy again: the ledger knows it all, so nothing is written.
    before = len(destination.requests)
    again = pipe(tap_config, target_config, tmp_path / "tap-again.log")
    assert again.returncode == 0, again.stderr
    assert [r for r in destination.requests[before:] if r.method != "GET"] == []
    assert len(destination.store.orders) == SIZES["orders"]
    assert len(destination.store.tracking_writes) == len(shipped)
