"""Every class of bad input is dead-lettered with its reason; the valid records around it are
written, and the run exits cleanly."""

from __future__ import annotations

import json

EXPECTED_REASONS = {
    "product_without_sku": "sku is required",
    "new_product_without_name": "name is required to create SKU",
    "negative_on_hand": "on_hand: -3 is less than the minimum of 0",
    "non_numeric_on_hand": "on_hand: 'abc' is not a number",
    "inventory_without_sku": "sku is required",
    "unknown_sku": "unknown SKU",
    "unknown_warehouse": "unknown warehouse 99999",
    "missing_warehouse": "warehouse_id missing and no default configured",
    "missing_address": "shipping_address is required",
    "order_without_lines": "lines: an order needs at least one line",
    "line_without_sku": "lines[0]: the line needs sku or product.sku",
    "rejected_by_ordoro": "Ordoro answered 400 to POST /v3/order",
    "missing_tracking_number": "tracking_number is required",
    "unknown_order": "unknown order",
    "bad_ship_date": "ship_date: 'June 1st' is not an ISO 8601 date-time",
}


def test_each_bad_record_is_dead_lettered_and_the_rest_written(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    result = run_target(make_config(), fixture_text("bad_input.singer"))
    assert result.error is None, result.stderr

    reasons = result.reasons()
    assert set(reasons) == set(EXPECTED_REASONS)
    for key, expected in EXPECTED_REASONS.items():
        assert expected in reasons[key], (key, reasons[key])

    by_key = {line["record"]["test_key"]: line for line in result.dead_letters}
    rejected = by_key["rejected_by_ordoro"]
    assert rejected["status"] == 400
    assert rejected["response"]["param"] == "warehouse_id"
    unknown_sku = by_key["unknown_sku"]
    assert unknown_sku["status"] == 404  # Ordoro answered; the record was retried first
    assert unknown_sku["stream"] == unknown_sku["input_stream"] == "inventory"
    for line in result.dead_letters:
        assert set(line) >= {"stream", "input_stream", "record", "reason", "at"}
        if "status" not in line:
            assert "response" not in line
    # The record is kept as received: strings stay strings, nothing is coerced or parsed.
    assert by_key["non_numeric_on_hand"]["record"]["on_hand"] == "abc"
    assert by_key["bad_ship_date"]["record"]["ship_date"] == "June 1st"

    store = sandbox.store
    assert {f"{prefix}-OK", f"{prefix}-OK2"} <= set(store.products)
    assert f"{prefix}-NONAME" not in store.products
    assert f"{prefix}-NO-SUCH-SKU" not in store.products  # inventory never creates products

    def on_hand(sku, warehouse_id):
        entries = store.products[sku]["warehouses"]
        return next(entry["on_hand"] for entry in entries if entry["id"] == warehouse_id)

    assert on_hand(f"{prefix}-OK", placeholders["WH1"]) == 9
    assert on_hand(f"{prefix}-OK2", placeholders["WH1"]) == 0
    assert on_hand(f"{prefix}-OK2", placeholders["WH2"]) == 3
    orders = sorted(number for number in store.orders if prefix in number)
    assert orders == [f"M-{prefix}-2001", f"M-{prefix}-2006"]
    assert store.orders[f"M-{prefix}-2001"]["shipping_info"]["tracking_number"] == f"TRK-{prefix}-1"
    assert not store.orders[f"M-{prefix}-2006"]["shipping_info"].get("tracking_number")

    streams = result.summary["streams"]
    assert (streams["products"]["written"], streams["products"]["dead_lettered"]) == (2, 2)
    assert (streams["inventory"]["written"], streams["inventory"]["dead_lettered"]) == (2, 6)
    assert (streams["orders"]["written"], streams["orders"]["dead_lettered"]) == (2, 4)
    assert (streams["shipments"]["written"], streams["shipments"]["dead_lettered"]) == (1, 3)
    assert result.summary["dead_lettered"] == len(EXPECTED_REASONS)
    assert result.states == [{"bookmarks": {"bad_input": prefix}}]


def test_dead_letter_lines_serialise_what_arrived(make_config, run_target, prefix, tmp_path):
    """Decimals, nested values and timestamps survive into the dead-letter file as JSON."""
    record = {
        "sku": f"{prefix}-X",
        "on_hand": -0.5,
        "updated": "2024-01-01T00:00:00+00:00",
        "nested": {"price": 1.10, "when": "2024-01-01T00:00:00Z"},
    }
    text = "\n".join(
        [
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "inventory",
                    "key_properties": ["sku"],
                    "schema": {
                        "type": "object",
                        "properties": {"updated": {"type": "string", "format": "date-time"}},
                    },
                }
            ),
            json.dumps({"type": "RECORD", "stream": "inventory", "record": record}),
        ]
    )
    dead_letter = tmp_path / "nested" / "dir" / "dead.jsonl"
    result = run_target(make_config(dead_letter_path=str(dead_letter), warehouse_id=1), text)
    assert result.error is None
    [line] = result.dead_letters
    assert line["record"] == record
    assert line["reason"] == "on_hand: -0.5 is less than the minimum of 0"
