"""Parents and their child streams share one read: children are made from each record as Ordoro
answered it, whatever the parent's selection, and a parent a stream map filters out gives no
child records (as singer-sdk does for children of filtered parents)."""

from __future__ import annotations

from tests.tap_ordoro.helpers import deselect, run_tap, select_only, tap_config

FAMILIES = ("orders", "shipments", "products", "inventory")


def shipped(store, keep=lambda number: True) -> list[str]:
    return sorted(
        number
        for number, order in store.orders.items()
        if order["status"] == "shipped"
        and (order.get("shipping_info") or {}).get("tracking_number")
        and keep(number)
    )


def stock_keys(store, keep=lambda sku: True) -> list[tuple[str, int]]:
    return sorted(
        (sku, entry["id"])
        for sku, product in store.products.items()
        if keep(sku)
        for entry in product["warehouses"]
    )


def test_deselecting_the_parent_fields_a_child_duplicates_leaves_the_child_whole(seeded_sandbox):
    """A user who lands inventory and shipments deselects products.warehouses and
    orders.shipping_info, which they duplicate."""
    config = tap_config(seeded_sandbox)
    catalog = select_only(config, *FAMILIES)
    deselect(catalog, "products", "warehouses")
    deselect(catalog, "orders", "shipping_info")
    run = run_tap(config, catalog=catalog)
    store = seeded_sandbox.store
    assert sorted(run.keys("inventory", "sku", "warehouse_id")) == stock_keys(store)
    assert sorted(run.keys("shipments", "order_number")) == shipped(store)
    # The parents' own records go without the deselected fields.
    assert run.records["products"]
    assert all("warehouses" not in p for p in run.records["products"])
    assert run.records["orders"]
    assert all("shipping_info" not in o for o in run.records["orders"])
    # Control: the children are what a run with every parent field selected emits.
    whole = run_tap(config, streams=FAMILIES)
    for child in ("inventory", "shipments"):
        assert sorted(run.records[child], key=repr) == sorted(whole.records[child], key=repr)


def test_a_parent_a_stream_map_filters_out_gives_no_child_records(seeded_sandbox):
    config = tap_config(
        seeded_sandbox,
        stream_maps={
            "orders": {"__filter__": "order_number[0] != '1'"},
            "products": {"__filter__": "sku[0] != 'A'"},
        },
    )
    run = run_tap(config, streams=FAMILIES)
    store = seeded_sandbox.store
    kept_shipments = shipped(store, lambda number: number[0] != "1")
    kept_stock = stock_keys(store, lambda sku: sku[0] != "A")
    # Control: the filters drop some of each child's records.
    assert len(kept_shipments) < len(shipped(store))
    assert len(kept_stock) < len(stock_keys(store))
    assert sorted(run.keys("shipments", "order_number")) == kept_shipments
    assert sorted(run.keys("inventory", "sku", "warehouse_id")) == kept_stock
    assert all(number[0] != "1" for number in run.keys("orders", "order_number"))
    assert all(sku[0] != "A" for sku in run.keys("products", "sku"))
