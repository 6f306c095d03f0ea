"""tap-ordoro's sync correctness against the sandbox over real HTTP."""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from contextlib import redirect_stdout

import pytest

from ordoro_core.client import OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.timestamps import parse_instant
from ordoro_core.urls import build_path
from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions
from tap_ordoro.tap import TapOrdoro
from tests.tap_ordoro.helpers import (
    TAP_SECRET,
    TAP_USER,
    parse_messages,
    run_tap,
    select_only,
    tap_config,
)


def api(sandbox) -> OrdoroClient:
    return OrdoroClient(TAP_USER, TAP_SECRET, sandbox.url)


def duplicates(values) -> list:
    return [value for value, count in Counter(values).items() if count > 1]


def test_full_sync_emits_every_record_exactly_once_over_many_pages(seeded_sandbox):
    store = seeded_sandbox.store
    seeded_sandbox.reset_request_log()
    run = run_tap(tap_config(seeded_sandbox))

    expected = {
        "orders": sorted(store.orders),
        "products": sorted(store.products),
        "warehouses": sorted(store.warehouses),
        "sales_channels": sorted(store.carts),
        "suppliers": sorted(store.suppliers),
        "purchase_orders": sorted(store.purchase_orders),
        "return_orders": sorted(store.return_orders),
    }
    key_of = {
        "orders": "order_number",
        "products": "sku",
        "warehouses": "id",
        "sales_channels": "id",
        "suppliers": "id",
        "purchase_orders": "po_id",
        "return_orders": "reference_id",
    }
    for stream, keys in expected.items():
        emitted = run.keys(stream, key_of[stream])
        assert duplicates(emitted) == [], stream
        assert sorted(emitted) == keys, stream

    inventory = run.keys("inventory", "sku", "warehouse_id")
    assert duplicates(inventory) == []
    assert sorted(inventory) == sorted(
        (sku, entry["id"])
        for sku, product in store.products.items()
        for entry in product["warehouses"]
    )
    shipped = sorted(
        number
        for number, order in store.orders.items()
        if order["status"] == "shipped"
        and (order.get("shipping_info") or {}).get("tracking_number")
    )
    assert sorted(run.keys("shipments", "order_number")) == shipped
    assert len(store.orders) > 300
    assert sum(1 for entry in seeded_sandbox.requests if entry.path == "/v3/order") >= 4


def test_records_are_emitted_as_ordoro_sent_them(seeded_sandbox):
    run = run_tap(tap_config(seeded_sandbox), streams=("orders", "products"))
    for order in run.records["orders"]:
        assert order == seeded_sandbox.store.orders[order["order_number"]]
    for product in run.records["products"]:
        assert product == seeded_sandbox.store.products[product["sku"]]


def test_shipments_carry_every_package_tracking_number(seeded_sandbox):
    run = run_tap(tap_config(seeded_sandbox), streams=("shipments",))
    multi = [row for row in run.records["shipments"] if len(row["package_tracking_numbers"]) > 1]
    assert multi, "the seed has multi-package shipments"
    for shipment in run.records["shipments"]:
        order = seeded_sandbox.store.orders[shipment["order_number"]]
        info = order["shipping_info"]
        assert shipment["tracking_number"] == info["tracking_number"]
        assert shipment["carrier_name"] == info["carrier_name"]
        assert shipment["updated_date"] == order["updated_date"]
        expected = [
            p["tracking_number"] for p in info.get("packages") or [] if p.get("tracking_number")
        ]
        assert shipment["package_tracking_numbers"] == expected
        assert [line["sku"] for line in shipment["lines"]] == [
            line["sku"] for line in order["lines"]
        ]


