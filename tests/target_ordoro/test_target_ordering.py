"""Products before inventory, orders before shipments, whatever order the streams arrive in;
records waiting for what they need are deferred, and only the STATEs after them wait."""

from __future__ import annotations

import io

import pytest


@pytest.mark.parametrize("batch_size_rows", [None, 1])
def test_dependents_arriving_first_are_fully_written(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target, batch_size_rows
):
    """Default batches: upstream sinks are drained first. One-record batches: inventory and
    shipments are drained before their products/orders were even read, so they are deferred
    and written by the end-of-input retry."""
    config = make_config(batch_size_rows=batch_size_rows)
    result = run_target(config, fixture_text("out_of_order.singer"))
    assert result.error is None, result.stderr
    assert result.dead_letters == []

    def on_hand(sku, warehouse_id):
        entries = sandbox.store.products[sku]["warehouses"]
        return next(entry["on_hand"] for entry in entries if entry["id"] == warehouse_id)

    assert on_hand(f"{prefix}-LATE-1", placeholders["WH1"]) == 11
    assert on_hand(f"{prefix}-LATE-2", placeholders["WH2"]) == 22
    assert sandbox.store.products[f"{prefix}-LATE-1"]["name"] == "Arrives after its stock"
    order = sandbox.store.orders[f"M-{prefix}-3001"]
    assert order["shipping_info"]["tracking_number"] == f"LATE-{prefix}"

    streams = result.summary["streams"]
    deferred = 0 if batch_size_rows is None else 1
    assert streams["inventory"]["deferred_then_written"] == 2 * deferred
    assert streams["shipments"]["deferred_then_written"] == deferred
    assert streams["inventory"]["written"] + streams["inventory"]["deferred_then_written"] == 2
    assert all(counts["deferred"] == 0 for counts in streams.values())
    # Each STATE once everything before it is written; with one-record batches the stock and
    # the tracking are written (and their STATEs emitted) as soon as their product and order are.
    first = {"inventory": f"{prefix}-1"}
    second = {**first, "shipments": f"{prefix}-2"}
    last = {**second, "products": f"{prefix}-3"}
    expected = [first, last] if batch_size_rows is None else [first, second, last]
    assert result.states == [{"bookmarks": state} for state in expected]
    stock_writes = [
        r.status
        for r in sandbox.requests
        if r.path.startswith(f"/product/{prefix}-LATE") and "/warehouse/" in r.path
    ]
    if batch_size_rows is None:
        # Products were drained before the stock that needs them: no 404 at all.
        assert stock_writes == [200, 200]
    else:
        assert sorted(stock_writes) == [200, 200, 404, 404]


def test_state_is_held_back_while_records_are_deferred(
    prefix, make_config, fixture_text, new_target, capsys
):
    target = new_target(make_config(batch_size_rows=1))
    lines = fixture_text("out_of_order.singer").splitlines(keepends=True)
    # Up to the first STATE: the inventory records deferred (their products are not known yet).
    target.process_lines(io.StringIO("".join(lines[:4])))
    target.drain_all()
    assert target.has_deferred()
    assert capsys.readouterr().out == ""

    target.process_lines(io.StringIO("".join(lines[4:])))
    target.process_endofpipe()
    states = capsys.readouterr().out.splitlines()
    # The first STATE as soon as its stock is written (once its products are), then the rest.
    assert len(states) == 3
    assert states[0] == f'{{"bookmarks": {{"inventory": "{prefix}-1"}}}}'
    assert f'"products": "{prefix}-3"' in states[-1]
    assert not target.has_deferred()
