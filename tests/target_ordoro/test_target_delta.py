"""Writing only what changed, judged against what Ordoro holds, at the lowest request cost
(issue 10): every run in a fresh working directory, requests counted from the sandbox's log."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.target_ordoro.conftest import PASSWORD, USERNAME

CATALOG = 500


@pytest.fixture
def catalog() -> Iterator[Sandbox]:
    """An account with 500 products, stocked in three warehouses, and no orders."""
    options = SandboxOptions(
        seed=41,
        username=USERNAME,
        password=PASSWORD,
        products=CATALOG,
        orders=0,
        purchase_orders=0,
        return_orders=0,
    )
    with Sandbox(options) as server:
        yield server


def on_hand(sandbox: Sandbox) -> dict[tuple[str, int], int]:
    return {
        (sku, entry["id"]): entry["on_hand"]
        for sku, product in sandbox.store.products.items()
        for entry in product["warehouses"]
    }


def feed(rows: list[tuple[str, int, int]], stream: str = "supplier_inventory") -> str:
    """A CSV tap's feed: every value a string."""
    schema = {
        "type": "SCHEMA",
        "stream": stream,
        "key_properties": ["sku", "warehouse_id"],
        "schema": {"properties": {name: {"type": "string"} for name in ("sku", "warehouse_id")}},
    }
    messages = [schema] + [
        {
            "type": "RECORD",
            "stream": stream,
            "record": {"sku": sku, "warehouse_id": str(warehouse), "on_hand": str(value)},
        }
        for sku, warehouse, value in rows
    ]
    messages.append({"type": "STATE", "value": {"bookmarks": {stream: "done"}}})
    return "".join(json.dumps(message) + "\n" for message in messages)


def counts(sandbox: Sandbox) -> dict[str, int]:
    requests = sandbox.requests
    return {
        "total": len(requests),
        "writes": sum(r.method in ("POST", "PUT", "DELETE") for r in requests),
        "list_pages": sum(r.method == "GET" and r.path == "/product/" for r in requests),
        "sku_reads": sum(
            r.method == "GET" and r.path != "/product/" and r.path.startswith("/product/")
            for r in requests
        ),
    }


@pytest.fixture
def config(catalog, make_config):
    return make_config(api_url=catalog.url, stream_aliases={"supplier_inventory": "inventory"})


def test_a_1000_row_feed_with_50_changes_costs_50_writes_and_few_reads(catalog, config, run_target):
    """The issue's goal: 1,000 on-hand rows over 500 products, 50 changed."""
    warehouses = sorted(catalog.store.warehouses)[:2]
    current = on_hand(catalog)
    rows = []
    for sku in sorted(catalog.store.products):
        for warehouse in warehouses:
            value = current[(sku, warehouse)]
            if len(rows) % 20 == 0:
                value += 7
            rows.append((sku, warehouse, value))
    assert len(rows) == 1000
    changed = {
        (sku, warehouse) for sku, warehouse, value in rows if value != current[(sku, warehouse)]
    }
    assert len(changed) == 50

    catalog.reset_request_log()
    result = run_target(config, feed(rows), fresh=True)
    assert result.error is None, result.stderr
    measured = counts(catalog)
    assert measured["writes"] == 50
    assert measured["list_pages"] == math.ceil(CATALOG / 100)
    assert measured["sku_reads"] == 0
    assert measured["total"] <= 80, measured
    summary = result.summary["streams"]["inventory"]
    assert (summary["received"], summary["written"], summary["unchanged"]) == (1000, 50, 950)
    after = on_hand(catalog)
    assert all(after[(sku, warehouse)] == value for sku, warehouse, value in rows)
    written = {tuple(r.path.split("/")[2:5:2]) for r in catalog.requests if r.method == "PUT"}
    assert len(written) == 50
    assert written == {(sku, str(warehouse)) for sku, warehouse in changed}
    assert result.states == [{"bookmarks": {"supplier_inventory": "done"}}]

    # The same feed again, in a new container: reads only.
    catalog.reset_request_log()
    again = run_target(config, feed(rows), fresh=True)
    assert counts(catalog)["writes"] == 0
    assert counts(catalog)["total"] == math.ceil(CATALOG / 100)
    assert again.summary["streams"]["inventory"]["unchanged"] == 1000


