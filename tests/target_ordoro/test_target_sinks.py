"""Each stream written into the sandbox: orders, products, inventory, shipments."""

from __future__ import annotations

import json

import pytest

from target_ordoro.writers.identity import COPY_TAG, OWN_TAG


def _orders_with(sandbox, prefix):
    return {number: order for number, order in sandbox.store.orders.items() if prefix in number}


def _writes(sandbox, method, path_start):
    return [r for r in sandbox.requests if r.method == method and r.path.startswith(path_start)]


# Products


def test_products_are_created_then_updated_by_sku(
    sandbox, prefix, make_config, fixture_text, run_target
):
    config = make_config()
    first = run_target(config, fixture_text("products.singer"))
    assert first.error is None
    widget = sandbox.store.products[f"{prefix}-WIDGET"]
    assert widget["name"] == "Widget"
    assert widget["price"] == 12.5  # "12.50" from a CSV-like tap
    assert widget["width"] == 4
    assert widget["length"] == 10
    assert widget["upc"] == "12345678905"
    tricky = sandbox.store.products[f"{prefix}-A/B #1 ü?%"]
    assert tricky["name"] == "Slash, hash, space and unicode"
    assert first.summary["streams"]["products"]["written"] == 3

    second = run_target(config, fixture_text("products_update.singer"))
    assert second.error is None
    widget = sandbox.store.products[f"{prefix}-WIDGET"]
    assert (widget["name"], widget["price"]) == ("Widget Pro", 14)
    assert sandbox.store.products[f"{prefix}-A/B #1 ü?%"]["cost"] == 1.5
    assert sandbox.store.products[f"{prefix}-GADGET"]["name"] == "Gadget"
    counts = second.summary["streams"]["products"]
    # GADGET's record names no field to change: unchanged, like anything Ordoro already holds.
    assert (counts["received"], counts["written"], counts["superseded"]) == (4, 2, 1)
    assert counts["unchanged"] == 1
    assert sum(1 for sku in sandbox.store.products if sku.startswith(prefix)) == 3
    assert second.dead_letters == []


# Inventory


