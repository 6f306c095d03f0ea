"""Replaying the same input leaves no duplicate and the same end state, and costs no write: every
run in a fresh working directory, so only what Ordoro holds decides (issue 10)."""

from __future__ import annotations

import copy

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
    return [r for r in sandbox.requests[since:] if r.method in ("POST", "PUT", "DELETE")]


def test_replaying_the_same_input_changes_nothing_and_writes_nothing(
    own_sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    config = make_config(api_url=own_sandbox.url, warehouse_id=placeholders["WH1"])
    text = fixture_text(*FULL_RUN)
    first = run_target(config, text, fresh=True)
    assert first.error is None, first.stderr
    assert first.dead_letters == []
    before = snapshot(own_sandbox, prefix)
    assert len(before["products"]) == 3
    assert len(before["orders"]) == 3
    assert len(before["tracking"]) == 2

    mark = len(own_sandbox.requests)
    second = run_target(config, text, fresh=True)
    assert second.error is None, second.stderr
    assert snapshot(own_sandbox, prefix) == before
    assert second.dead_letters == []
    # Everything is read from Ordoro and found as the input says: no write request at all.
    assert write_requests(own_sandbox, mark) == []
    assert {s: c["unchanged"] for s, c in second.summary["streams"].items()} == {
        "products": 3,
        "inventory": 3,
        "orders": 3,
        "shipments": 2,
    }
    assert [line["action"] for line in second.order_map] == ["unchanged"] * 3
    assert second.states == first.states


def test_a_replay_restores_what_changed_in_ordoro_meanwhile(
    own_sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    """No ledger decides: a row written yesterday is judged against Ordoro today."""
    config = make_config(api_url=own_sandbox.url, warehouse_id=placeholders["WH1"])
    text = fixture_text("products.singer", "inventory.singer")
    assert run_target(config, text, fresh=True).error is None
    # Someone counts the shelf in Ordoro meanwhile.
    widget = own_sandbox.store.products[f"{prefix}-WIDGET"]
    next(e for e in widget["warehouses"] if e["id"] == placeholders["WH1"])["on_hand"] = 1

    mark = len(own_sandbox.requests)
    again = run_target(config, text, fresh=True)
    assert again.error is None, again.stderr
    counts = again.summary["streams"]["inventory"]
    assert (counts["written"], counts["unchanged"]) == (1, 2)
    assert [(r.method, r.path) for r in write_requests(own_sandbox, mark)] == [
        ("PUT", f"/product/{prefix}-WIDGET/warehouse/{placeholders['WH1']}/")
    ]
    entry = next(e for e in widget["warehouses"] if e["id"] == placeholders["WH1"])
    assert entry["on_hand"] == 12