def test_parallel_windows_end_on_full_pages(tmp_path):
    """Windows read in parallel cost what one keyset chain would: ``ceil((N - 1) / 99)`` pages
    for N orders (each page after a window's first repeats the cursor's record). Windows cut at
    arbitrary shares of the count would each end on a short page, one request more per window.
    The bookmark ends at the newest order, whichever window finished last."""
    options = SandboxOptions(seed=17, username=TAP_USER, password=TAP_SECRET, orders=1_250)
    with Sandbox(options) as sandbox:
        run = run_tap(tap_config(sandbox), streams=("orders",))
        reads = [entry for entry in sandbox.requests if entry.path == "/v3/order"]
        newest = max(
            parse_instant(order["updated_date"]) for order in sandbox.store.orders.values()
        )
        total = len(sandbox.store.orders)
        emitted = run.keys("orders", "order_number")
    assert sorted(emitted) == sorted(sandbox.store.orders)
    assert any(entry.query.get("offset", ["0"]) != ["0"] for entry in reads), "read in parallel"
    assert len(reads) == math.ceil((total - 1) / 99)
    assert parse_instant(run.bookmark("orders")) == newest


def test_incremental_run_emits_the_changes_not_the_bulk(fresh_sandbox):
    config = tap_config(fresh_sandbox)
    first = run_tap(config, streams=("orders", "products", "inventory", "purchase_orders"))
    assert len(first.records["orders"]) == len(fresh_sandbox.store.orders)

    client = api(fresh_sandbox)
    changed_orders = sorted(fresh_sandbox.store.orders)[:3]
    for number in changed_orders:
        client.put(build_path("v3", "order", number), {"internal_notes": "changed"})
    changed_skus = sorted(fresh_sandbox.store.products)[5:7]
    warehouse_id = next(iter(fresh_sandbox.store.warehouses))
    for sku in changed_skus:
        client.put(build_path("product", sku, "warehouse", warehouse_id), {"on_hand": 4242})

    second = run_tap(
        config,
        streams=("orders", "products", "inventory", "purchase_orders"),
        state=first.last_state,
    )
    orders = second.keys("orders", "order_number")
    assert set(changed_orders) <= set(orders)
    # At most the records sharing the previous bookmark's instant come again (inclusive resume).
    assert len(orders) <= len(changed_orders) + 1
    assert set(changed_skus) <= set(second.keys("products", "sku"))
    assert len(second.records["products"]) <= len(changed_skus) + 1
    set_values = {
        (row["sku"], row["warehouse_id"]): row["on_hand"] for row in second.records["inventory"]
    }
    for sku in changed_skus:
        assert set_values[(sku, warehouse_id)] == 4242
    assert len(second.records["purchase_orders"]) <= 1
    for stream in ("orders", "products", "inventory"):
        assert parse_instant(second.bookmark(stream)) >= parse_instant(first.bookmark(stream))


@pytest.mark.parametrize("stream", ["orders", "products", "purchase_orders", "shipments"])
def test_no_record_is_skipped_when_records_change_during_the_sync(fresh_sandbox, stream):
    fresh_sandbox.set_mutate_per_page(3)
    run = run_tap(tap_config(fresh_sandbox), streams=(stream,))
    fresh_sandbox.set_mutate_per_page(0)
    store = fresh_sandbox.store
    if stream == "orders":
        expected, emitted = set(store.orders), run.keys("orders", "order_number")
    elif stream == "products":
        expected, emitted = set(store.products), run.keys("products", "sku")
    elif stream == "purchase_orders":
        expected, emitted = set(store.purchase_orders), run.keys("purchase_orders", "po_id")
    else:
        expected = {
            number
            for number, order in store.orders.items()
            if order["status"] == "shipped"
            and (order.get("shipping_info") or {}).get("tracking_number")
        }
        emitted = run.keys("shipments", "order_number")
    assert expected - set(emitted) == set()
    assert set(emitted) <= expected


