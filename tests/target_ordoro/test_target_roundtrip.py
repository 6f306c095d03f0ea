"""``tap-ordoro | target-ordoro`` copies one account into another (an empty account of the same
seed: same warehouses and sales channels)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from target_ordoro.writers.identity import COPY_TAG

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


def pipe(tap_config: Path, target_config: Path, workdir: Path) -> subprocess.CompletedProcess:
    """Run ``tap-ordoro --config A | target-ordoro --config B`` in ``workdir`` (a fresh one per
    run, as in a new container: nothing a previous run left there is seen)."""
    workdir.mkdir()
    config = json.loads(target_config.read_text())
    config.update(
        dead_letter_path=str(workdir / "dead-letter.jsonl"),
        order_map_path=str(workdir / "order-map.jsonl"),
    )
    run_config = workdir / "target.json"
    run_config.write_text(json.dumps(config))
    with (
        (workdir / "tap.log").open("w", encoding="utf-8") as tap_log,
        subprocess.Popen(
            [str(BIN / "tap-ordoro"), "--config", str(tap_config)],
            stdout=subprocess.PIPE,
            stderr=tap_log,
            cwd=workdir,
        ) as tap,
    ):
        target = subprocess.run(
            [str(BIN / "target-ordoro"), "--config", str(run_config)],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            cwd=workdir,
        )
        tap.stdout.close()
        assert tap.wait(timeout=60) == 0, (workdir / "tap.log").read_text()
    return target


def summary_of(result: subprocess.CompletedProcess) -> dict:
    lines = [line for line in result.stderr.splitlines() if '"target_ordoro_summary"' in line]
    return json.loads(lines[-1])


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
            }
        )
    )

    result = pipe(tap_config, target_config, tmp_path / "run-1")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "run-1" / "dead-letter.jsonl").exists()
    assert result.stdout.strip(), "the target relays the tap's final STATE"

    assert set(destination.store.products) == set(source.store.products)
    assert stock(destination) == stock(source)
    assert len(destination.store.orders) == len(source.store.orders) == SIZES["orders"]
    # Each source order has its own copy: its whole source number becomes the copy's order_id
    # (manual orders here: "M-<source number>"), and the copy carries that number as its marker.
    assert {number.removeprefix("M-") for number in destination.store.orders} == set(
        source.store.orders
    )
    for number, order in destination.store.orders.items():
        source_order = source.store.orders[number.removeprefix("M-")]
        assert {line["cart_order_id"] for line in order["lines"]} == {
            line["cart_order_id"] for line in source_order["lines"]
        }
        assert COPY_TAG in {tag["text"] for tag in order["tags"]}
    shipped = {
        number: order["shipping_info"]["tracking_number"]
        for number, order in source.store.orders.items()
        if (order.get("shipping_info") or {}).get("tracking_number")
    }
    assert shipped
    assert {
        number.removeprefix("M-"): order["shipping_info"]["tracking_number"]
        for number, order in destination.store.orders.items()
        if (order.get("shipping_info") or {}).get("tracking_number")
    } == shipped
    assert len(destination.store.tracking_writes) == len(shipped)

    # The same copy again, in a new working directory: everything is found in Ordoro as the
    # source says, so nothing is created or written twice.
    before = len(destination.requests)
    again = pipe(tap_config, target_config, tmp_path / "run-2")
    assert again.returncode == 0, again.stderr
    assert [r for r in destination.requests[before:] if r.method != "GET"] == []
    assert len(destination.store.orders) == SIZES["orders"]
    assert len(destination.store.tracking_writes) == len(shipped)
    for stream, counts in summary_of(again)["streams"].items():
        assert counts["received"] == counts["unchanged"], stream
        assert counts["received"] > 0, stream
