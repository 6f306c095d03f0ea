"""List filters and sorts: instants across the DST change, updated windows, search, status."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ordoro_core.timestamps import ACCOUNT_TIMEZONE, parse_instant


def fetch_all(api, path: str, list_key: str, **params) -> list[dict]:
    records, offset = [], 0
    while True:
        response = api.get(path, limit=100, offset=offset, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        records.extend(body[list_key])
        offset += 100
        if offset >= body["count"]:
            return records


def instants(records: list[dict], field: str) -> list[datetime]:
    return [parse_instant(record[field]) for record in records]


@pytest.mark.parametrize(
    ("path", "list_key", "sort", "field", "key"),
    [
        ("/v3/order", "order", "updated_date", "updated_date", "id"),
        ("/v3/order", "order", "created_date", "created_date", "id"),
        ("/v3/order", "order", "order_placed_date", "order_placed_date", "id"),
        ("/product/", "product", "updated", "updated", "id"),
        ("/product/", "product", "created", "created", "id"),
        ("/purchase_order/", "purchase_order", "updated", "updated", "po_id"),
        ("/v3/return_order", "return_order", "updated_date", "updated_date", "reference_id"),
        ("/v3/return_order", "return_order", "created_date", "created_date", "reference_id"),
    ],
)
def test_timestamp_sorts_are_by_instant_with_a_stable_tie_breaker(
    read_api, path, list_key, sort, field, key
):
    ascending = fetch_all(read_api, path, list_key, sort=sort)
    expected = sorted(ascending, key=lambda r: (parse_instant(r[field]), r[key]))
    assert [r[key] for r in ascending] == [r[key] for r in expected]
    descending = fetch_all(read_api, path, list_key, sort="-" + sort)
    assert [r[key] for r in descending] == [r[key] for r in reversed(expected)]


def test_updated_sort_orders_the_repeated_dst_hour_by_instant_not_text(read_api):
    orders = fetch_all(read_api, "/v3/order", "order", sort="updated_date")
    stamps = [order["updated_date"] for order in orders]
    in_repeated_hour = [s for s in stamps if s.startswith("2024-11-03T01:")]
    assert any(s.endswith("-05:00") for s in in_repeated_hour)
    assert any(s.endswith("-06:00") for s in in_repeated_hour)
    assert stamps != sorted(stamps), "text order would differ from instant order"
    first_cst = next(i for i, s in enumerate(in_repeated_hour) if s.endswith("-06:00"))
    assert all(s.endswith("-05:00") for s in in_repeated_hour[:first_cst])
    assert all(s.endswith("-06:00") for s in in_repeated_hour[first_cst:])


@pytest.mark.parametrize(
    ("path", "list_key", "field"),
    [
        ("/v3/order", "order", "updated_date"),
        ("/product/", "product", "updated"),
        ("/purchase_order/", "purchase_order", "updated"),
    ],
)
def test_updated_after_is_exclusive_and_updated_before_inclusive(
    read_api, read_sandbox, path, list_key, field
):
    records = fetch_all(read_api, path, list_key)
    pivot = sorted(records, key=lambda r: parse_instant(r[field]))[len(records) // 2][field]
    after = fetch_all(read_api, path, list_key, updated_after=pivot)
    before = fetch_all(read_api, path, list_key, updated_before=pivot)
    pivot_instant = parse_instant(pivot)
    assert all(parse_instant(r[field]) > pivot_instant for r in after)
    assert all(parse_instant(r[field]) <= pivot_instant for r in before)
    assert len(after) + len(before) == len(records)
    assert any(r[field] == pivot for r in before)


def test_updated_after_compares_instants_across_the_dst_change(read_api):
    # 01:30-05:00 is earlier than 01:10-06:00; as text it would sort after it.
    cdt = "2024-11-03T01:30:00-05:00"
    cst = "2024-11-03T01:10:00-06:00"
    after_cdt = fetch_all(read_api, "/v3/order", "order", updated_after=cdt)
    after_cst = fetch_all(read_api, "/v3/order", "order", updated_after=cst)
    assert len(after_cdt) > len(after_cst)
    numbers = {o["order_number"] for o in after_cst}
    assert numbers < {o["order_number"] for o in after_cdt}
    assert all(parse_instant(o["updated_date"]) > parse_instant(cst) for o in after_cst)


def test_updated_after_with_utc_and_naive_values(read_api):
    # A naive value is account local time (outside the repeated hour, where it is ambiguous).
    instant = datetime(2024, 11, 1, 17, 0, tzinfo=timezone.utc)
    as_utc = fetch_all(read_api, "/product/", "product", updated_after=instant.isoformat())
    naive_local = instant.astimezone(ACCOUNT_TIMEZONE).replace(tzinfo=None).isoformat()
    as_local = fetch_all(read_api, "/product/", "product", updated_after=naive_local)
    assert [p["sku"] for p in as_utc] == [p["sku"] for p in as_local]
    earlier = (instant - timedelta(hours=1)).isoformat()
    assert len(fetch_all(read_api, "/product/", "product", updated_after=earlier)) >= len(as_utc)


def test_bad_timestamp_filter_is_400(read_api):
    response = read_api.get("/v3/order", updated_after="yesterday")
    assert response.status_code == 400
    assert response.json()["param"] == "updated_after"


@pytest.mark.parametrize(
    "status", ["awaiting_fulfillment", "shipped", "cancelled", "dropshipment_requested"]
)
def test_order_status_filter(read_api, read_sandbox, status):
    orders = fetch_all(read_api, "/v3/order", "order", status=status)
    assert orders
    assert {o["status"] for o in orders} == {status}
    expected = sum(1 for o in read_sandbox.store.orders.values() if o["status"] == status)
    assert len(orders) == expected


def test_order_status_all_and_unknown(read_api, read_sandbox):
    assert read_api.get("/v3/order", status="all").json()["count"] == len(read_sandbox.store.orders)
    response = read_api.get("/v3/order", status="bogus")
    assert response.status_code == 400
    assert response.json()["param"] == "status"


@pytest.mark.parametrize("sort", ["order_number", "-order_number"])
def test_order_number_sort(read_api, sort):
    numbers = [o["order_number"] for o in fetch_all(read_api, "/v3/order", "order", sort=sort)]
    assert numbers == sorted(numbers, reverse=sort.startswith("-"))


@pytest.mark.parametrize("path", ["/v3/order", "/product/", "/purchase_order/", "/v3/return_order"])
def test_unknown_sort_is_400(read_api, path):
    response = read_api.get(path, sort="colour")
    assert response.status_code == 400
    assert response.json()["param"] == "sort"


def test_order_search_cart_order_id_channel_and_warehouse_filters(read_api, read_sandbox):
    store = read_sandbox.store
    order = next(o for o in store.orders.values() if o["lines"][0]["cart_order_id"])
    by_cart_order = fetch_all(
        read_api, "/v3/order", "order", cart_order_id=order["lines"][0]["cart_order_id"]
    )
    assert [o["order_number"] for o in by_cart_order] == [order["order_number"]]
    found = fetch_all(read_api, "/v3/order", "order", search=order["order_number"])
    assert order["order_number"] in {o["order_number"] for o in found}
    email = order["shipping_address"]["email"]
    assert all(
        email in (o["shipping_address"]["email"], o["billing_address"]["email"])
        for o in fetch_all(read_api, "/v3/order", "order", search=email)
    )
    amazon = next(c for c in store.carts.values() if c["vendor"] == "amazon")
    by_channel = fetch_all(read_api, "/v3/order", "order", sales_channel=amazon["id"])
    assert by_channel
    assert all(o["order_number"].startswith("2-") for o in by_channel)
    warehouse_id = list(store.warehouses)[1]
    by_warehouse = fetch_all(read_api, "/v3/order", "order", warehouse_id=warehouse_id)
    assert by_warehouse
    assert {o["warehouse"]["id"] for o in by_warehouse} == {warehouse_id}


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("name", lambda p: p["name"]),
        ("sku", lambda p: p["sku"]),
        ("total_on_hand", lambda p: p["total_on_hand"]),
        ("total_available", lambda p: p["total_available"]),
        ("total_committed", lambda p: p["total_committed"]),
        ("po_total_committed", lambda p: p["po_total_committed"]),
    ],
)
def test_product_sorts(read_api, sort, key):
    products = fetch_all(read_api, "/product/", "product", sort=sort)
    expected = sorted(products, key=lambda p: (key(p), p["id"]))
    assert [p["sku"] for p in products] == [p["sku"] for p in expected]
    descending = fetch_all(read_api, "/product/", "product", sort="-" + sort)
    assert [p["sku"] for p in descending] == [p["sku"] for p in reversed(expected)]


def test_product_default_order_is_by_id(read_api):
    products = fetch_all(read_api, "/product/", "product")
    ids = [p["id"] for p in products]
    assert ids == sorted(ids)


def test_product_search_matches_sku_or_name(read_api):
    by_sku = fetch_all(read_api, "/product/", "product", search="café")
    assert "CAFÉ-Ü-BLEND" in {p["sku"] for p in by_sku}
    by_name = fetch_all(read_api, "/product/", "product", search="tumbler")
    assert by_name
    assert all("tumbler" in (p["name"] + p["sku"]).lower() for p in by_name)


def test_product_warehouse_filter_limits_warehouses(read_api, read_sandbox):
    warehouse_id = list(read_sandbox.store.warehouses)[2]
    products = fetch_all(read_api, "/product/", "product", warehouse_id=warehouse_id)
    assert len(products) == len(read_sandbox.store.products)
    assert all([e["id"] for e in p["warehouses"]] == [warehouse_id] for p in products)
    stored = read_sandbox.store.products[products[0]["sku"]]
    assert len(stored["warehouses"]) == 3, "the filter must not change the stored record"
    response = read_api.get("/product/", warehouse_id="main")
    assert response.status_code == 400
    assert response.json()["param"] == "warehouse_id"


def test_product_active_filter(read_api, read_sandbox):
    archived = fetch_all(read_api, "/product/", "product", active="false")
    active = fetch_all(read_api, "/product/", "product", active="true")
    assert archived
    assert all(p["archive_date"] for p in archived)
    assert all(p["archive_date"] is None for p in active)
    assert len(archived) + len(active) == len(read_sandbox.store.products)
    assert read_api.get("/product/", active="maybe").json()["param"] == "active"


@pytest.mark.parametrize("status", ["unsent", "sent", "partial", "received", "cancelled"])
def test_purchase_order_status_filter(read_api, read_sandbox, status):
    found = fetch_all(read_api, "/purchase_order/", "purchase_order", status=status)
    expected = [po for po in read_sandbox.store.purchase_orders.values() if po["status"] == status]
    assert len(found) == len(expected)
    assert all(po["status"] == status for po in found)


@pytest.mark.parametrize(
    "sort", ["po_id", "-po_id", "status", "supplier", "estimated_delivery_date"]
)
def test_purchase_order_sorts_are_total(read_api, read_sandbox, sort):
    found = fetch_all(read_api, "/purchase_order/", "purchase_order", sort=sort)
    assert sorted(po["po_id"] for po in found) == sorted(read_sandbox.store.purchase_orders)
    if sort.lstrip("-") == "po_id":
        ids = [po["po_id"] for po in found]
        assert ids == sorted(ids, reverse=sort.startswith("-"))


def test_return_order_status_filter_and_reference_sort(read_api, read_sandbox):
    everything = fetch_all(read_api, "/v3/return_order", "return_order", sort="-reference_id")
    references = [ro["reference_id"] for ro in everything]
    assert references == sorted(read_sandbox.store.return_orders, reverse=True)
    status = everything[0]["status"]
    filtered = fetch_all(read_api, "/v3/return_order", "return_order", status=status)
    assert filtered
    assert {ro["status"] for ro in filtered} == {status}


@pytest.mark.parametrize(
    ("path", "list_key", "kind"),
    [("/warehouse/", "warehouse", "warehouses"), ("/cart/", "cart", "carts")],
)
def test_plain_lists_are_ordered_by_id(read_api, read_sandbox, path, list_key, kind):
    found = fetch_all(read_api, path, list_key)
    assert [r["id"] for r in found] == sorted(getattr(read_sandbox.store, kind))
