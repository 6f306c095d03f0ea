"""Property-based bad input for target-ordoro: records generated from the catalog's schemas, then
mutated (wrong types, missing keys, huge strings, unicode, nulls, NaN and infinity, deep
nesting), go through the real target into a sandbox.

Nothing may crash and nothing may be silently dropped: the run succeeds, its summary adds up
(received == written + unchanged + superseded + dead-lettered), and every dead letter carries a
short reason.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from ordoro_core import catalog
from ordoro_sandbox import Sandbox
from tests.reliability.fuzzing import HTTP_SETTINGS, MUTATION_KINDS, from_schema, mutated, nested
from tests.reliability.helpers import (
    message,
    run_target,
    schema_line,
    summary_adds_up,
    target_config,
)

STREAMS = ("products", "inventory", "orders", "shipments")
#: The fields a mutation picks from, per stream: what the target reads.
FIELDS = {
    "products": ("sku", "name", "price", "cost", "weight", "length", "upc", "internal_notes"),
    "inventory": ("sku", "warehouse_id", "on_hand", "location_in_warehouse", "low_stock_threshold"),
    "orders": (
        "order_id",
        "order_number",
        "shipping_address",
        "billing_address",
        "lines",
        "order_date",
        "ship_by_date",
        "notes_from_customer",
        "tags",
        "lines.0.sku",
        "lines.0.quantity",
        "lines.0.item_price",
        "lines.0.product",
    ),
    "shipments": ("order_id", "tracking_number", "carrier_name", "ship_date", "cost"),
}
#: The dead letters of the latest check_run (for tests that look closer).
LAST_DEAD_LETTERS: list[dict[str, Any]] = []
#: Longest reason a dead letter may carry.
MAX_REASON = 500


def base_records(prefix: str, warehouse: int, count: int) -> dict[str, list[dict[str, Any]]]:
    """Valid write-form records under ``prefix``: what the mutations start from."""
    address = {"name": "Pat Doe", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    skus = [f"{prefix}-{n}" for n in range(count)]
    return {
        "products": [{"sku": sku, "name": f"Product {sku}", "price": 4.5} for sku in skus],
        "inventory": [{"sku": sku, "warehouse_id": warehouse, "on_hand": 7} for sku in skus],
        "orders": [
            {
                "order_id": f"{prefix}-{n}",
                "shipping_address": address,
                "billing_address": address,
                "lines": [{"sku": skus[n], "quantity": 2}],
            }
            for n in range(count)
        ],
        "shipments": [
            {
                "order_id": f"{prefix}-{n}",
                "tracking_number": f"1Z{prefix}{n}",
                "carrier_name": "ups",
                "ship_date": "2024-05-01T12:00:00+00:00",
            }
            for n in range(count)
        ],
    }


@st.composite
def target_input(
    draw: st.DrawFn,
    warehouse: int,
    kinds: tuple[str, ...] = MUTATION_KINDS,
    *,
    extras: bool = True,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Records per stream (schema-generated fields under a valid base, then mutated) and a log
    of the mutations. Without ``extras``, only the base and its mutations."""
    prefix = f"f{uuid.uuid4().hex[:8]}"
    count = draw(st.integers(min_value=1, max_value=3))
    records: dict[str, list[Any]] = {}
    log = []
    for stream, bases in base_records(prefix, warehouse, count).items():
        records[stream] = []
        for base in bases:
            generated = draw(from_schema(catalog.stream_schema(stream))) if extras else {}
            # The base's identity wins: a generated order_number would name a source order
            # ("M-º") that another example may have copied with other lines already.
            for identity in ("order_number", "order_id", "ordoro_order_number"):
                if identity not in base:
                    generated.pop(identity, None)
            record, done = draw(mutated({**generated, **base}, FIELDS[stream], kinds))
            records[stream].append(record)
            log.append((stream, done))
    return records, log


def singer_text(records: dict[str, list[Any]]) -> str:
    lines = []
    for stream in STREAMS:
        lines.append(schema_line(stream))
        lines.extend(message("RECORD", stream, record=record) for record in records[stream])
    return "".join(lines)