def test_product_fields_are_written_only_where_they_differ(catalog, make_config, run_target):
    products = sorted(catalog.store.products.values(), key=lambda p: p["sku"])
    messages = [{"type": "SCHEMA", "stream": "products", "schema": {"properties": {}}}]
    changed = set()
    for index, product in enumerate(products):
        price = product["price"]
        if index % 25 == 0:
            price = round(price + 1, 2)
            changed.add(product["sku"])
        record = {"sku": product["sku"], "name": product["name"], "price": str(price)}
        messages.append({"type": "RECORD", "stream": "products", "record": record})
    catalog.reset_request_log()
    result = run_target(
        make_config(api_url=catalog.url),
        "".join(json.dumps(m) + "\n" for m in messages),
        fresh=True,
    )
    assert result.error is None, result.stderr
    measured = counts(catalog)
    assert measured["writes"] == len(changed) == 20
    assert measured["total"] == 20 + math.ceil(CATALOG / 100)
    puts = [r for r in catalog.requests if r.method == "PUT"]
    assert {r.path.split("/")[2] for r in puts} == changed
    counts_ = result.summary["streams"]["products"]
    assert (counts_["written"], counts_["unchanged"]) == (20, CATALOG - 20)


def test_a_small_input_against_a_big_catalog_is_written_blind(catalog, config, run_target):
    """3 rows of 3 SKUs against 500 products: the first list page tells the catalog's size;
    reading the 4 other pages (or the 3 SKUs) would cost as much as writing the 3 rows."""
    newest = sorted(catalog.store.products.values(), key=lambda p: p["created"])[-3:]
    warehouse = sorted(catalog.store.warehouses)[0]
    rows = [(product["sku"], warehouse, 3) for product in newest]
    catalog.reset_request_log()
    result = run_target(config, feed(rows), fresh=True)
    assert result.error is None, result.stderr
    assert counts(catalog) == {"total": 4, "writes": 3, "list_pages": 1, "sku_reads": 0}
    assert all(on_hand(catalog)[(sku, warehouse)] == 3 for sku, _, _ in rows)


def test_a_few_skus_in_every_warehouse_are_read_per_sku(catalog, config, run_target):
    """3 SKUs x 3 warehouses: 3 reads beat 4 more list pages and 9 blind writes."""
    newest = sorted(catalog.store.products.values(), key=lambda p: p["created"])[-3:]
    current = on_hand(catalog)
    rows = [
        (product["sku"], warehouse, current[(product["sku"], warehouse)])
        for product in newest
        for warehouse in sorted(catalog.store.warehouses)
    ]
    rows[0] = (rows[0][0], rows[0][1], rows[0][2] + 1)
    catalog.reset_request_log()
    result = run_target(config, feed(rows), fresh=True)
    assert result.error is None, result.stderr
    assert counts(catalog) == {"total": 5, "writes": 1, "list_pages": 1, "sku_reads": 3}
    summary = result.summary["streams"]["inventory"]
    assert (summary["written"], summary["unchanged"]) == (1, 8)


def test_a_sku_ordoro_refuses_to_look_up_is_dead_lettered_and_the_batch_still_read(
    catalog, config, run_target
):
    """A per-SKU read refused for the SKU itself (414: its URL passes 64 KiB) leaves that SKU
    unread: its rows are written blind and dead-lettered with Ordoro's answer; the other SKUs
    of the batch are still read and judged, and the run goes on."""
    newest = sorted(catalog.store.products.values(), key=lambda p: p["created"])[-2:]
    current = on_hand(catalog)
    warehouses = sorted(catalog.store.warehouses)
    huge = "Ж" * 30_000
    rows = [
        (product["sku"], warehouse, current[(product["sku"], warehouse)])
        for product in newest
        for warehouse in warehouses
    ] + [(huge, warehouse, 1) for warehouse in warehouses]
    catalog.reset_request_log()
    result = run_target(config, feed(rows), fresh=True)
    assert result.error is None, result.stderr
    # 1 list page and 2 SKU reads reach the API; the refused SKU's read and its 3 blind writes
    # are answered 414 by the HTTP server in front of it (the request line is too long).
    assert counts(catalog) == {"total": 3, "writes": 0, "list_pages": 1, "sku_reads": 2}
    summary = result.summary["streams"]["inventory"]
    assert (summary["unchanged"], summary["dead_lettered"]) == (6, 3)
    for line in result.dead_letters:
        assert line["record"]["sku"] == huge
        assert line["status"] == 414
        assert line["response"]
        assert len(line["reason"]) < 500
