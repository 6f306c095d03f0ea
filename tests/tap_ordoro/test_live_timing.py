"""tap-ordoro under a live account's timing: the sandbox's live knobs, each with a control.

Each behaviour of a live account (``ordoro_sandbox.live``) has a test that the tap passes
and a control that shows the naive design (or the tap's earlier code) failing under the same
knob, so the test could fail.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from ordoro_core.catalog import STREAMS
from ordoro_core.client import OrdoroClient
from ordoro_core.timestamps import RESOLUTION, parse_instant, to_utc_iso
from ordoro_core.urls import build_path
from ordoro_sandbox import Sandbox, SandboxOptions
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER, run_tap, tap_config

BULK_INSTANT = "2024-10-01T12:00:00.000000-05:00"


def live_sandbox(**options) -> Sandbox:
    options.setdefault("products", 120)
    options.setdefault("orders", 320)
    return Sandbox(SandboxOptions(seed=11, username=TAP_USER, password=TAP_SECRET, **options))


def api(sandbox: Sandbox) -> OrdoroClient:
    return OrdoroClient(TAP_USER, TAP_SECRET, sandbox.url, requests_per_minute=60_000)


def stamp_bulk_run(sandbox: Sandbox, size: int) -> list[str]:
    """One bulk action: the first ``size`` orders share one instant, older than the rest."""
    numbers = sorted(sandbox.store.orders)[:size]
    sandbox.bulk_action("orders", numbers)
    with sandbox.store.lock:
        for number in numbers:
            sandbox.store.orders[number]["updated_date"] = BULK_INSTANT
    return numbers


def offset_stepping_keyset(client: OrdoroClient) -> set[str]:
    """The control: the tap's earlier keyset paging, which stepped by offset inside a run of
    equal instants longer than a page."""
    seen: set[str] = set()
    cursor, offset, keys_at_cursor = None, 0, set()
    while True:
        query = {"sort": "updated_date", "limit": 100, "offset": offset}
        if cursor is not None:
            query["updated_after"] = to_utc_iso(cursor - RESOLUTION)
        page = client.get("/v3/order", query)["order"]
        for order in page:
            at_cursor = cursor is not None and parse_instant(order["updated_date"]) == cursor
            if at_cursor and order["order_number"] in keys_at_cursor:
                continue
            seen.add(order["order_number"])
        if len(page) < 100:
            return seen
        last = parse_instant(page[-1]["updated_date"])
        if cursor is None or last > cursor:
            cursor, offset, keys_at_cursor = last, 0, set()
        else:
            offset += len(page)
        keys_at_cursor |= {
            o["order_number"] for o in page if parse_instant(o["updated_date"]) == cursor
        }


# 1. Bulk actions share one timestamp


@pytest.mark.parametrize("parallel", [1, 6], ids=["sequential", "parallel"])
def test_a_bulk_run_longer_than_a_page_loses_nothing_while_its_members_change(parallel):
    with live_sandbox() as sandbox:
        run_members = stamp_bulk_run(sandbox, 250)
        sandbox.set_mutate_per_page(3)  # already-read members leave the run while we page
        run = run_tap(
            tap_config(sandbox, max_parallel_requests=parallel), streams=("orders", "shipments")
        )
        sandbox.set_mutate_per_page(0)
        emitted = run.keys("orders", "order_number")
        assert set(emitted) == set(sandbox.store.orders)
        left_the_run = [
            number
            for number in run_members
            if sandbox.store.orders[number]["updated_date"] != BULK_INSTANT
        ]
        assert left_the_run, "the knob made members of the run change while the tap paged"
        # Each order at most twice: once at the bulk instant, once more if it changed after.
        assert max(Counter(emitted).values()) <= 2
        # A member that changed after the tap last looked is emitted by the next run.
        after = run_tap(tap_config(sandbox), streams=("orders",), state=run.last_state)
        versions = {
            (order["order_number"], order["updated_date"])
            for order in [*run.records["orders"], *after.records["orders"]]
        }
        for number in left_the_run:
            assert (number, sandbox.store.orders[number]["updated_date"]) in versions


def test_control_offset_stepping_inside_a_bulk_run_skips_orders():
    with live_sandbox() as sandbox:
        stamp_bulk_run(sandbox, 250)
        sandbox.set_mutate_per_page(3)
        seen = offset_stepping_keyset(api(sandbox))
        sandbox.set_mutate_per_page(0)
        assert set(sandbox.store.orders) - seen, "the control should lose orders"


# 2. Rows commit late


def late_commit_scenario(sandbox: Sandbox, config: dict) -> tuple:
    """Run, then commit an order and a purchase order stamped before the bookmark, run again."""
    client = api(sandbox)
    number_a, number_b = sorted(sandbox.store.orders)[:2]
    po_id = sorted(sandbox.store.purchase_orders)[0]
    client.put(build_path("v3", "order", number_a), {"internal_notes": "visible at once"})
    with sandbox.store.lock:
        sandbox.store.touch("purchase_orders", sorted(sandbox.store.purchase_orders)[1])
    first = run_tap(config, streams=("orders", "purchase_orders"))
    sandbox.set_commit_lag(60)  # these transactions began a minute ago
    client.put(build_path("v3", "order", number_b), {"internal_notes": "committed late"})
    with sandbox.store.lock:
        sandbox.store.touch("purchase_orders", po_id)
    sandbox.set_commit_lag(0)
    assert parse_instant(sandbox.store.orders[number_b]["updated_date"]) < parse_instant(
        first.bookmark("orders")
    ), "the late row carries an instant behind the bookmark"
    sandbox.reset_request_log()
    second = run_tap(config, streams=("orders", "purchase_orders"), state=first.last_state)
    return number_a, number_b, po_id, second


def test_rows_that_commit_late_are_read_through_the_lookback():
    with live_sandbox() as sandbox:
        number_a, number_b, po_id, second = late_commit_scenario(sandbox, tap_config(sandbox))
        assert second.keys("orders", "order_number") == [number_b]
        assert second.keys("purchase_orders", "po_id") == [po_id]
        # The lookback re-read `number_a`; the STATE says it was emitted, so it is dropped.
        assert number_a not in second.keys("orders", "order_number")
        # It cost no extra request: one page per list endpoint.
        paths = Counter(entry.path for entry in sandbox.requests)
        assert paths == {"/v3/order": 1, "/purchase_order/": 1}


def test_control_without_a_lookback_rows_that_commit_late_are_lost():
    with live_sandbox() as sandbox:
        config = tap_config(sandbox, lookback_seconds=0)
        _, number_b, po_id, second = late_commit_scenario(sandbox, config)
        assert number_b not in second.keys("orders", "order_number")
        assert po_id not in second.keys("purchase_orders", "po_id")


# 3. Sales move stock without touching the product


def place_order(sandbox: Sandbox, sku: str, quantity: int) -> str:
    warehouse_id = sandbox.store.default_warehouse()["id"]
    order_id = f"LIVE-{sku}-{quantity}"
    address = {"name": "Ada Buyer", "street1": "1 Main St", "city": "Austin", "state": "TX",
               "zip": "78701", "country": "US"}  # fmt: skip
    body = {
        "order_id": order_id,
        "shipping_address": address,
        "billing_address": address,
        "warehouse_id": warehouse_id,
        "lines": [{"product": {"sku": sku, "name": sku}, "quantity": quantity}],
    }
    api(sandbox).post(build_path("v3", "order"), body)
    return f"M-{order_id}"


def stock_of(sandbox: Sandbox, sku: str) -> dict[int, tuple]:
    return {
        entry["id"]: (entry["committed"], entry["available"], entry["allocated"])
        for entry in sandbox.store.products[sku]["warehouses"]
    }


@pytest.mark.parametrize(
    "streams", [("inventory",), ("orders", "products", "inventory")], ids=["alone", "with-orders"]
)
def test_inventory_follows_stock_that_sales_move_without_touching_the_product(streams):
    with live_sandbox(stock_moves_untouched=True) as sandbox:
        config = tap_config(sandbox)
        first = run_tap(config, streams=streams)
        sold, counted = sorted(sandbox.store.products)[3], sorted(sandbox.store.products)[4]
        updated_before = sandbox.store.products[sold]["updated"]
        before = stock_of(sandbox, sold)
        place_order(sandbox, sold, 2)
        warehouse_id = sandbox.store.default_warehouse()["id"]
        api(sandbox).put(
            build_path("product", counted, "warehouse", warehouse_id), {"on_hand": 777}
        )
        assert sandbox.store.products[sold]["updated"] == updated_before
        assert stock_of(sandbox, sold) != before

        second = run_tap(config, streams=streams, state=first.last_state)
        rows = {(r["sku"], r["warehouse_id"]): r for r in second.records["inventory"]}
        for warehouse, (committed, available, allocated) in stock_of(sandbox, sold).items():
            row = rows[(sold, warehouse)]
            assert (row["committed"], row["available"], row["allocated"]) == (
                committed,
                available,
                allocated,
            )
        assert rows[(counted, warehouse_id)]["on_hand"] == 777  # on-hand edits still come
        # Only what moved: the sold and the counted product, not the catalog.
        assert {sku for sku, _ in rows} == {sold, counted}


def test_control_the_product_filter_does_not_see_stock_moved_by_a_sale():
    with live_sandbox(stock_moves_untouched=True) as sandbox:
        first = run_tap(tap_config(sandbox), streams=("products",))
        sold = sorted(sandbox.store.products)[3]
        place_order(sandbox, sold, 2)
        bookmark = parse_instant(first.bookmark("products"))
        query = {"updated_after": to_utc_iso(bookmark), "limit": 100}
        changed = api(sandbox).get("/product/", query)["product"]
        assert sold not in {product["sku"] for product in changed}


def test_inventory_reads_the_whole_catalog_when_its_refresh_is_due():
    with live_sandbox(stock_moves_untouched=True) as sandbox:
        config = tap_config(sandbox)
        first = run_tap(config, streams=("inventory",))
        state = first.last_state
        idle = run_tap(config, streams=("inventory",), state=state)
        assert idle.records["inventory"] == []
        stale = parse_instant(state["bookmarks"]["inventory"]["full_refresh_at"])
        state["bookmarks"]["inventory"]["full_refresh_at"] = (
            stale - timedelta(hours=25)
        ).isoformat()
        refreshed = run_tap(config, streams=("inventory",), state=state)
        expected = {
            (sku, entry["id"])
            for sku, product in sandbox.store.products.items()
            for entry in product["warehouses"]
        }
        emitted = set(refreshed.keys("inventory", "sku", "warehouse_id"))
        # Rows the first run emitted within the lookback, unchanged since, are not repeated.
        recent = {
            (row["sku"], row["warehouse_id"])
            for row in first.records["inventory"]
            if parse_instant(row["updated"])
            >= parse_instant(first.bookmark("inventory")) - timedelta(minutes=5)
        }
        assert expected - recent <= emitted <= expected
        assert len(emitted) > len(expected) // 2


# 4. An idle run costs almost nothing

LIST_PATHS = {
    "orders": {"/v3/order"},
    "shipments": {"/v3/order"},
    "products": {"/product/"},
    "inventory": {"/product/", "/v3/order"},
    "warehouses": {"/warehouse/"},
    "sales_channels": {"/cart/"},
    "suppliers": {"/supplier/"},
    "purchase_orders": {"/purchase_order/"},
    "return_orders": {"/v3/return_order"},
}


INCREMENTAL = sorted(name for name, spec in STREAMS.items() if spec.is_incremental)


def test_an_idle_run_costs_one_request_per_list_endpoint(caplog):
    with live_sandbox() as sandbox:
        config = tap_config(sandbox)
        first = run_tap(config)
        sandbox.reset_request_log()
        with caplog.at_level("INFO"):
            idle = run_tap(config, state=first.last_state)
        paths = Counter(entry.path for entry in sandbox.requests)
        assert paths == dict.fromkeys(set().union(*LIST_PATHS.values()), 1)
        for stream in INCREMENTAL:
            assert idle.records.get(stream, []) == [], stream
        done = {r.getMessage() for r in caplog.records if "(done)" in r.getMessage()}
        assert "orders: 1 pages read, 0 records emitted (done)" in done
        assert "shipments: 0 pages read, 0 records emitted (done)" in done


@pytest.mark.parametrize("stream", sorted(LIST_PATHS))
def test_an_idle_run_of_one_stream_reads_only_its_lists_once(stream):
    with live_sandbox(orders=150, products=150) as sandbox:
        config = tap_config(sandbox)
        first = run_tap(config, streams=(stream,))
        sandbox.reset_request_log()
        idle = run_tap(config, streams=(stream,), state=first.last_state)
        paths = Counter(entry.path for entry in sandbox.requests)
        assert paths == dict.fromkeys(LIST_PATHS[stream], 1)
        if stream in INCREMENTAL:
            assert idle.records.get(stream, []) == []
        else:  # a full table is emitted whole every run, from its one page
            assert len(idle.records[stream]) == len(first.records[stream])


def test_an_idle_run_stays_free_across_many_polls():
    """A five-minute schedule: each poll resumes from the last STATE, nothing changes."""
    with live_sandbox(orders=150, products=150) as sandbox:
        config = tap_config(sandbox)
        state = run_tap(config).last_state
        sandbox.reset_request_log()
        for _ in range(3):
            state = run_tap(config, state=state).last_state
            time.sleep(0.01)
        assert len(sandbox.requests) == 3 * len(set().union(*LIST_PATHS.values()))


def test_what_the_lookback_costs_on_a_busy_account():
    """250 orders updated within the lookback before the bookmark: the next run re-reads them
    (one page per 100) and emits none of them again."""
    with live_sandbox() as sandbox:
        client = api(sandbox)
        busy = sorted(sandbox.store.orders)[:250]
        for number in busy:
            client.put(build_path("v3", "order", number), {"internal_notes": "busy"})
        config = tap_config(sandbox)
        first = run_tap(config, streams=("orders",))
        sandbox.reset_request_log()
        second = run_tap(config, streams=("orders",), state=first.last_state)
        assert second.records["orders"] == []
        assert sum(1 for entry in sandbox.requests if entry.path == "/v3/order") == 3
        sandbox.reset_request_log()
        without = run_tap(tap_config(sandbox, lookback_seconds=0), state=first.last_state,
                          streams=("orders",))  # fmt: skip
        assert without.records["orders"] == []
        assert sum(1 for entry in sandbox.requests if entry.path == "/v3/order") == 1
