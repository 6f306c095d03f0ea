"""mutate_per_page: records change during a sync, so naive offset paging skips records."""

from __future__ import annotations

import pytest

from ordoro_core.timestamps import parse_instant
from ordoro_sandbox import SandboxOptions

SANDBOX_OPTIONS = SandboxOptions(seed=21, products=60, orders=80, purchase_orders=30)
PAGE = 10


@pytest.fixture
def api(module_api):
    module_api.sandbox.set_mutate_per_page(0)
    yield module_api
    module_api.sandbox.set_mutate_per_page(0)


def offset_pager(api, path: str, list_key: str, key: str, **params) -> list[str]:
    """The naive way: same query, offset += limit, until the count is reached."""
    seen, offset = [], 0
    while True:
        body = api.get(path, limit=PAGE, offset=offset, **params).json()
        seen.extend(record[key] for record in body[list_key])
        offset += PAGE
        if offset >= body["count"]:
            return seen


def keyset_pager(api, path: str, list_key: str, key: str, field: str, sort: str) -> list[str]:
    """Keyset-like: sort by the updated field and ask for records after the last one seen."""
    seen, after = [], None
    while True:
        params = {"sort": sort, "limit": PAGE}
        if after is not None:
            params["updated_after"] = after
        page = api.get(path, **params).json()[list_key]
        seen.extend(record[key] for record in page)
        if len(page) < PAGE:
            return seen
        after = page[-1][field]


@pytest.mark.parametrize(
    ("path", "list_key", "key", "field", "kind"),
    [
        ("/v3/order", "order", "order_number", "updated_date", "orders"),
        ("/purchase_order/", "purchase_order", "po_id", "updated", "purchase_orders"),
        ("/product/", "product", "sku", "updated", "products"),
    ],
)
def test_offset_paging_over_updated_skips_records_while_keyset_paging_does_not(
    api, path, list_key, key, field, kind
):
    everything = set(getattr(api.sandbox.store, kind))
    sort = field if kind != "orders" else "updated_date"

    assert set(offset_pager(api, path, list_key, key, sort=sort)) == everything

    api.sandbox.set_mutate_per_page(2)
    naive = offset_pager(api, path, list_key, key, sort=sort)
    missed = everything - set(naive)
    assert missed, "with records changing during the sync, offset paging must skip some"
    assert len(naive) == len(everything), "it read as many records as there are, yet missed some"

    api.sandbox.set_mutate_per_page(2)
    keyset = keyset_pager(api, path, list_key, key, field, sort)
    assert set(keyset) == everything
    assert len(keyset) > len(everything), "the bumped records come round again at the end"


def test_offset_paging_in_creation_order_is_not_affected(api):
    api.sandbox.set_mutate_per_page(3)
    skus = offset_pager(api, "/product/", "product", "sku")
    assert sorted(skus) == sorted(api.sandbox.store.products)


def test_served_records_are_bumped_in_the_order_served_and_only_once(api):
    store = api.sandbox.store

    def stamps() -> dict[str, str]:
        return {number: order["updated_date"] for number, order in store.orders.items()}

    def changed(before: dict[str, str]) -> set[str]:
        return {number for number, stamp in stamps().items() if stamp != before[number]}

    api.sandbox.set_mutate_per_page(2)
    served = [
        o["order_number"]
        for o in api.get("/v3/order", sort="updated_date", limit=5).json()["order"]
    ]
    before_second = stamps()
    api.get("/v3/order", sort="updated_date", limit=5, offset=5)
    assert changed(before_second) == set(served[:2])
    for number in served[:2]:
        assert parse_instant(store.orders[number]["updated_date"]) > parse_instant(
            before_second[number]
        )
    before_third = stamps()
    api.get("/v3/order", sort="updated_date", limit=5, offset=10)
    assert changed(before_third) == set(served[2:4])


def test_the_first_list_request_after_setting_the_knob_changes_nothing(api):
    store = api.sandbox.store
    before = {number: order["updated_date"] for number, order in store.orders.items()}
    api.sandbox.set_mutate_per_page(5)
    api.get("/v3/order", sort="updated_date")
    assert {number: order["updated_date"] for number, order in store.orders.items()} == before


def test_records_not_served_yet_are_bumped_oldest_first_each_once(api):
    """mutate_unread_per_page: before each later list page, the oldest records no page has
    served yet get a new updated time (they leave for the end of the list)."""
    store = api.sandbox.store

    def stamps() -> dict[str, str]:
        return {number: order["updated_date"] for number, order in store.orders.items()}

    api.sandbox.set_mutate_unread_per_page(2)
    first = api.get("/v3/order", sort="updated_date", limit=5).json()["order"]
    served = {order["order_number"] for order in first}
    unread = sorted(
        (number for number in store.orders if number not in served),
        key=lambda number: parse_instant(store.orders[number]["updated_date"]),
    )
    before = stamps()
    newest_before = max(parse_instant(stamp) for stamp in before.values())
    second = api.get("/v3/order", sort="updated_date", limit=5, offset=5).json()["order"]
    moved = {number for number, stamp in stamps().items() if stamp != before[number]}
    assert moved == set(unread[:2])
    for number in moved:  # now the newest of the list: past every window of instants
        assert parse_instant(store.orders[number]["updated_date"]) > newest_before
    assert not moved & {order["order_number"] for order in second}
    served |= {order["order_number"] for order in second}
    still_unread = [number for number in unread if number not in served | moved]
    before = stamps()
    api.get("/v3/order", sort="updated_date", limit=5, offset=10)
    again = {number for number, stamp in stamps().items() if stamp != before[number]}
    assert again == set(still_unread[:2]), "each record once, the next oldest"


def test_served_records_are_not_bumped_by_the_unread_knob(api):
    api.sandbox.set_mutate_unread_per_page(3)
    first = api.get("/v3/order", sort="updated_date", limit=5).json()["order"]
    before = {order["order_number"]: order["updated_date"] for order in first}
    api.get("/v3/order", sort="updated_date", limit=5, offset=5)
    store = api.sandbox.store
    assert {number: store.orders[number]["updated_date"] for number in before} == before
