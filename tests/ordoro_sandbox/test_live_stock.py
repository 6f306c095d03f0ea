"""A live account's stock moves the sandbox imitates: sales while a client reads the product
list (``sales_per_product_page``), and an order line switched to another SKU as Ordoro's app
does; with ``stock_moves_untouched``, neither stamps the products."""

from __future__ import annotations

import pytest

from ordoro_sandbox import SandboxOptions
from ordoro_sandbox.errors import ApiError

SANDBOX_OPTIONS = SandboxOptions(seed=8, products=40, orders=30, stock_moves_untouched=True)
ADDRESS = {"name": "Pat Doe", "street1": "1 Main St", "city": "Austin", "zip": "78701"}


@pytest.fixture
def api(module_api):
    module_api.sandbox.set_sales_per_product_page(0)
    yield module_api
    module_api.sandbox.set_sales_per_product_page(0)


def committed(api, sku: str) -> int:
    return api.sandbox.store.products[sku]["total_committed"]


def test_a_product_page_is_answered_as_it_was_then_its_products_are_sold(api):
    store = api.sandbox.store
    api.sandbox.set_sales_per_product_page(2)
    page = api.get("/product/", limit=10).json()["product"]
    sold = [product["sku"] for product in page[:2]]
    assert api.sandbox.sold_during_reads == set(sold)
    for product in page[:2]:
        # The answer carries the figures from before the sale; the account has moved on.
        assert committed(api, product["sku"]) == product["total_committed"] + 1
        assert store.products[product["sku"]]["updated"] == product["updated"]
    placed = [o for n, o in store.orders.items() if n.startswith("M-LIVE-SALE-")]
    assert sorted(o["lines"][0]["sku"] for o in placed) == sorted(sold)
    assert {o["status"] for o in placed} == {"awaiting_fulfillment"}
    # Each product once: the same page again sells the next two.
    again = api.get("/product/", limit=10).json()["product"]
    assert api.sandbox.sold_during_reads == {p["sku"] for p in again[:4]}


def test_no_sales_with_the_knob_off(api):
    before = len(api.sandbox.store.orders)
    api.get("/product/", limit=10)
    assert len(api.sandbox.store.orders) == before


def test_a_line_switched_to_another_sku_moves_stock_on_both(api):
    store = api.sandbox.store
    old, new = sorted(store.products)[20:22]
    body = {
        "order_id": "switch-1",
        "shipping_address": ADDRESS,
        "billing_address": ADDRESS,
        "lines": [{"quantity": 3, "product": {"sku": old, "name": old}}],
    }
    assert api.post("/v3/order", body).status_code == 201
    number = "M-switch-1"
    line = store.orders[number]["lines"][0]
    stamped = store.orders[number]["updated_date"]
    before = {sku: (committed(api, sku), store.products[sku]["updated"]) for sku in (old, new)}
    order = api.sandbox.switch_line_sku(number, line["id"], new)
    switched = order["lines"][0]
    assert (switched["id"], switched["quantity"], switched["sku"]) == (line["id"], 3, new)
    assert committed(api, old) == before[old][0] - 3
    assert committed(api, new) == before[new][0] + 3
    assert order["updated_date"] != stamped
    for sku in (old, new):  # stock moved, the products were not stamped
        assert store.products[sku]["updated"] == before[sku][1]
    assert store.order_changes[-1]["change"] == "switch_line_sku"


def test_a_shipped_order_or_an_unknown_sku_cannot_be_switched(api):
    store = api.sandbox.store
    shipped = next(n for n, o in store.orders.items() if o["status"] == "shipped")
    line_id = store.orders[shipped]["lines"][0]["id"]
    with pytest.raises(ApiError) as refused:
        api.sandbox.switch_line_sku(shipped, line_id, sorted(store.products)[0])
    assert refused.value.status == 400
    open_order = next(n for n, o in store.orders.items() if o["status"] == "awaiting_fulfillment")
    line_id = store.orders[open_order]["lines"][0]["id"]
    with pytest.raises(ApiError) as unknown:
        api.sandbox.switch_line_sku(open_order, line_id, "NO-SUCH-SKU")
    assert unknown.value.status == 404