def test_inventory_sets_on_hand_per_warehouse_with_the_default_warehouse(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    config = make_config(warehouse_id=placeholders["WH2"])
    result = run_target(config, fixture_text("products.singer", "inventory.singer"))
    assert result.error is None, result.stderr
    assert result.dead_letters == []

    def on_hand(sku, warehouse_id):
        entries = sandbox.store.products[sku]["warehouses"]
        return next(entry["on_hand"] for entry in entries if entry["id"] == warehouse_id)

    assert on_hand(f"{prefix}-WIDGET", placeholders["WH1"]) == 12
    assert on_hand(f"{prefix}-WIDGET", placeholders["WH2"]) == 7
    tricky = f"{prefix}-A/B #1 ü?%"
    assert on_hand(tricky, placeholders["WH2"]) == 5  # the configured default warehouse
    entry = next(
        e for e in sandbox.store.products[tricky]["warehouses"] if e["id"] == placeholders["WH2"]
    )
    assert entry["location_in_warehouse"] == "Aisle 3"
    assert result.summary["streams"]["inventory"]["written"] == 3


# Orders


def test_manual_orders_keep_company_lines_tags_and_amounts(
    sandbox, prefix, make_config, fixture_text, run_target
):
    result = run_target(make_config(), fixture_text("orders.singer"))
    assert result.error is None, result.stderr
    orders = _orders_with(sandbox, prefix)
    # The tap-form record "1-…-9001" is a source order: its copy keeps the whole number.
    assert sorted(orders) == sorted([f"M-{prefix}-1001", f"M-{prefix}-1002", f"M-1-{prefix}-9001"])

    first = orders[f"M-{prefix}-1001"]
    assert first["shipping_address"]["company"] == "Analytical Engines Ltd"
    assert first["shipping_address"]["zip"] == "78701"
    assert first["billing_address"]["company"] == "AE Accounts Payable"
    assert [(line["sku"], line["quantity"]) for line in first["lines"]] == [
        (f"{prefix}-WIDGET", 2),
        (f"{prefix}-GADGET", 1),
    ]
    assert [tag["text"] for tag in first["tags"]] == ["VIP", OWN_TAG]  # + the target's marker
    assert first["notes_from_customer"] == "Leave at the door"
    assert first["requested_shipping_method"] == "Ground"
    assert first["financial"]["shipping_amount"] == 5
    assert first["financial"]["grand_total"] == 51.5
    assert "sales_channel" not in first

    from_tap = orders[f"M-1-{prefix}-9001"]  # the tap's "1-…-9001" is its order id
    # The record's own cart_order_id lands unchanged (the tap-form record has none); the copy's
    # marker is a tag.
    assert {line["cart_order_id"] for line in from_tap["lines"]} == {None}
    assert {line["cart_order_id"] for line in first["lines"]} == {f"SHOP-{prefix}-1001"}
    assert from_tap["shipping_address"]["company"] == "US Navy"
    assert from_tap["billing_address"]["company"] == "US Navy Billing"
    assert from_tap["lines"][0]["quantity"] == 3
    assert from_tap["financial"]["grand_total"] == 67.5
    assert [tag["text"] for tag in from_tap["tags"]] == ["Wholesale", COPY_TAG]

    mapping = {line["order_id"]: line for line in result.order_map}
    assert mapping[f"{prefix}-1001"]["order_number"] == f"M-{prefix}-1001"
    assert mapping[f"{prefix}-1001"]["action"] == "created"
    assert mapping[f"{prefix}-1001"]["stream"] == "orders"
    assert mapping[f"1-{prefix}-9001"]["order_number"] == f"M-1-{prefix}-9001"
    assert mapping[f"1-{prefix}-9001"]["source_order_number"] == f"1-{prefix}-9001"


def test_orders_under_a_sales_channel_take_its_index(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    cart = sandbox.store.carts[placeholders["CART"]]
    config = make_config(sales_channel_id=placeholders["CART"])
    result = run_target(config, fixture_text("orders.singer"))
    assert result.error is None, result.stderr
    expected = f"{cart['index']}-{prefix}-1001"
    assert expected in sandbox.store.orders
    assert sandbox.store.orders[expected]["sales_channel"]["id"] == placeholders["CART"]
    assert {line["order_number"] for line in result.order_map} == {
        f"{cart['index']}-{prefix}-1001",
        f"{cart['index']}-{prefix}-1002",
        f"{cart['index']}-1-{prefix}-9001",
    }


def test_an_existing_order_is_updated_only_where_ordoro_allows(
    sandbox, prefix, make_config, fixture_text, run_target
):
    text = fixture_text("orders.singer")
    run_target(make_config(), text, fresh=True)
    changed = text.replace('"internal_notes": "first order"', '"internal_notes": "re-checked"')
    # A fresh working directory: the target has to find out from Ordoro that the orders exist.
    mark = len(sandbox.requests)
    result = run_target(make_config(), changed, fresh=True)
    assert result.error is None, result.stderr
    actions = {line["order_id"]: line["action"] for line in result.order_map}
    assert actions == {
        f"{prefix}-1001": "updated",
        f"{prefix}-1002": "unchanged",
        f"1-{prefix}-9001": "unchanged",
    }
    assert result.order_map[0]["changes"] == ["internal_notes"]
    # Nothing was created again: no POST at all.
    assert [r for r in sandbox.requests[mark:] if r.method == "POST"] == []
    assert sandbox.store.orders[f"M-{prefix}-1001"]["internal_notes"] == "re-checked"
    assert len(_orders_with(sandbox, prefix)) == 3
    puts = _writes(sandbox, "PUT", f"/v3/order/M-{prefix}")
    assert [request.path for request in puts] == [f"/v3/order/M-{prefix}-1001"]


# Shipments


@pytest.fixture
def shipped_orders(make_config, fixture_text, run_target):
    """The orders of orders.singer, created."""
    result = run_target(make_config(), fixture_text("orders.singer"))
    assert result.error is None, result.stderr


def _tracking_writes(sandbox, prefix):
    return [write for write in sandbox.store.tracking_writes if prefix in write["order_number"]]


@pytest.mark.usefixtures("shipped_orders")
def test_shipments_add_tracking_once_and_change_it_when_it_differs(
    sandbox, prefix, make_config, fixture_text, run_target
):
    config = make_config()
    added = run_target(config, fixture_text("shipments.singer"))
    assert added.error is None, added.stderr
    info = sandbox.store.orders[f"M-{prefix}-1001"]["shipping_info"]
    assert (info["tracking_number"], info["carrier_name"], info["cost"]) == (
        f"1Z{prefix}A",
        "UPS",
        8.25,
    )
    assert sandbox.store.orders[f"M-{prefix}-1001"]["status"] == "shipped"
    assert [w["method"] for w in _tracking_writes(sandbox, prefix)] == ["POST", "POST"]
    assert all(w["body"]["notify_bill_to"] is False for w in _tracking_writes(sandbox, prefix))

    # A replay in a fresh working directory compares with the orders and adds nothing.
    replay = run_target(make_config(), fixture_text("shipments.singer"), fresh=True)
    assert replay.summary["streams"]["shipments"]["unchanged"] == 2
    assert len(_tracking_writes(sandbox, prefix)) == 2

    changed = run_target(config, fixture_text("shipments_changed.singer"))
    assert changed.error is None, changed.stderr
    counts = changed.summary["streams"]["shipments"]
    assert (counts["written"], counts["unchanged"]) == (1, 1)  # 1002: same instant, other offset
    writes = _tracking_writes(sandbox, prefix)
    assert [w["method"] for w in writes] == ["POST", "POST", "PUT"]
    info = sandbox.store.orders[f"M-{prefix}-1001"]["shipping_info"]
    assert (info["tracking_number"], info["shipping_method"]) == (f"1Z{prefix}B", "Next Day Air")


@pytest.mark.usefixtures("shipped_orders")
def test_notify_tells_customer_and_channel(sandbox, prefix, make_config, fixture_text, run_target):
    result = run_target(make_config(notify=True), fixture_text("shipments.singer"))
    assert result.error is None, result.stderr
    bodies = [w["body"] for w in _tracking_writes(sandbox, prefix)]
    assert bodies
    assert all(b["notify_bill_to"] and b["notify_ship_to"] and b["notify_cart"] for b in bodies)


def test_shipments_find_the_copy_of_their_source_order_through_ordoro(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    """An order copied from another account ("5-…" there) gets this account's number; a later
    run, in another working directory and without the sales channel setting, finds it through
    the marker stored on the order (cart_order_id) and adds the shipment's tracking to it."""
    orders = fixture_text("orders.singer").replace(f"1-{prefix}-9001", f"5-{prefix}-9001")
    run_target(make_config(sales_channel_id=placeholders["CART"]), orders, fresh=True)
    index = sandbox.store.carts[placeholders["CART"]]["index"]
    destination = f"{index}-5-{prefix}-9001"
    assert destination in sandbox.store.orders

    schema = {"type": "SCHEMA", "stream": "shipments", "schema": {"properties": {}}}
    record = {
        "order_number": f"5-{prefix}-9001",
        "tracking_number": f"MAP-{prefix}",
        "carrier_name": "UPS",
        "ship_date": "2024-05-05T12:00:00Z",
    }
    shipment = "\n".join(
        json.dumps(message)
        for message in (schema, {"type": "RECORD", "stream": "shipments", "record": record})
    )
    result = run_target(make_config(), shipment, fresh=True)  # no sales channel this time
    assert result.error is None, result.stderr
    assert result.dead_letters == []
    assert sandbox.store.orders[destination]["shipping_info"]["tracking_number"] == f"MAP-{prefix}"
