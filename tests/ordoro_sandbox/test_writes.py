"""Write endpoints: orders, shipping info, products, inventory; bodies the spec forbids."""

from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest

from ordoro_core.timestamps import parse_instant
from ordoro_sandbox import SandboxOptions

SANDBOX_OPTIONS = SandboxOptions(seed=5, products=30, orders=30)

_numbers = itertools.count(1)


@pytest.fixture
def api(module_api):
    return module_api


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def address(**overrides) -> dict:
    body = {
        "name": "Pat Doe",
        "street1": "1 Main St",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
        "country": "US",
        "phone": "512-555-0101",
        "email": "pat@example.com",
    }
    body.update(overrides)
    return body


def order_body(order_id: str, *skus: str, **extra) -> dict:
    body = {
        "order_id": order_id,
        "shipping_address": address(company="Doe Widgets LLC"),
        "billing_address": address(),
        "lines": [
            {"quantity": 2, "item_price": 3.5, "product": {"sku": sku, "name": f"Item {sku}"}}
            for sku in skus or ("WRITE-TEST-SKU",)
        ],
    }
    body.update(extra)
    return body


def tracking_body(**overrides) -> dict:
    body = {
        "tracking_number": "1ZTEST0001",
        "ship_date": "2024-11-21T10:00:00-06:00",
        "carrier_name": "UPS",
        "shipping_method": "ups_ground",
        "cost": 8.25,
        "notify_bill_to": False,
        "notify_ship_to": False,
        "notify_cart": False,
    }
    body.update(overrides)
    return body


def assert_400(response, param: str | None) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["param"] == param, response.json()


# -- POST /v3/order -----------------------------------------------------------------------


def test_post_manual_order_creates_an_m_order(api):
    order_id = unique("manual")
    response = api.post("/v3/order", order_body(order_id, tags=[{"text": "Rush", "color": "#f90"}]))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["order_number"] == f"M-{order_id}"
    assert order["status"] == "awaiting_fulfillment"
    assert "sales_channel" not in order
    assert order["shipping_address"]["company"] == "Doe Widgets LLC"
    assert order["billing_address"]["company"] is None
    assert order["lines"][0]["sku"] == "WRITE-TEST-SKU"
    assert order["lines"][0]["quantity"] == 2
    assert order["tags"][0]["text"] == "Rush"
    assert order["tags"][0]["id"] == api.sandbox.store.order_tags["Rush"]["id"]
    assert api.sandbox.store.orders[order["order_number"]] == order
    assert api.get(f"/v3/order/{order['order_number']}").json() == order


@pytest.mark.parametrize(("vendor", "prefix"), [("shopify", "1"), ("amazon", "2")])
def test_post_channel_order_is_numbered_with_the_cart_index(api, vendor, prefix):
    cart = next(c for c in api.sandbox.store.carts.values() if c["vendor"] == vendor)
    order_id = unique(vendor)
    response = api.post("/v3/order", order_body(order_id, cart=cart["id"], cart_order_id="X1"))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["order_number"] == f"{prefix}-{order_id}"
    assert order["sales_channel"] == {"id": cart["id"], "link": f"/cart/{cart['id']}"}
    assert order["lines"][0]["cart_order_id"] == "X1"


def test_post_order_with_unknown_cart_is_400(api):
    assert_400(api.post("/v3/order", order_body(unique("c"), cart=1)), "cart")


def test_duplicate_order_id_is_400_naming_order_id(api):
    order_id = unique("dup")
    assert api.post("/v3/order", order_body(order_id)).status_code == 201
    response = api.post("/v3/order", order_body(order_id))
    assert_400(response, "order_id")
    assert "already exists" in response.json()["error_message"]
    assert order_id in response.json()["error_message"]


def test_order_with_unknown_sku_creates_the_product_and_commits_stock(api):
    sku = unique("NEW SKU/x")
    order = api.post("/v3/order", order_body(unique("newsku"), sku)).json()
    product = api.get(f"/product/{quote(sku, safe='')}/").json()
    assert product["name"] == f"Item {sku}"
    assert {e["id"] for e in product["warehouses"]} == set(api.sandbox.store.warehouses)
    assert product["total_on_hand"] == 0
    assert product["total_committed"] == 2
    assert product["total_available"] == -2
    entry = next(e for e in product["warehouses"] if e["id"] == order["warehouse"]["id"])
    assert entry["committed"] == 2


