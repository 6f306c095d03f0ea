"""Replaying the same input leaves no duplicate and the same end state, with or without the
ledger; the ledger makes a replay cost no write at all."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

FULL_RUN = (
    "products.singer",
    "inventory.singer",
    "orders.singer",
    "shipments.singer",
)


def snapshot(sandbox, prefix):
    """What the account holds for this test's records (timestamps left out)."""
    store = sandbox.store
    products = {
        sku: (
            product["name"],
            product["price"],
            sorted((entry["id"], entry["on_hand"]) for entry in product["warehouses"]),
        )
        for sku, product in store.products.items()
        if sku.startswith(prefix)
    }
    orders = {
        number: (
            [(line["sku"], line["quantity"]) for line in order["lines"]],
            order["internal_notes"],
            (order.get("shipping_info") or {}).get("tracking_number"),
            order["status"],
        )
        for number, order in store.orders.items()
        if prefix in number
    }
    tracking = [w for w in store.tracking_writes if prefix in w["order_number"]]
    return copy.deepcopy({"products": products, "orders": orders, "tracking": tracking})


def write_requests(sandbox, since):
    return [r for r in sandbox.requests[since:] if r.method in ("POST", "PUT")]


@pytest.mark.parametrize("ledger", ["kept", "deleted"])
def test_replaying_the_same_input_changes_nothing(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target, ledger
):
    config = make_config(warehouse_id=placeholders["WH1"])
    text = fixture_text(*FULL_RUN)
    first = run_target(config, text)
    assert first.error is None, first.stderr
    assert first.dead_letters == []
    before = snapshot(sandbox, prefix)
    assert len(before["products"]) == 3
    assert len(before["orders"]) == 3
    assert len(before["tracking"]) == 2

    if ledger == "deleted":
        Path(config["ledger_path"]).unlink()
    mark = len(sandbox.requests)
    second = run_target(config, text)
    assert second.error is None, second.stderr
    assert snapshot(sandbox, prefix) == before
    assert second.dead_letters == []

    if ledger == "kept":
        # Nothing was sent: every record is the same as the one written minutes ago.
        assert sandbox.requests[mark:] == []
        assert {s: c["unchanged"] for s, c in second.summary["streams"].items()} == {
            "products": 3,
            "inventory": 3,
            "orders": 3,
            "shipments": 2,
        }
    else:
        # Products and stock are re-sent (idempotent PUTs); orders and tracking are looked up
        # and found, so nothing is created or added twice.
        posts = [r for r in write_requests(sandbox, mark) if r.method == "POST"]
        assert [(r.path, r.status) for r in posts] == [("/v3/order", 400)] * 3
        assert second.summary["streams"]["orders"]["unchanged"] == 3
        assert second.summary["streams"]["shipments"]["unchanged"] == 2
    assert [line["action"] for line in second.order_map[-3:]] == ["unchanged"] * 3
    assert second.states == first.states


def test_the_ledger_expires_and_stock_is_sent_again(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    config = make_config(warehouse_id=placeholders["WH1"])
    text = fixture_text("products.singer", "inventory.singer")
    assert run_target(config, text).error is None
    # Someone counts the shelf in Ordoro meanwhile.
    widget = sandbox.store.products[f"{prefix}-WIDGET"]
    next(e for e in widget["warehouses"] if e["id"] == placeholders["WH1"])["on_hand"] = 1

    within_age = run_target(config, text)
    assert within_age.summary["streams"]["inventory"]["unchanged"] == 3

    expired = run_target({**config, "ledger_max_age_hours": 1e-9}, text)
    assert expired.summary["streams"]["inventory"]["written"] == 3
    entry = next(e for e in widget["warehouses"] if e["id"] == placeholders["WH1"])
    assert entry["on_hand"] == 12
