"""An order's life after creation in the sandbox: cancel and uncancel, address corrections,
order tags and order lines, as the spec describes them; answers validate against the spec."""

from __future__ import annotations

import itertools

import pytest

from ordoro_sandbox import SandboxOptions
from tests.ordoro_sandbox.test_spec import assert_valid, corrected_spec, validator_for

SANDBOX_OPTIONS = SandboxOptions(seed=6, products=20, orders=0)

_numbers = itertools.count(1)
ADDRESS = {"name": "Pat Doe", "street1": "1 Main St", "city": "Austin", "zip": "78701"}


@pytest.fixture
def api(module_api):
    return module_api


@pytest.fixture(scope="module")
def fixed_spec(spec):
    return corrected_spec(spec)


@pytest.fixture
def order(api) -> str:
    """A new open order with two lines; its order_number."""
    skus = sorted(api.sandbox.store.products)[:2]
    order_id = f"life-{next(_numbers)}"
    body = {
        "order_id": order_id,
        "cart_order_id": f"SRC-{order_id}",
        "shipping_address": ADDRESS,
        "billing_address": ADDRESS,
        "lines": [{"quantity": 2, "product": {"sku": sku, "name": sku}} for sku in skus],
    }
    assert api.post("/v3/order", body).status_code == 201
    return f"M-{order_id}"


def ship(api, number: str) -> None:
    tracking = {"tracking_number": "T1", "ship_date": "2024-11-20T10:00:00Z", "carrier_name": "UPS"}
    assert api.post(f"/v3/order/{number}/shipping_info", tracking).status_code == 201


def test_cancel_and_uncancel_an_open_order(api, order, fixed_spec):
    sku = api.sandbox.store.orders[order]["lines"][0]["sku"]
    committed = api.sandbox.store.products[sku]["total_committed"]
    cancelled = api.post(f"/v3/order/{order}/cancel", None)
    assert cancelled.status_code == 200
    assert_valid(validator_for(fixed_spec, "order"), cancelled.json(), "cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_date"]
    assert api.sandbox.store.products[sku]["total_committed"] == committed - 2
    assert api.post(f"/v3/order/{order}/cancel", None).json()["status"] == "cancelled"
    back = api.post(f"/v3/order/{order}/uncancel", None)
    assert back.status_code == 200
    assert (back.json()["status"], back.json()["cancelled_date"]) == ("awaiting_fulfillment", None)
    assert api.sandbox.store.products[sku]["total_committed"] == committed


def test_a_shipped_order_cannot_be_cancelled_nor_its_lines_changed(api, order):
    ship(api, order)
    refused = api.post(f"/v3/order/{order}/cancel", None)
    assert refused.status_code == 400
    assert "has shipped" in refused.json()["error_message"]
    line = api.sandbox.store.orders[order]["lines"][0]["id"]
    assert api.put(f"/v3/order/{order}/line/{line}", {"quantity": 1}).status_code == 400
    assert api.post(f"/v3/order/{order}/uncancel", None).status_code == 400


def test_address_corrections_change_only_the_given_fields(api, order, fixed_spec):
    fixed = api.put(f"/v3/order/{order}/shipping_address", {"street1": "2 Side St", "zip": "78702"})
    assert fixed.status_code == 200
    assert_valid(validator_for(fixed_spec, "address"), fixed.json(), "shipping_address")
    stored = api.sandbox.store.orders[order]
    assert (stored["shipping_address"]["street1"], stored["shipping_address"]["name"]) == (
        "2 Side St",
        "Pat Doe",
    )
    assert stored["billing_address"]["street1"] == "1 Main St"
    assert api.put(f"/v3/order/{order}/billing_address", {"city": "Dallas"}).status_code == 200
    assert stored["billing_address"]["city"] == "Dallas"
    bad = api.put(f"/v3/order/{order}/shipping_address", {"fax": "1"})
    assert (bad.status_code, bad.json()["param"]) == (400, "fax")


def test_order_tags_are_created_listed_added_and_removed(api, order, fixed_spec):
    created = api.post("/v3/order/tag", {"name": f"VIP-{order}", "color": "#9933ff"})
    assert created.status_code == 201
    tag = created.json()
    assert (tag["name"], tag["color"]) == (f"VIP-{order}", "#9933ff")
    assert api.post("/v3/order/tag", {"name": f"VIP-{order}"}).status_code == 400
    listed = api.get("/v3/order/tag", limit=100).json()
    assert_valid(validator_for(fixed_spec, "v3_tag_list"), listed, "tag list")
    assert tag["id"] in {t["id"] for t in listed["tag"]}
    tags = api.post(f"/v3/order/{order}/tag/{tag['id']}", None)
    assert tags.status_code == 200
    assert_valid(validator_for(fixed_spec, "tags"), tags.json(), "order tags")
    assert [t["text"] for t in api.sandbox.store.orders[order]["tags"]] == [f"VIP-{order}"]
    assert api.request("DELETE", f"/v3/order/{order}/tag/{tag['id']}").json() == []
    assert api.post(f"/v3/order/{order}/tag/999999", None).status_code == 404


def test_order_lines_are_added_changed_and_removed(api, order, fixed_spec):
    store = api.sandbox.store
    third = sorted(store.products)[2]
    added = api.post(f"/v3/order/{order}/line", {"sku": third, "quantity": 3, "cart_order_id": "X"})
    assert added.status_code == 201
    assert_valid(validator_for(fixed_spec, "order"), added.json(), "add line")
    lines = store.orders[order]["lines"]
    assert [(line["sku"], line["quantity"]) for line in lines][-1] == (third, 3)
    first = lines[0]["id"]
    assert api.put(f"/v3/order/{order}/line/{first}", {"quantity": 5}).status_code == 200
    assert store.orders[order]["lines"][0]["quantity"] == 5
    removed = api.request("DELETE", f"/v3/order/{order}/line/{first}")
    assert removed.status_code == 200
    assert first not in [line["id"] for line in store.orders[order]["lines"]]
    unknown = api.post(f"/v3/order/{order}/line", {"sku": "NO-SUCH-SKU", "quantity": 1})
    assert (unknown.status_code, unknown.json()["param"]) == (404, "sku")
    assert api.put(f"/v3/order/{order}/line/1", {"sku": "x"}).status_code == 400