def check_run(
    sandbox: Sandbox, records: dict[str, list[Any]], spliced: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the target over ``records`` and check nothing crashed and nothing was dropped.

    ``spliced`` replaces JSON strings of the input's text with raw JSON (values that
    ``json.dumps`` itself could not write)."""
    text = singer_text(records)
    for placeholder, raw in (spliced or {}).items():
        text = text.replace(json.dumps(placeholder), raw)
    with tempfile.TemporaryDirectory() as directory:
        warehouse = sorted(sandbox.store.warehouses)[0]
        config = target_config(sandbox, Path(directory), warehouse_id=warehouse)
        outcome = run_target(config, text)
        assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
        summary = outcome.summary
        assert summary is not None
        assert summary["status"] == "succeeded"
        for stream in STREAMS:
            assert summary["streams"][stream]["received"] == len(records[stream]), stream
        assert summary_adds_up(summary), summary
        dead = outcome.dead_letters
        LAST_DEAD_LETTERS[:] = dead
        assert len(dead) == summary["dead_lettered"]
        for line in dead:
            reason = line["reason"]
            assert isinstance(reason, str)
            assert reason
            assert "\n" not in reason
            assert len(reason) <= MAX_REASON, reason[:200]
        return summary


@HTTP_SETTINGS
@given(data=st.data())
def test_mutated_records_are_written_or_dead_lettered_with_a_short_reason(write_sandbox, data):
    warehouse = sorted(write_sandbox.store.warehouses)[0]
    records, log = data.draw(target_input(warehouse))
    note(json.dumps(log))
    check_run(write_sandbox, records)


@HTTP_SETTINGS
@given(data=st.data())
def test_generated_records_without_mutations_are_written_or_refused_by_ordoro(write_sandbox, data):
    """Schema-generated fields alone may still be refused by Ordoro (a product 1.5 inches
    long, an unknown warehouse), but never by the target's own validation."""
    warehouse = sorted(write_sandbox.store.warehouses)[0]
    records, _ = data.draw(target_input(warehouse, kinds=()))
    summary = check_run(write_sandbox, records)
    refused_by_us = [line["reason"] for line in LAST_DEAD_LETTERS if "status" not in line]
    assert summary["dead_lettered"] == len(LAST_DEAD_LETTERS)
    assert refused_by_us == []


@HTTP_SETTINGS
@given(data=st.data())
def test_mutations_of_plain_valid_records_are_written_or_dead_lettered(write_sandbox, data):
    """The same mutations on records without generated extras (which could hide them)."""
    warehouse = sorted(write_sandbox.store.warehouses)[0]
    records, log = data.draw(target_input(warehouse, extras=False))
    note(json.dumps(log))
    check_run(write_sandbox, records)


def test_control_the_records_mutations_start_from_are_all_written(write_sandbox):
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 3)
    summary = check_run(write_sandbox, records)
    for stream in STREAMS:
        assert summary["streams"][stream]["written"] == len(records[stream]), stream


def dead_letter_of(stream: str) -> dict[str, Any]:
    """The only dead letter of ``stream`` in the latest check_run."""
    (line,) = [line for line in LAST_DEAD_LETTERS if line["stream"] == stream]
    return line


def test_a_record_nested_hundreds_of_levels_deep_is_dead_lettered(write_sandbox):
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 1)
    records["products"][0]["internal_notes"] = nested(400)
    summary = check_run(write_sandbox, records)
    assert summary["dead_lettered"] == 1
    line = dead_letter_of("products")
    assert line["reason"] == "internal_notes: nested more than 100 levels deep"
    assert line["record"] == records["products"][0]  # as received, all 801 levels


def test_a_record_too_deep_to_parse_is_dead_lettered_as_its_line(write_sandbox):
    """3,000 levels: Python's JSON parser gives up (RecursionError) before a record exists.
    The line is dead-lettered as text with the reason, and the records after it are written."""
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 2)
    deep_product = {**records["products"][0], "internal_notes": "@deep@"}
    records["products"].insert(0, deep_product)
    deep = "[" * 3_000 + "]" * 3_000
    summary = check_run(write_sandbox, records, spliced={"@deep@": deep})
    assert summary["dead_lettered"] == 1
    assert summary["streams"]["products"]["written"] == 2
    line = dead_letter_of("products")
    assert line["reason"].startswith("record: nested too deeply to parse")
    assert deep in line["record"]  # the whole line is kept
    assert json.loads(line["record"][: line["record"].index(deep)] + "null}}")["stream"] == (
        "products"
    )