def test_plain_offset_paging_would_skip_records_under_the_same_changes(fresh_sandbox):
    """Control for the test above: the sandbox's knob does make naive offset paging lose records."""
    fresh_sandbox.set_mutate_per_page(3)
    client = api(fresh_sandbox)
    seen, offset = set(), 0
    while True:
        query = {"sort": "updated_date", "limit": 100, "offset": offset}
        page = client.get("/v3/order", query)["order"]
        seen.update(order["order_number"] for order in page)
        offset += len(page)
        if len(page) < 100:
            break
    fresh_sandbox.set_mutate_per_page(0)
    assert set(fresh_sandbox.store.orders) - seen


@pytest.mark.parametrize("stream", ["orders", "products", "purchase_orders"])
def test_no_record_is_skipped_when_records_not_read_yet_move_to_the_end(stream):
    """Before each list page, the three oldest records no page has served yet get a new
    updated time: with parallel windows, a record leaves a window not read yet for the end of
    the list, past windows that may have finished. Every record is emitted in this one run."""
    options = SandboxOptions(
        seed=6, username=TAP_USER, password=TAP_SECRET, orders=1250, purchase_orders=30
    )
    with Sandbox(options) as sandbox:
        sandbox.set_mutate_unread_per_page(3)
        run = run_tap(tap_config(sandbox), streams=(stream,))
        sandbox.set_mutate_unread_per_page(0)
        store = sandbox.store
        expected, key = {
            "orders": (set(store.orders), "order_number"),
            "products": (set(store.products), "sku"),
            "purchase_orders": (set(store.purchase_orders), "po_id"),
        }[stream]
        emitted = set(run.keys(stream, key))
    assert expected - emitted == set()
    assert emitted <= expected


