"""The sandbox over real HTTP: auth, routing, envelopes, paging bounds, odd SKUs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from ordoro_sandbox.seed_words import AWKWARD_SKUS

LIST_ENDPOINTS = [
    ("/v3/order", "order"),
    ("/product/", "product"),
    ("/warehouse/", "warehouse"),
    ("/cart/", "cart"),
    ("/supplier/", "supplier"),
    ("/purchase_order/", "purchase_order"),
    ("/v3/return_order", "return_order"),
]


def assert_error_envelope(response: requests.Response, status: int, param: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error_message", "param"}
    assert isinstance(body["error_message"], str)
    assert body["error_message"]
    assert body["param"] == param
    return body


@pytest.mark.parametrize(
    "auth", [None, ("sandbox-user", "wrong"), ("someone-else", "sandbox-secret")], ids=str
)
def test_requests_without_the_right_credentials_get_401(read_sandbox, auth):
    with requests.get(read_sandbox.url + "/authenticated/", auth=auth, timeout=10) as response:
        assert_error_envelope(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_authenticated_answers_success(read_api):
    response = read_api.get("/authenticated/")
    assert response.status_code == 200
    assert response.json() == {"success": True}


@pytest.mark.parametrize(("path", "list_key"), LIST_ENDPOINTS)
def test_list_envelope_uses_the_singular_model_name(read_api, path, list_key):
    response = read_api.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"count", "limit", "offset", list_key}
    assert body["limit"] == 10
    assert body["offset"] == 0
    assert body["count"] >= len(body[list_key]) > 0
    assert len(body[list_key]) == min(10, body["count"])


def test_limit_and_offset_page_through_the_whole_list(read_api, read_sandbox):
    seen = []
    offset = 0
    while True:
        body = read_api.get("/product/", limit=100, offset=offset).json()
        seen.extend(product["sku"] for product in body["product"])
        offset += 100
        if offset >= body["count"]:
            break
    assert sorted(seen) == sorted(read_sandbox.store.products)
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("limit", ["0", "101", "-5", "ten", "1.5"])
def test_limit_out_of_bounds_or_not_an_integer_is_400(read_api, limit):
    assert_error_envelope(read_api.get("/v3/order", limit=limit), 400, "limit")


def test_limit_100_is_allowed_and_offset_past_the_end_is_empty(read_api):
    body = read_api.get("/product/", limit=100).json()
    assert len(body["product"]) == 100
    body = read_api.get("/product/", offset=body["count"] + 5).json()
    assert body["product"] == []


@pytest.mark.parametrize("offset", ["-1", "x"])
def test_bad_offset_is_400(read_api, offset):
    assert_error_envelope(read_api.get("/product/", offset=offset), 400, "offset")


@pytest.mark.parametrize(
    "path",
    ["/v3/order/", "/v3/return_order/", "/product", "/warehouse", "/authenticated", "/cart"],
)
def test_trailing_slash_rule_is_enforced(read_api, path):
    body = assert_error_envelope(read_api.get(path), 404)
    assert "trailing slash" in body["error_message"]


def test_trailing_slash_rule_applies_to_instance_paths(read_api, read_sandbox):
    order_number = next(iter(read_sandbox.store.orders))
    assert read_api.get(f"/v3/order/{order_number}").status_code == 200
    assert_error_envelope(read_api.get(f"/v3/order/{order_number}/"), 404)
    sku = next(s for s in read_sandbox.store.products if s.isascii() and "/" not in s)
    assert read_api.get(f"/product/{sku}/").status_code == 200
    assert_error_envelope(read_api.get(f"/product/{sku}"), 404)


@pytest.mark.parametrize("path", ["/nothing/", "/v3/nothing", "/", "/product/a/b/c/"])
def test_unknown_route_is_404_with_the_envelope(read_api, path):
    assert_error_envelope(read_api.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v3/order"), ("POST", "/warehouse/"), ("PUT", "/product/"), ("POST", "/cart/")],
)
def test_wrong_method_is_405_with_the_envelope(read_api, method, path):
    response = read_api.request(method, path, json={})
    assert_error_envelope(response, 405)
    assert response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v3/order/NO-SUCH-ORDER", "order_number"),
        ("/product/NO-SUCH-SKU/", "sku"),
        ("/warehouse/999999999/", "id"),
        ("/warehouse/abc/", "id"),
        ("/cart/1/", "id"),
        ("/supplier/1/", "id"),
        ("/purchase_order/PO-0/", "po_id"),
        ("/v3/return_order/RMA-0", "reference_id"),
    ],
)
def test_unknown_instance_is_404_naming_the_parameter(read_api, path, param):
    assert_error_envelope(read_api.get(path), 404, param)


def test_instance_endpoints_answer_the_stored_record(read_api, read_sandbox):
    store = read_sandbox.store
    warehouse_id = next(iter(store.warehouses))
    cart_id = next(iter(store.carts))
    supplier_id = next(iter(store.suppliers))
    po_id = next(iter(store.purchase_orders))
    order_number = next(iter(store.orders))
    reference_id = next(iter(store.return_orders))
    assert read_api.get(f"/warehouse/{warehouse_id}/").json() == store.warehouses[warehouse_id]
    assert read_api.get(f"/cart/{cart_id}/").json() == store.carts[cart_id]
    assert read_api.get(f"/supplier/{supplier_id}/").json() == store.suppliers[supplier_id]
    assert read_api.get(f"/purchase_order/{po_id}/").json() == store.purchase_orders[po_id]
    assert read_api.get(f"/v3/order/{order_number}").json() == store.orders[order_number]
    assert (
        read_api.get(f"/v3/return_order/{reference_id}").json() == store.return_orders[reference_id]
    )


@pytest.mark.parametrize("sku", sorted(AWKWARD_SKUS.values()), ids=repr)
def test_seeded_odd_skus_round_trip_through_get_and_put_paths(make_api, sku):
    api = make_api(seed=3)
    path = f"/product/{quote(sku, safe='')}/"
    assert api.get(path).json()["sku"] == sku
    updated = api.put(path, {"internal_notes": "checked"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["sku"] == sku
    assert updated.json()["internal_notes"] == "checked"
    warehouse_id = next(iter(api.sandbox.store.warehouses))
    response = api.put(f"/product/{quote(sku, safe='')}/warehouse/{warehouse_id}/", {"on_hand": 9})
    assert response.status_code == 200, response.text
    entry = next(e for e in response.json()["warehouses"] if e["id"] == warehouse_id)
    assert entry["on_hand"] == 9
    assert api.sandbox.store.products[sku]["internal_notes"] == "checked"
    assert api.sandbox.requests[0].path == f"/product/{sku}/"


@pytest.mark.parametrize(
    "sku", ["A/B #1", "space sku", "CAFÉ-Ü-ß", "odd?%&=+;,@", "end/"], ids=repr
)
def test_new_odd_skus_round_trip(make_api, sku):
    api = make_api(seed=4, empty=True)
    created = api.post("/product/", {"sku": sku, "name": "Odd"})
    assert created.status_code == 201, created.text
    assert created.json()["_link"] == f"/product/{quote(sku, safe='')}/"
    fetched = api.get(f"/product/{quote(sku, safe='')}/")
    assert fetched.status_code == 200
    assert fetched.json()["sku"] == sku
    assert sku in api.sandbox.store.products


def test_query_values_are_decoded_and_logged(read_sandbox, read_api):
    read_sandbox.reset_request_log()
    read_api.get("/product/", search="CAFÉ-Ü", limit=5)
    record = read_sandbox.requests[-1]
    assert record.method == "GET"
    assert record.path == "/product/"
    assert record.query == {"search": ["CAFÉ-Ü"], "limit": ["5"]}
    assert record.status == 200
    assert record.fault is None
    assert record.number == 1