def test_order_date_without_offset_is_utc_as_the_spec_example_shows(api):
    order = api.post(
        "/v3/order", order_body(unique("date"), order_date="2015-12-09T12:01:00.855700")
    ).json()
    assert order["order_placed_date"] == "2015-12-09T06:01:00.855700-06:00"


@pytest.mark.parametrize(
    ("mutate", "param"),
    [
        (lambda b: b.pop("lines"), "lines"),
        (lambda b: b.pop("shipping_address"), "shipping_address"),
        (lambda b: b.pop("order_id"), "order_id"),
        (lambda b: b.update(surprise=1), "surprise"),
        (lambda b: b.update(status="cancelled"), "status"),
        (lambda b: b["lines"][0].pop("product"), "lines"),
        (lambda b: b["lines"][0]["product"].pop("name"), "lines"),
        (lambda b: b["lines"][0].update(quantity="two"), "lines"),
        (lambda b: b.update(order_date="next tuesday"), "order_date"),
        (lambda b: b.update(warehouse_id=1), "warehouse_id"),
    ],
    ids=[
        "no-lines",
        "no-shipping-address",
        "no-order-id",
        "unknown-field",
        "bad-status",
        "line-without-product",
        "product-without-name",
        "quantity-not-integer",
        "bad-date",
        "unknown-warehouse",
    ],
)
def test_post_order_bodies_the_spec_forbids_are_400(api, mutate, param):
    body = order_body(unique("bad"))
    mutate(body)
    before = len(api.sandbox.store.orders)
    assert_400(api.post("/v3/order", body), param)
    assert len(api.sandbox.store.orders) == before


