"""Seeded data: reproducible, realistic, spanning the DST change, inventory consistent."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from ordoro_core.timestamps import parse_instant, to_account_iso
from ordoro_sandbox import SandboxOptions, Store
from ordoro_sandbox.seed import build_store
from ordoro_sandbox.seed_words import AWKWARD_SKUS

STORE_KINDS = (
    "orders",
    "products",
    "warehouses",
    "carts",
    "suppliers",
    "purchase_orders",
    "return_orders",
)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")
SEED_FROM = datetime(2024, 10, 14, tzinfo=timezone.utc)
SEED_TO = datetime(2024, 11, 22, tzinfo=timezone.utc)


def dump(store: Store) -> str:
    return json.dumps({kind: getattr(store, kind) for kind in STORE_KINDS}, sort_keys=False)


@pytest.fixture(scope="module")
def store() -> Store:
    return build_store(SandboxOptions(seed=1))


def test_same_seed_gives_byte_identical_data():
    assert dump(build_store(SandboxOptions(seed=7))) == dump(build_store(SandboxOptions(seed=7)))


def test_different_seed_gives_different_data():
    assert dump(build_store(SandboxOptions(seed=7))) != dump(build_store(SandboxOptions(seed=8)))


def test_empty_account_keeps_warehouse_and_cart_ids(store):
    empty = build_store(SandboxOptions(seed=1, empty=True))
    assert empty.warehouses == store.warehouses
    assert empty.carts == store.carts
    assert empty.orders == empty.products == empty.suppliers == {}
    assert empty.purchase_orders == empty.return_orders == {}


def test_sizes_follow_the_options():
    sized = build_store(
        SandboxOptions(
            seed=2, products=25, orders=30, purchase_orders=4, return_orders=3, suppliers=2
        )
    )
    assert len(sized.products) == 25
    assert len(sized.orders) == 30
    assert len(sized.purchase_orders) == 4
    assert len(sized.return_orders) == 3
    assert len(sized.suppliers) == 2
    assert len(sized.warehouses) == 3


def test_default_sizes(store):
    assert len(store.products) == 300
    assert len(store.orders) == 400
    assert len(store.purchase_orders) == 20
    assert len(store.return_orders) == 15
    assert len(store.suppliers) == 4


def test_warehouses_and_sales_channels(store):
    warehouses = list(store.warehouses.values())
    assert [w["is_default_location"] for w in warehouses] == [True, False, False]
    carts = sorted(store.carts.values(), key=lambda c: c["index"])
    assert [(c["vendor"], c["index"]) for c in carts] == [("shopify", 1), ("amazon", 2)]


def test_repeated_dst_hour_holds_orders_and_products_with_both_offsets(store):
    for records, field in ((store.orders, "updated_date"), (store.products, "updated")):
        stamps = [r[field] for r in records.values() if r[field].startswith("2024-11-03T01:")]
        cdt = [s for s in stamps if s.endswith("-05:00")]
        cst = [s for s in stamps if s.endswith("-06:00")]
        assert len(cdt) >= 2
        assert len(cst) >= 2
        # e.g. 01:30-05:00 (earlier) and 01:10-06:00 (later): text order and time order disagree
        assert any(a > b and parse_instant(a) < parse_instant(b) for a in cdt for b in cst)


def every_timestamp(store: Store):
    fields = ("created", "updated", "created_date", "updated_date", "order_placed_date")
    for kind in ("orders", "products", "suppliers", "purchase_orders", "return_orders"):
        for record in getattr(store, kind).values():
            for field in fields:
                if field in record:
                    yield record[field]


def test_timestamps_are_account_local_with_microseconds_in_the_seed_range(store):
    stamps = list(every_timestamp(store))
    assert len(stamps) > 1000
    for stamp in stamps:
        assert TIMESTAMP.match(stamp), stamp
        instant = parse_instant(stamp)
        assert to_account_iso(instant) == stamp
        assert SEED_FROM <= instant <= SEED_TO


def test_updated_is_never_before_created(store):
    pairs = [(o["created_date"], o["updated_date"]) for o in store.orders.values()]
    pairs += [(p["created"], p["updated"]) for p in store.products.values()]
    pairs += [(po["created"], po["updated"]) for po in store.purchase_orders.values()]
    pairs += [(ro["created_date"], ro["updated_date"]) for ro in store.return_orders.values()]
    assert all(parse_instant(created) <= parse_instant(updated) for created, updated in pairs)


def test_orders_cover_every_status_and_channel(store):
    statuses = Counter(order["status"] for order in store.orders.values())
    assert set(statuses) == {
        "awaiting_fulfillment",
        "shipped",
        "cancelled",
        "dropshipment_requested",
    }
    carts_by_index = {cart["index"]: cart["id"] for cart in store.carts.values()}
    prefixes = Counter(number.split("-", 1)[0] for number in store.orders)
    assert set(prefixes) == {"1", "2", "M"}
    for number, order in store.orders.items():
        assert order["order_number"] == number
        prefix = number.split("-", 1)[0]
        if prefix == "M":
            assert "sales_channel" not in order
        else:
            assert order["sales_channel"]["id"] == carts_by_index[int(prefix)]
        assert 1 <= len(order["lines"]) <= 4
        assert {line["sku"] for line in order["lines"]} <= set(store.products)
        if order["status"] == "cancelled":
            assert order["cancelled_date"]


def test_orders_have_realistic_details(store):
    orders = list(store.orders.values())
    assert any(o["shipping_address"]["company"] for o in orders)
    assert any(o["shipping_address"]["company"] is None for o in orders)
    assert any(o["tags"] for o in orders)
    assert any(o["notes_from_customer"] for o in orders)
    assert any(o["internal_notes"] for o in orders)
    assert any(o["return_order_reference_ids"] for o in orders)


def test_shipped_orders_carry_tracking_and_packages(store):
    shipped = [o for o in store.orders.values() if o["status"] == "shipped"]
    assert shipped
    multi_package = 0
    for order in shipped:
        info = order["shipping_info"]
        for field in ("tracking_number", "carrier_name", "shipping_method", "ship_date"):
            assert info[field], field
        assert isinstance(info["cost"], float)
        assert parse_instant(order["created_date"]) <= parse_instant(info["ship_date"])
        assert parse_instant(info["ship_date"]) <= parse_instant(order["updated_date"])
        packages = [p["tracking_number"] for p in info["packages"]]
        assert packages[0] == info["tracking_number"]
        assert len(set(packages)) == len(packages)
        multi_package += len(packages) > 1
    assert multi_package >= 5
    unshipped = [o for o in store.orders.values() if o["status"] != "shipped"]
    assert all(o["shipping_info"] == {} for o in unshipped)


def test_awkward_skus_are_seeded(store):
    assert set(AWKWARD_SKUS.values()) <= set(store.products)
    assert any(not sku.isascii() for sku in store.products)


def test_products_have_every_warehouse_tags_suppliers_and_images(store):
    products = list(store.products.values())
    for product in products:
        assert [e["id"] for e in product["warehouses"]] == list(store.warehouses)
        assert all(e["cart"] is None for e in product["warehouses"])
    assert any(p["tags"] for p in products)
    assert any(p["suppliers"] for p in products)
    assert any(p["image_url"] for p in products)
    assert any(p["archive_date"] for p in products)


def test_inventory_is_consistent_with_open_orders_and_purchase_orders(store):
    committed: Counter = Counter()
    for order in store.orders.values():
        if order["status"] == "awaiting_fulfillment":
            for line in order["lines"]:
                committed[line["sku"], order["warehouse"]["id"]] += line["quantity"]
    on_order: Counter = Counter()
    for po in store.purchase_orders.values():
        if po["status"] in ("unsent", "sent", "partial"):
            for item in po["items"]:
                key = (item["product"]["sku"], po["warehouse"]["id"])
                on_order[key] += item["quantity"] - item["quantity_received"]
    assert sum(committed.values()) > 0
    assert sum(on_order.values()) > 0
    for sku, product in store.products.items():
        for entry in product["warehouses"]:
            assert entry["committed"] == committed[sku, entry["id"]]
            assert entry["available"] == entry["on_hand"] - entry["committed"]
            assert entry["allocated"] + entry["unallocated"] == entry["committed"]
            assert entry["po_committed"] == on_order[sku, entry["id"]]
        totals = {
            "total_on_hand": "on_hand",
            "total_committed": "committed",
            "total_available": "available",
            "total_allocated": "allocated",
            "total_unallocated": "unallocated",
            "po_total_committed": "po_committed",
        }
        for total, field in totals.items():
            assert product[total] == sum(e[field] for e in product["warehouses"])
        assert product["available_on_hand"] == product["total_available"]
        assert product["to_be_shipped"] == product["total_committed"]
        assert product["on_pos"] == product["po_total_committed"]


def test_purchase_and_return_orders_point_at_real_records(store):
    for po in store.purchase_orders.values():
        assert po["supplier"]["id"] in store.suppliers
        assert po["warehouse"]["id"] in store.warehouses
        assert all(item["product"]["sku"] in store.products for item in po["items"])
    for reference_id, ro in store.return_orders.items():
        order = store.orders[ro["original_order_number"]]
        assert order["status"] == "shipped"
        assert reference_id in order["return_order_reference_ids"]


# -- order identity scenarios (target-ordoro's tests use them) -----------------------------


def test_shared_order_ids_give_every_channel_its_own_order_and_leave_the_rest_as_it_was():
    plain = build_store(SandboxOptions(seed=5, products=20, orders=10))
    scenario = build_store(SandboxOptions(seed=5, products=20, orders=10, shared_order_ids=2))
    added = set(scenario.orders) - set(plain.orders)
    assert added == {"1-8001", "2-8001", "M-8001", "1-8002", "2-8002", "M-8002"}
    assert {n: o for n, o in scenario.orders.items() if n not in added} == plain.orders
    trackings = {scenario.orders[n]["shipping_info"]["tracking_number"] for n in added}
    assert len(trackings) == len(added)  # each shipped with its own tracking
    assert scenario.orders["M-8001"]["lines"][0]["cart_order_id"] is None
    assert dump(scenario) == dump(
        build_store(SandboxOptions(seed=5, products=20, orders=10, shared_order_ids=2))
    )


def test_decoy_orders_are_unshipped_orders_of_the_account_even_when_it_is_empty():
    store = build_store(SandboxOptions(seed=5, empty=True, decoy_orders=("1-8001", "M-1-8001")))
    assert set(store.orders) == {"1-8001", "M-1-8001"}
    for order in store.orders.values():
        assert order["status"] == "awaiting_fulfillment"
        assert order["shipping_info"] == {}
    assert store.orders["1-8001"]["sales_channel"]["id"] == min(store.carts)
    with pytest.raises(ValueError, match="no sales channel with index 9"):
        build_store(SandboxOptions(seed=5, empty=True, decoy_orders=("9-1",)))