def test_a_record_nested_as_deep_as_the_tap_fuzzing_goes_is_still_written(write_sandbox):
    """The depth limit leaves room: 81 levels (nested(40)) in a free-form field is written."""
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 1)
    records["orders"][0]["lines"][0]["product"] = nested(40)
    summary = check_run(write_sandbox, records)
    assert summary["dead_lettered"] == 0, LAST_DEAD_LETTERS


@pytest.mark.parametrize(
    "not_an_object",
    [["not", "an", "object"], "a string", 42, None],
    ids=["list", "string", "number", "null"],
)
def test_a_record_that_is_not_an_object_is_dead_lettered(write_sandbox, not_an_object):
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 1)
    records["products"].append(not_an_object)
    summary = check_run(write_sandbox, records)
    assert summary["dead_lettered"] == 1
    assert summary["streams"]["products"]["written"] == 1
    line = dead_letter_of("products")
    assert line["record"] == not_an_object
    assert line["reason"] == f"record: {not_an_object!r} is not a JSON object"


def test_a_sku_with_a_lone_surrogate_is_dead_lettered(write_sandbox):
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 1)
    records["products"][0]["sku"] = "SKU-\ud800"
    records["inventory"][0]["sku"] = "SKU-\ud800"
    check_run(write_sandbox, records)


def test_records_with_huge_keys_are_dead_lettered_with_a_short_reason(write_sandbox):
    records = base_records(f"f{uuid.uuid4().hex[:8]}", sorted(write_sandbox.store.warehouses)[0], 1)
    records["inventory"][0]["sku"] = "x" * 20_000
    records["shipments"][0]["order_id"] = "Ж" * 30_000
    summary = check_run(write_sandbox, records)
    assert summary["dead_lettered"] == 2
    assert summary["streams"]["products"]["written"] == 1
    assert summary["streams"]["orders"]["written"] == 1
    stock = dead_letter_of("inventory")
    assert stock["reason"].startswith("unknown SKU 'xxx")
    assert len(stock["reason"]) < 100
    assert stock["record"]["sku"] == "x" * 20_000  # the record itself is kept whole
    # The order lookup's URL passes 64 KiB: Ordoro's 414 dead-letters this record only, with
    # the status and the answer kept.
    tracking = dead_letter_of("shipments")
    assert tracking["status"] == 414
    assert tracking["response"]
    assert tracking["reason"].startswith("order M-ЖЖЖ")
    assert "414" in tracking["reason"]
    assert len(tracking["reason"]) < 200


#: Every field a record is found by (its key), per stream.
KEY_FIELDS = [
    ("products", "sku"),
    ("inventory", "sku"),
    ("orders", "order_id"),
    ("orders", "order_number"),
    ("shipments", "order_id"),
    ("shipments", "order_number"),
    ("shipments", "ordoro_order_number"),
]
#: Keys Ordoro cannot look up: too long for a URL once encoded (> 64 KiB: 414), long, or with
#: no UTF-8 form (a lone surrogate: the request cannot even be sent).
BAD_KEYS = {"url-too-long": "Ж" * 30_000, "long": "x" * 20_000, "not-unicode": "K-\ud800"}


@pytest.mark.parametrize("bad", list(BAD_KEYS))
@pytest.mark.parametrize(("stream", "field"), KEY_FIELDS, ids=[f"{s}.{f}" for s, f in KEY_FIELDS])
def test_a_key_ordoro_cannot_look_up_never_ends_the_run(write_sandbox, stream, field, bad):
    prefix = f"f{uuid.uuid4().hex[:8]}"
    records = base_records(prefix, sorted(write_sandbox.store.warehouses)[0], 2)
    records[stream][0][field] = prefix + BAD_KEYS[bad]
    summary = check_run(write_sandbox, records)
    # The other record of the stream is untouched by it.
    assert summary["streams"][stream]["dead_lettered"] <= 1
    for line in LAST_DEAD_LETTERS:
        assert len(line["reason"]) <= 450, line["reason"][:200]
        if line.get("status") == 414:
            assert line["response"], line["reason"]