def windows_read_last_first(client: OrdoroClient) -> set[str]:
    """The control: orders read in two windows of instants, the later one first (as a
    parallel read's windows may finish), each keyset-like to its end."""
    first = client.get("/v3/order", {"sort": "updated_date", "limit": 100})
    middle = {"sort": "updated_date", "limit": 1, "offset": first["count"] // 2}
    probe = client.get("/v3/order", middle)
    boundary = probe["order"][0]["updated_date"]

    def window(after: str | None, until: str | None) -> set[str]:
        seen: set[str] = set()
        while True:
            query = {"sort": "updated_date", "limit": 100}
            if after is not None:
                query["updated_after"] = after
            if until is not None:
                query["updated_before"] = until
            page = client.get("/v3/order", query)["order"]
            seen.update(order["order_number"] for order in page)
            if len(page) < 100:
                return seen
            after = page[-1]["updated_date"]

    later = window(boundary, None)
    return later | window(None, boundary)


def test_control_a_window_finished_first_misses_records_that_move_past_its_end():
    options = SandboxOptions(seed=6, username=TAP_USER, password=TAP_SECRET, orders=1250)
    with Sandbox(options) as sandbox:
        sandbox.set_mutate_unread_per_page(3)
        seen = windows_read_last_first(api(sandbox))
        sandbox.set_mutate_unread_per_page(0)
        assert set(sandbox.store.orders) - seen, "the control should miss orders"


DST_EARLIER = "2016-11-06T01:30:00.000000-05:00"  # 06:30 UTC
DST_LATER = "2016-11-06T01:10:00.000000-06:00"  # 07:10 UTC: later, though it sorts first as text


def put_dst_pair_last(sandbox, kind: str, field: str) -> tuple[str, str]:
    """Make every record older than the DST pair, then give the pair the two last instants."""
    records = getattr(sandbox.store, kind)
    with sandbox.store.lock:
        keys = sorted(records)
        for index, key in enumerate(keys):
            records[key][field] = f"2016-10-{1 + index % 28:02d}T12:00:00.{index:06d}-05:00"
        earlier, later = keys[7], keys[3]
        records[earlier][field] = DST_EARLIER
        records[later][field] = DST_LATER
    return earlier, later


@pytest.mark.parametrize(
    ("stream", "kind", "field"),
    [
        ("orders", "orders", "updated_date"),
        ("products", "products", "updated"),
        ("purchase_orders", "purchase_orders", "updated"),
    ],
)
def test_bookmark_holds_the_latest_instant_across_a_dst_change(fresh_sandbox, stream, kind, field):
    earlier, _later = put_dst_pair_last(fresh_sandbox, kind, field)
    config = tap_config(fresh_sandbox)
    first = run_tap(config, streams=(stream,))
    assert parse_instant(first.bookmark(stream)) == parse_instant(DST_LATER)
    for state in first.states:
        value = state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")
        if value:
            assert parse_instant(value) <= parse_instant(DST_LATER)

    key = {"orders": "order_number", "products": "sku", "purchase_orders": "po_id"}[stream]
    second = run_tap(config, streams=(stream,), state=first.last_state)
    # The lookback re-reads `later`; the STATE says it was emitted already, so it is dropped.
    assert second.keys(stream, key) == []
    assert earlier not in second.keys(stream, key)
    assert parse_instant(second.bookmark(stream)) == parse_instant(DST_LATER)


def test_an_interrupted_sync_resumes_from_its_last_state_without_loss(fresh_sandbox):
    config = tap_config(fresh_sandbox, max_parallel_requests=1)
    # A non-transient error on the fourth page request stops the tap mid-stream.
    fresh_sandbox.add_fault(FaultRule(kind="status", status=400, nth={4}, path_prefix="/v3/order"))
    catalog = select_only(config, "orders")
    buffer = io.StringIO()
    with redirect_stdout(buffer), pytest.raises(OrdoroAPIError):
        TapOrdoro(config=config, catalog=catalog, parse_env_config=False).sync_all()
    interrupted = parse_messages([line for line in buffer.getvalue().splitlines() if line])
    fresh_sandbox.clear_faults()

    assert 200 <= len(interrupted.records["orders"]) < len(fresh_sandbox.store.orders)
    assert interrupted.last_state is not None
    resumed = run_tap(config, streams=("orders",), state=interrupted.last_state)
    union = set(interrupted.keys("orders", "order_number")) | set(
        resumed.keys("orders", "order_number")
    )
    assert union == set(fresh_sandbox.store.orders)
    # It resumed where it stopped, not from the beginning.
    assert len(resumed.records["orders"]) < len(fresh_sandbox.store.orders) - 150


def test_a_sync_interrupted_in_parallel_windows_resumes_without_loss():
    """An error in one window ends the sync (the other windows' threads stop, nothing hangs),
    and the last STATE's bookmark stands at the watermark: the resumed sync, from that STATE,
    emits every order the interrupted one did not."""
    options = SandboxOptions(seed=19, username=TAP_USER, password=TAP_SECRET, orders=1_250)
    with Sandbox(options) as sandbox:
        config = tap_config(sandbox)
        # The 12th list request: past the first page and the probes, inside the windows.
        sandbox.add_fault(FaultRule(kind="status", status=400, nth={12}, path_prefix="/v3/order"))
        buffer = io.StringIO()
        with redirect_stdout(buffer), pytest.raises(OrdoroAPIError):
            TapOrdoro(
                config=config, catalog=select_only(config, "orders"), parse_env_config=False
            ).sync_all()
        interrupted = parse_messages([line for line in buffer.getvalue().splitlines() if line])
        sandbox.clear_faults()
        resumed = run_tap(config, streams=("orders",), state=interrupted.last_state)
        every_order = set(sandbox.store.orders)
    assert interrupted.records["orders"], "the windows emitted before the error"
    assert interrupted.last_state is not None
    union = set(interrupted.keys("orders", "order_number")) | set(
        resumed.keys("orders", "order_number")
    )
    assert union == every_order
    # It resumed from the watermark, not from the beginning (windows past it are read again).
    assert interrupted.bookmark("orders") is not None
    assert len(resumed.records["orders"]) < len(every_order)


def test_start_date_bounds_the_first_sync(seeded_sandbox):
    instants = sorted(
        parse_instant(order["updated_date"]) for order in seeded_sandbox.store.orders.values()
    )
    start = instants[len(instants) // 2]
    run = run_tap(tap_config(seeded_sandbox, start_date=start.isoformat()), streams=("orders",))
    expected = {
        number
        for number, order in seeded_sandbox.store.orders.items()
        if parse_instant(order["updated_date"]) >= start
    }
    assert set(run.keys("orders", "order_number")) == expected


def test_warehouse_id_limits_products_and_inventory(seeded_sandbox):
    warehouse_id = sorted(seeded_sandbox.store.warehouses)[1]
    run = run_tap(
        tap_config(seeded_sandbox, warehouse_id=warehouse_id), streams=("products", "inventory")
    )
    assert run.records["inventory"]
    assert {row["warehouse_id"] for row in run.records["inventory"]} == {warehouse_id}
    for product in run.records["products"]:
        assert [entry["id"] for entry in product["warehouses"]] == [warehouse_id]


def test_stream_maps_and_flattening_apply(seeded_sandbox):
    config = tap_config(
        seeded_sandbox,
        stream_maps={"warehouses": {"__alias__": "ordoro_warehouses", "_link": None}},
        flattening_enabled=True,
        flattening_max_depth=1,
    )
    run = run_tap(config, streams=("warehouses",))
    rows = run.records["ordoro_warehouses"]
    assert len(rows) == len(seeded_sandbox.store.warehouses)
    assert all("_link" not in row for row in rows)
    assert all("address__city" in row for row in rows)
    assert "address__city" in run.schemas["ordoro_warehouses"]["properties"]


def test_long_syncs_log_progress_per_stream(seeded_sandbox, caplog):
    seeded_sandbox.reset_request_log()
    with caplog.at_level("INFO"):
        run_tap(tap_config(seeded_sandbox), streams=("orders",))
    done = [r.getMessage() for r in caplog.records if "(done)" in r.getMessage()]
    pages = sum(1 for entry in seeded_sandbox.requests if entry.path == "/v3/order")
    orders = len(seeded_sandbox.store.orders)
    assert done == [f"orders: {pages} pages read, {orders} records emitted (done)"]


def test_messages_are_valid_json_lines_with_schemas_first(seeded_sandbox):
    run = run_tap(tap_config(seeded_sandbox), streams=("warehouses",))
    first = json.loads(run.lines[0])
    assert first["type"] == "SCHEMA"
    assert first["key_properties"] == ["id"]


def test_a_return_order_without_updated_date_is_emitted_not_lost(fresh_sandbox):
    config = tap_config(fresh_sandbox)
    first = run_tap(config, streams=("return_orders",))
    undated = sorted(fresh_sandbox.store.return_orders)[0]
    with fresh_sandbox.store.lock:
        fresh_sandbox.store.return_orders[undated]["updated_date"] = None
    second = run_tap(config, streams=("return_orders",), state=first.last_state)
    assert undated in second.keys("return_orders", "reference_id")
    assert second.bookmark("return_orders") == first.bookmark("return_orders")


def test_more_records_sharing_one_instant_than_fit_a_page_are_each_emitted_once(fresh_sandbox):
    """Keyset paging steps over a run of equal timestamps longer than a page by offset."""
    shared = "2024-11-03T01:30:00.000000-05:00"
    with fresh_sandbox.store.lock:
        numbers = sorted(fresh_sandbox.store.orders)
        for index, number in enumerate(numbers):
            tied = index % 4 != 0  # three quarters of the orders share one instant
            stamp = shared if tied else f"2024-10-{1 + index % 28:02d}T08:00:00.{index:06d}-05:00"
            fresh_sandbox.store.orders[number]["updated_date"] = stamp
    tied_count = sum(1 for index in range(len(numbers)) if index % 4 != 0)
    assert tied_count > 200

    run = run_tap(tap_config(fresh_sandbox), streams=("orders",))
    emitted = run.keys("orders", "order_number")
    assert duplicates(emitted) == []
    assert sorted(emitted) == numbers
    assert parse_instant(run.bookmark("orders")) == parse_instant(shared)
