"""Inventory never stays stale: stock that moves back, lines removed or switched, sales that
land while the tap reads, and a failure between the orders and the products they moved.

Each test has a control showing the case is the hard one (the figures it checks would have been
dropped, or read before the sale) so it could fail; each fails on the tap before issue 20.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ordoro_core.errors import OrdoroAPIError
from ordoro_core.timestamps import parse_instant
from ordoro_core.urls import build_path
from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions
from tests.tap_ordoro.helpers import (
    TAP_SECRET,
    TAP_USER,
    api_client,
    last_edited_product,
    last_emitted_stock,
    run_tap,
    run_tap_until_error,
    sell,
    stock_in_store,
    tap_config,
)

BOTH_WAYS = pytest.mark.parametrize(
    "streams", [("inventory",), ("orders", "products", "inventory")], ids=["alone", "with-orders"]
)


def stock_sandbox(**options) -> Sandbox:
    """A live account's stock: orders move it without touching the product."""
    options.setdefault("products", 120)
    options.setdefault("orders", 200)
    return Sandbox(
        SandboxOptions(
            seed=41, username=TAP_USER, password=TAP_SECRET, stock_moves_untouched=True, **options
        )
    )


def landed(runs: list, keys) -> dict:
    """What a destination that upserts by key holds for ``keys`` after ``runs``."""
    emitted = last_emitted_stock(*runs)
    return {key: emitted.get(key) for key in keys}


def refresh_due(state: dict) -> dict:
    """The STATE with inventory's whole-catalog read a day overdue."""
    inventory = state["bookmarks"]["inventory"]
    inventory["full_refresh_at"] = (
        parse_instant(inventory["full_refresh_at"]) - timedelta(hours=25)
    ).isoformat()
    return state


# 1. Stock that moves back


@BOTH_WAYS
def test_stock_that_moves_and_moves_back_is_emitted_each_time(streams):
    """The product edited last before the first run (its rows are in the lookback the next
    runs read again): a sale commits 2, then the order is cancelled."""
    with stock_sandbox() as sandbox:
        config = tap_config(sandbox)
        sku = last_edited_product(sandbox)
        first = run_tap(config, streams=streams)
        before = stock_in_store(sandbox, sku)
        number = sell(sandbox, {sku: 2}, order_id="MOVES-BACK")
        sold = stock_in_store(sandbox, sku)
        second = run_tap(config, streams=streams, state=first.last_state)
        assert landed([first, second], sold) == sold != before
        api_client(sandbox).post(build_path("v3", "order", number, "cancel"), {})
        third = run_tap(config, streams=streams, state=second.last_state)
        # Control: the figures moved back to the very ones the first run emitted.
        assert stock_in_store(sandbox, sku) == before == landed([first], before)
        assert landed([first, second, third], before) == before
        # An idle run after it emits nothing again.
        idle = run_tap(config, streams=streams, state=third.last_state)
        assert idle.records["inventory"] == []


# 2. Other ways stock goes stale


@pytest.mark.parametrize("edit", ["removed", "switched"])
def test_a_line_removed_or_switched_is_fresh_by_the_next_whole_catalog_read(edit):
    """A line removed from an open order, or switched to another SKU, releases stock on a SKU
    the order no longer names: nothing the tap reads says so until the whole catalog is read
    (``inventory_refresh_hours``): that bounds the staleness. The SKU the line switched to is
    on the order: it is fresh at once."""
    with stock_sandbox() as sandbox:
        config = tap_config(sandbox)
        released = last_edited_product(sandbox)
        kept, other = [sku for sku in sorted(sandbox.store.products) if sku != released][:2]
        first = run_tap(config, streams=("inventory",))
        before = stock_in_store(sandbox, released)
        number = sell(sandbox, {released: 2, kept: 1}, order_id=f"LINES-{edit}")
        sold = stock_in_store(sandbox, released)
        second = run_tap(config, streams=("inventory",), state=first.last_state)
        assert landed([first, second], sold) == sold != before
        line_id = next(
            line["id"] for line in sandbox.store.orders[number]["lines"] if line["sku"] == released
        )
        if edit == "removed":
            path = build_path("v3", "order", number, "line", str(line_id))
            api_client(sandbox).request("DELETE", path, idempotent=True)
        else:
            sandbox.switch_line_sku(number, line_id, other)
        third = run_tap(config, streams=("inventory",), state=second.last_state)
        runs = [first, second, third]
        if edit == "switched":
            now_sold = stock_in_store(sandbox, other)
            assert landed(runs, now_sold) == now_sold
        # Control: the released SKU's figures moved back to those the first run emitted.
        assert stock_in_store(sandbox, released) == before == landed([first], before)
        refreshed = run_tap(config, streams=("inventory",), state=refresh_due(third.last_state))
        assert landed([*runs, refreshed], before) == before