@pytest.mark.parametrize("data", [b"", b"{not json", b"[1, 2]", b'"text"'])
def test_post_order_non_object_bodies_are_400(api, data):
    response = api.request(
        "POST", "/v3/order", data=data, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error_message", "param"}


# -- PUT /v3/order/{order_number} ---------------------------------------------------------


def test_put_order_updates_notes_and_dates(api):
    order = api.post("/v3/order", order_body(unique("put"))).json()
    path = f"/v3/order/{order['order_number']}"
    response = api.put(
        path,
        {
            "notes_from_customer": "ring twice",
            "internal_notes": "vip",
            "batch_reference_id": "B-7",
            "ship_by_date": "2024-12-01T12:00:00-06:00",
            "deliver_by_date": None,
            "weight": 10.5,
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["notes_from_customer"] == "ring twice"
    assert updated["internal_notes"] == "vip"
    assert updated["batch_reference_id"] == "B-7"
    assert updated["ship_by_date"] == "2024-12-01T12:00:00.000000-06:00"
    assert updated["deliver_by_date"] is None
    assert updated["weight"] == 10.5
    assert parse_instant(updated["updated_date"]) > parse_instant(order["updated_date"])


def test_put_order_rejects_unknown_fields_and_unknown_orders(api):
    order_number = next(iter(api.sandbox.store.orders))
    assert_400(api.put(f"/v3/order/{order_number}", {"status": "shipped"}), "status")
    response = api.put("/v3/order/M-nope", {"internal_notes": "x"})
    assert response.status_code == 404
    assert response.json()["param"] == "order_number"


# -- shipping_info ------------------------------------------------------------------------


def test_post_shipping_info_ships_the_order_and_logs_the_write(api):
    sku = unique("SHIPSKU")
    order = api.post("/v3/order", order_body(unique("ship"), sku)).json()
    number = order["order_number"]
    assert api.get(f"/product/{sku}/").json()["total_committed"] == 2
    writes_before = len(api.sandbox.store.tracking_writes)
    response = api.post(f"/v3/order/{number}/shipping_info", tracking_body())
    assert response.status_code == 201, response.text
    info = response.json()
    assert info["tracking_number"] == "1ZTEST0001"
    assert info["carrier_name"] == "UPS"
    assert info["ship_date"] == "2024-11-21T10:00:00.000000-06:00"
    assert info["packages"][0]["tracking_number"] == "1ZTEST0001"
    shipped = api.get(f"/v3/order/{number}").json()
    assert shipped["status"] == "shipped"
    assert shipped["shipping_info"] == info
    assert "1ZTEST0001" in shipped["comments"][-1]["text"]
    assert parse_instant(shipped["updated_date"]) > parse_instant(order["updated_date"])
    writes = api.sandbox.store.tracking_writes[writes_before:]
    assert writes == [{"order_number": number, "method": "POST", "body": tracking_body()}]
    assert api.get(f"/product/{sku}/").json()["total_committed"] == 0

    put = api.put(f"/v3/order/{number}/shipping_info", tracking_body(tracking_number="NEW-2"))
    assert put.status_code == 200, put.text
    assert put.json()["tracking_number"] == "NEW-2"
    assert api.sandbox.store.orders[number]["shipping_info"]["tracking_number"] == "NEW-2"
    assert api.sandbox.store.tracking_writes[-1]["method"] == "PUT"


@pytest.mark.parametrize(
    ("drop", "param"), [("tracking_number", "tracking_number"), ("carrier_name", "carrier_name")]
)
def test_shipping_info_without_required_fields_is_400(api, drop, param):
    order_number = next(iter(api.sandbox.store.orders))
    body = tracking_body()
    body.pop(drop)
    writes_before = len(api.sandbox.store.tracking_writes)
    assert_400(api.post(f"/v3/order/{order_number}/shipping_info", body), param)
    assert len(api.sandbox.store.tracking_writes) == writes_before


def test_shipping_info_for_an_unknown_order_is_404(api):
    response = api.post("/v3/order/M-missing/shipping_info", tracking_body())
    assert response.status_code == 404
    assert response.json()["param"] == "order_number"


# -- products -----------------------------------------------------------------------------


def test_post_product_creates_it_in_every_warehouse(api):
    sku = unique("NEW-PRODUCT")
    response = api.post(
        "/product/",
        {
            "sku": sku,
            "name": "Brand New",
            "price": 9.99,
            "cost": 4.0,
            "physical_on_hand": 12,
            "tags": [{"id": 1, "name": "New", "color": "#000"}],
            "images": [{"url": "https://example.com/a.jpg", "is_default": True}],
            "amazon_extra_info": {"asin": "B000000001"},
        },
    )
    assert response.status_code == 201, response.text
    product = response.json()
    assert product["sku"] == sku
    assert product["name"] == "Brand New"
    assert product["image_url"] == "https://example.com/a.jpg"
    assert {e["id"] for e in product["warehouses"]} == set(api.sandbox.store.warehouses)
    default = api.sandbox.store.default_warehouse()["id"]
    assert {e["id"]: e["on_hand"] for e in product["warehouses"]} == {
        w: (12 if w == default else 0) for w in api.sandbox.store.warehouses
    }
    assert product["total_on_hand"] == 12
    assert api.get(f"/product/{sku}/").json() == product


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "no sku"}, "sku"),
        ({"sku": "only-sku"}, "name"),
        ({"sku": "x", "name": "y", "price": "cheap"}, "price"),
        ({"sku": "x", "name": "y", "images": [{"url": 1}]}, "images"),
        ({"sku": "x", "name": "y", "tags": [{"name": "no id"}]}, "tags"),
    ],
)
def test_post_product_bodies_the_spec_forbids_are_400(api, body, param):
    assert_400(api.post("/product/", body), param)


def test_post_product_with_an_existing_sku_is_400(api):
    sku = next(iter(api.sandbox.store.products))
    assert_400(api.post("/product/", {"sku": sku, "name": "again"}), "sku")


def test_put_product_updates_fields_and_updated(api):
    sku = next(iter(api.sandbox.store.products))
    before = api.sandbox.store.products[sku]["updated"]
    response = api.put(f"/product/{quote(sku, safe='')}/", {"name": "Renamed", "price": 1.25})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"
    assert response.json()["price"] == 1.25
    assert parse_instant(response.json()["updated"]) > parse_instant(before)
    assert_400(api.put(f"/product/{quote(sku, safe='')}/", {"weight": "heavy"}), "weight")


def test_put_unknown_product_is_404(api):
    response = api.put("/product/NOPE/", {"name": "x"})
    assert response.status_code == 404
    assert response.json()["param"] == "sku"


# -- inventory ----------------------------------------------------------------------------


