"""Stream routing (aliases, unknown streams), the run summary and the CLI's --about."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError

from target_ordoro.errors import UnknownStreamError
from target_ordoro.target import TargetOrdoro

TARGET_SCRIPT = Path(sys.executable).with_name("target-ordoro")


def test_stream_aliases_feed_the_target_without_stream_maps(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target
):
    config = make_config(
        warehouse_id=placeholders["WH2"],
        stream_aliases={"catalog_items": "products", "stock": "inventory", "shop_orders": "orders"},
    )
    result = run_target(config, fixture_text("aliases.singer"))
    assert result.error is None, result.stderr
    product = sandbox.store.products[f"{prefix}-ALIAS"]
    assert product["price"] == 2.5
    entry = next(e for e in product["warehouses"] if e["id"] == placeholders["WH2"])
    assert entry["on_hand"] == 31
    assert f"M-{prefix}-5001" in sandbox.store.orders
    assert set(result.summary["streams"]) == {"products", "inventory", "orders"}
    [dead] = result.dead_letters
    assert (dead["stream"], dead["input_stream"]) == ("orders", "shop_orders")
    assert result.order_map[0]["stream"] == "shop_orders"


def test_an_unknown_stream_fails_when_its_schema_arrives(
    sandbox, prefix, make_config, fixture_text, run_target
):
    result = run_target(make_config(), fixture_text("unknown_stream.singer"))
    assert isinstance(result.error, UnknownStreamError)
    message = str(result.error)
    assert "'customers'" in message
    for word in (
        "orders",
        "products",
        "inventory",
        "shipments",
        "stream_aliases",
        "unknown_streams",
    ):
        assert word in message
    assert result.summary["status"] == "failed"
    assert f"{prefix}-KNOWN" not in sandbox.store.products  # nothing was drained yet


def test_unknown_streams_can_be_skipped(
    sandbox, prefix, make_config, fixture_text, run_target, caplog
):
    result = run_target(make_config(unknown_streams="skip"), fixture_text("unknown_stream.singer"))
    assert result.error is None, result.stderr
    assert {f"{prefix}-KNOWN", f"{prefix}-KNOWN-2"} <= set(sandbox.store.products)
    assert result.summary["skipped_streams"] == {"customers": 2, "warehouses": 1}
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping")]
    assert warnings == [
        "Skipping stream 'customers': not a target stream (unknown_streams: skip)",
        "Skipping stream 'warehouses': a tap-ordoro stream this target does not write",
    ]
    assert result.states == [{"bookmarks": {"unknown": prefix}}]


def test_the_taps_read_only_streams_are_skipped_by_default(placeholders, make_config, run_target):
    text = "\n".join(
        json.dumps(message)
        for message in (
            {
                "type": "SCHEMA",
                "stream": "warehouses",
                "key_properties": ["id"],
                "schema": {"properties": {}},
            },
            {"type": "RECORD", "stream": "warehouses", "record": {"id": placeholders["WH1"]}},
            {
                "type": "SCHEMA",
                "stream": "suppliers",
                "key_properties": ["id"],
                "schema": {"properties": {}},
            },
            {"type": "RECORD", "stream": "suppliers", "record": {"id": 1}},
        )
    )
    result = run_target(make_config(), text)
    assert result.error is None
    assert result.summary["skipped_streams"] == {"suppliers": 1, "warehouses": 1}


def test_invalid_alias_targets_are_refused_by_config_validation(make_config):
    with pytest.raises(ConfigValidationError) as raised:
        TargetOrdoro(config=make_config(stream_aliases={"people": "customers"}))
    assert "'customers' is not one of" in " ".join(raised.value.errors)


def test_cli_run_logs_a_summary_table_and_one_json_summary_line(
    sandbox, prefix, placeholders, make_config, fixture_text, run_target_cli
):
    config = make_config(warehouse_id=placeholders["WH1"])
    text = fixture_text("products.singer", "inventory.singer", "orders.singer", "bad_input.singer")
    result = run_target_cli(config, text)
    assert result.returncode == 0, result.stderr
    assert "target-ordoro summary (succeeded)" in result.stderr
    assert "stream     received  written  deferred_then_written  unchanged" in result.stderr
    assert f"Dead-letter file: {config['dead_letter_path']}" in result.stderr
    summary = result.summary
    assert summary["status"] == "succeeded"
    assert summary["dead_letter_path"] == config["dead_letter_path"]
    # Every bad record but the one without warehouse_id (the setting gives it one).
    assert summary["dead_lettered"] == len(result.dead_letters) == 14
    for counts in summary["streams"].values():
        assert counts["received"] == sum(
            counts[name]
            for name in (
                "written",
                "deferred_then_written",
                "unchanged",
                "superseded",
                "dead_lettered",
            )
        )
    assert f"Order {prefix}-1001 -> M-{prefix}-1001 (created)" in result.stderr
    assert sorted((line["order_id"], line["action"]) for line in result.order_map) == [
        (f"1-{prefix}-9001", "created"),
        (f"{prefix}-1001", "created"),
        (f"{prefix}-1002", "created"),
        (f"{prefix}-2001", "created"),
        (f"{prefix}-2006", "created"),
    ]
    # Each fixture's STATE as soon as the records before it are written (products, then stock,
    # then orders), the last one once the bad input is dead-lettered.
    assert result.states == [
        {"bookmarks": {"products": f"{prefix}-products-1"}},
        {"bookmarks": {"inventory": f"{prefix}-inventory-1"}},
        {"bookmarks": {"orders": f"{prefix}-orders-1"}},
        {"bookmarks": {"bad_input": prefix}},
    ]


def test_about_lists_every_setting():
    completed = subprocess.run(
        [str(TARGET_SCRIPT), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for setting in (
        "username",
        "password",
        "api_url",
        "requests_per_minute",
        "sales_channel_id",
        "warehouse_id",
        "dead_letter_path",
        "notify",
        "remove_order_tags",
        "update_order_lines",
        "stream_aliases",
        "unknown_streams",
        "order_map_path",
        "deferral_max_records",
        "deferral_max_seconds",
        "max_workers",
    ):
        assert f"| {setting} |" in completed.stdout
    assert "load_method" not in completed.stdout
    assert "ledger" not in completed.stdout  # removed: Ordoro alone decides what is unchanged
    about = json.loads(
        subprocess.run(
            [str(TARGET_SCRIPT), "--about", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    settings = about["settings"]["properties"]
    assert settings["password"]["secret"] is True
    assert all(spec.get("description") for spec in settings.values())
    assert settings["dead_letter_path"]["default"] == ".target-ordoro/dead-letter.jsonl"
    assert settings["unknown_streams"]["default"] == "fail"
    # The ceiling on requests in flight (issue 22: the client follows the latency below it).
    assert settings["max_workers"]["default"] == 32


def test_a_stream_map_translates_source_warehouse_ids(sandbox, prefix, make_config, run_target):
    """Copying between accounts: docs/target.md's stream map maps the source's warehouse ids."""
    source_warehouse, destination = 999_001, sorted(sandbox.store.warehouses)[2]
    sku = f"{prefix}-MAPPED"
    config = make_config(
        stream_maps={
            "inventory": {
                "warehouse_id": f"{destination} if warehouse_id == {source_warehouse} "
                "else warehouse_id"
            }
        }
    )
    messages = [
        {
            "type": "SCHEMA",
            "stream": "products",
            "schema": {"properties": {}},
            "key_properties": ["sku"],
        },
        {"type": "RECORD", "stream": "products", "record": {"sku": sku, "name": "Mapped"}},
        {
            "type": "SCHEMA",
            "stream": "inventory",
            "schema": {
                "properties": {
                    "sku": {"type": "string"},
                    "warehouse_id": {"type": "integer"},
                    "on_hand": {"type": "integer"},
                }
            },
            "key_properties": ["sku", "warehouse_id"],
        },
        {
            "type": "RECORD",
            "stream": "inventory",
            "record": {"sku": sku, "warehouse_id": source_warehouse, "on_hand": 66},
        },
    ]
    result = run_target(config, "".join(json.dumps(m) + "\n" for m in messages))
    assert result.error is None, result.stderr
    assert result.dead_letters == []
    entries = {e["id"]: e["on_hand"] for e in sandbox.store.products[sku]["warehouses"]}
    assert entries[destination] == 66