@BOTH_WAYS
def test_a_sale_between_the_product_read_and_the_order_read_is_caught(streams):
    """The sandbox sells two products of each product page right after serving it: the page
    carries the figures from before the sale, the orders read after it show the sale. Alone,
    inventory reads the orders after the products; with the orders stream, the lists are read
    at once (``max_parallel_requests`` > 1) and the order page is answered a second late.
    ``lookback_seconds`` is 0, so that the next run does not read these products again
    anyway."""
    with stock_sandbox() as sandbox:
        alone = streams == ("inventory",)
        config = tap_config(sandbox, lookback_seconds=0, max_parallel_requests=1 if alone else 8)
        first = run_tap(config, streams=streams)
        client = api_client(sandbox)
        for sku in sorted(sandbox.store.products):  # every product on the pages is new
            client.put(build_path("product", sku), {"name": f"renamed {sku}"})
        sandbox.set_sales_per_product_page(2)
        if not alone:
            sandbox.add_fault(FaultRule(kind="delay", nth={1}, path_prefix="/v3/order"))
        second = run_tap(config, streams=streams, state=first.last_state)
        sandbox.clear_faults()
        sandbox.set_sales_per_product_page(0)
        sold = sandbox.sold_during_reads
        assert sold, "the knob sold products while the tap read"
        # Control: the product pages gave these SKUs' figures from before the sale.
        moved = stock_in_store(sandbox, *sold)
        first_rows: dict = {}
        for row in second.records["inventory"]:
            first_rows.setdefault((row["sku"], row["warehouse_id"]), row)
        warehouse_id = sandbox.store.default_warehouse()["id"]
        for sku in sold:
            before_sale = moved[(sku, warehouse_id)][1] - 1
            assert first_rows[(sku, warehouse_id)]["committed"] == before_sale
        third = run_tap(config, streams=streams, state=second.last_state)
        assert landed([first, second, third], moved) == moved


def test_a_failure_after_the_orders_are_read_leaves_no_product_stale():
    """The products on 150 new orders are read again through the catalog list, a page at a
    time; a non-transient error on its second page ends the run. The next run, from the last
    STATE, reads every one of them again."""
    with stock_sandbox(products=300) as sandbox:
        config = tap_config(sandbox, max_parallel_requests=1)
        first = run_tap(config, streams=("inventory",))
        skus = sorted(sandbox.store.products)[::2]
        for index, sku in enumerate(skus):
            sell(sandbox, {sku: 1}, order_id=f"CRASH-{index}")
        # /product/ requests of the next run: its list read, then the catalog pages read for
        # the 150 SKUs sold (more SKUs than catalog pages: the list costs less): the 3rd fails.
        sandbox.add_fault(FaultRule(kind="status", status=400, nth={3}, path_prefix="/product/"))
        interrupted, error = run_tap_until_error(
            config, streams=("inventory",), state=first.last_state
        )
        sandbox.clear_faults()
        assert isinstance(error, OrdoroAPIError)
        moved = stock_in_store(sandbox, *skus)
        # Control: the failure landed between the products emitted and the rest.
        emitted_before = {sku for sku, _ in last_emitted_stock(interrupted)}
        assert 0 < len(emitted_before & set(skus)) < len(skus)
        resumed = run_tap(config, streams=("inventory",), state=interrupted.last_state)
        assert landed([first, interrupted, resumed], moved) == moved