def test_put_product_warehouse_sets_and_adjusts_on_hand(api):
    sku = next(iter(api.sandbox.store.products))
    warehouse_id = list(api.sandbox.store.warehouses)[1]
    path = f"/product/{quote(sku, safe='')}/warehouse/{warehouse_id}/"
    set_response = api.put(path, {"on_hand": 40, "location_in_warehouse": "Z9"})
    assert set_response.status_code == 200, set_response.text
    entry = next(e for e in set_response.json()["warehouses"] if e["id"] == warehouse_id)
    assert entry["on_hand"] == 40
    assert entry["physical_on_hand"] == 40
    assert entry["location_in_warehouse"] == "Z9"
    assert entry["available"] == 40 - entry["committed"]
    adjusted = api.put(path, {"adjustment": -15, "low_stock_threshold": 3}).json()
    entry = next(e for e in adjusted["warehouses"] if e["id"] == warehouse_id)
    assert entry["on_hand"] == 25
    assert entry["low_stock_threshold"] == 3
    assert adjusted["total_on_hand"] == sum(e["on_hand"] for e in adjusted["warehouses"])
    assert adjusted["total_available"] == sum(e["available"] for e in adjusted["warehouses"])
    assert adjusted["available_on_hand"] == adjusted["total_available"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"on_hand": 1, "adjustment": 2}, "adjustment"),
        ({"on_hand": "many"}, "on_hand"),
        ({"quantity": 3}, "quantity"),
    ],
)
def test_put_product_warehouse_bodies_that_are_rejected(api, body, param):
    sku = next(iter(api.sandbox.store.products))
    warehouse_id = next(iter(api.sandbox.store.warehouses))
    assert_400(api.put(f"/product/{quote(sku, safe='')}/warehouse/{warehouse_id}/", body), param)


def test_put_product_warehouse_unknown_sku_or_warehouse_is_404(api):
    sku = quote(next(iter(api.sandbox.store.products)), safe="")
    warehouse_id = next(iter(api.sandbox.store.warehouses))
    response = api.put(f"/product/NOPE/warehouse/{warehouse_id}/", {"on_hand": 1})
    assert (response.status_code, response.json()["param"]) == (404, "sku")
    for unknown in ("1", "abc"):
        response = api.put(f"/product/{sku}/warehouse/{unknown}/", {"on_hand": 1})
        assert (response.status_code, response.json()["param"]) == (404, "warehouse_id")


def test_updated_timestamps_strictly_increase_across_writes(api):
    sku = next(iter(api.sandbox.store.products))
    warehouse_id = next(iter(api.sandbox.store.warehouses))
    stamps = [
        api.put(
            f"/product/{quote(sku, safe='')}/warehouse/{warehouse_id}/", {"adjustment": 0}
        ).json()["updated"]
        for _ in range(5)
    ]
    stamps.append(api.post("/v3/order", order_body(unique("mono"))).json()["updated_date"])
    instants = [parse_instant(s) for s in stamps]
    assert instants == sorted(instants)
    assert len(set(instants)) == len(instants)


def test_store_touch_gives_a_new_updated_timestamp(api):
    store = api.sandbox.store
    order_number = next(iter(store.orders))
    before = parse_instant(store.orders[order_number]["updated_date"])
    stamp = store.touch("orders", order_number)
    assert store.orders[order_number]["updated_date"] == stamp
    assert parse_instant(stamp) > before
    po_id = next(iter(store.purchase_orders))
    stamp = store.touch("purchase_orders", po_id)
    assert store.purchase_orders[po_id]["updated"] == stamp
    with pytest.raises(ValueError, match="no updated"):
        store.touch("warehouses", next(iter(store.warehouses)))


def test_a_date_the_account_time_zone_cannot_hold_is_a_400_not_a_500(api):
    """0001-01-01T00:00Z is in year 0 in America/Chicago, which Python cannot represent."""
    address = {"name": "Pat", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    body = {
        "order_id": "edge-date",
        "shipping_address": address,
        "billing_address": address,
        "lines": [{"quantity": 1, "product": {"sku": "EDGE-SKU", "name": "Widget"}}],
        "deliver_by_date": "0001-01-01T00:00:00+00:00",
    }
    response = api.post("/v3/order", body)
    assert response.status_code == 400
    assert response.json()["param"] == "deliver_by_date"
    assert "M-edge-date" not in api.sandbox.store.orders
