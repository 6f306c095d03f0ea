"""Order identity and tracking routing with no local file surviving between runs (issue 10).

Every target run here gets a fresh working directory (``run_target(..., fresh=True)``), as in a
new container: only what Ordoro holds decides. The source accounts use the sandbox's identity
scenarios: ``shared_order_ids`` ("1-8001", "2-8001" and "M-8001": three customers' orders) and,
in the destination, ``decoy_orders`` (this account's own orders carrying a source's numbers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordoro_core.order_numbers import strip_order_prefix
from ordoro_sandbox import Sandbox, SandboxOptions
from target_ordoro.writers.identity import COPY_TAG

BIN = Path(sys.executable).parent
SOURCE_SEED = 31
SIZES = {"products": 12, "orders": 6, "purchase_orders": 0, "return_orders": 0}
SHARED = ("1-8001", "2-8001", "M-8001", "1-8002", "2-8002", "M-8002")


@pytest.fixture(scope="module")
def source(password) -> Iterator[Sandbox]:
    """A seeded account whose order ids 8001 and 8002 are used by every channel at once."""
    options = SandboxOptions(
        seed=SOURCE_SEED, username="source", password=password, shared_order_ids=2, **SIZES
    )
    with Sandbox(options) as server:
        yield server


@pytest.fixture(scope="module")
def tap_messages(source, password, tmp_path_factory) -> list[dict]:
    """Everything tap-ordoro emits for the source account (read once)."""
    config = tmp_path_factory.mktemp("tap") / "tap.json"
    config.write_text(
        json.dumps(
            {
                "username": "source",
                "password": password,
                "api_url": source.url,
                "requests_per_minute": 100_000,
            }
        )
    )
    completed = subprocess.run(
        [str(BIN / "tap-ordoro"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def singer(messages: list[dict], streams: set[str], keep=lambda record: True) -> str:
    """The Singer text of some streams' messages (RECORDs filtered by ``keep``)."""
    lines = [
        message
        for message in messages
        if message["type"] == "STATE"
        or (
            message.get("stream") in streams
            and (message["type"] != "RECORD" or keep(message["record"]))
        )
    ]
    return "".join(json.dumps(message) + "\n" for message in lines)


def destination_sandbox(password: str, *decoys: str) -> Sandbox:
    return Sandbox(
        SandboxOptions(
            seed=SOURCE_SEED,
            username="destination",
            password=password,
            empty=True,
            decoy_orders=decoys,
            **SIZES,
        )
    )


def destination_config(make_config, destination: Sandbox, password: str, **settings) -> dict:
    return make_config(
        username="destination", password=password, api_url=destination.url, **settings
    )


def assert_summary_adds_up(summary: dict) -> None:
    for stream, counts in summary["streams"].items():
        settled = sum(
            counts[name]
            for name in (
                "written",
                "deferred_then_written",
                "unchanged",
                "superseded",
                "dead_lettered",
            )
        )
        assert counts["received"] == settled, stream
        assert counts["deferred"] == 0, stream


def writes(sandbox: Sandbox, since: int = 0) -> list:
    return [r for r in sandbox.requests[since:] if r.method in ("POST", "PUT", "DELETE")]


@pytest.mark.parametrize("channel", [False, True], ids=["manual", "sales-channel"])
def test_copying_an_account_twice_keeps_every_order_apart_and_creates_nothing_twice(
    source, tap_messages, password, make_config, run_target, channel
):
    # The control: these six orders share two order_ids; keyed by order_id they would merge.
    assert {strip_order_prefix(number) for number in SHARED} == {"8001", "8002"}
    assert set(SHARED) <= set(source.store.orders)
    text = singer(tap_messages, {"products", "inventory", "orders", "shipments"})
    with destination_sandbox(password) as destination:
        cart = destination.store.carts[min(destination.store.carts)] if channel else None
        settings = {"sales_channel_id": cart["id"]} if cart else {}
        config = destination_config(make_config, destination, password, **settings)
        first = run_target(config, text, fresh=True)
        assert first.error is None, first.stderr
        assert first.dead_letters == []
        assert_summary_adds_up(first.summary)
        orders = first.summary["streams"]["orders"]
        assert orders["received"] == orders["written"] == len(source.store.orders)
        assert orders["superseded"] == 0

        prefix = str(cart["index"]) if cart else "M"
        copies = destination.store.orders
        assert set(copies) == {f"{prefix}-{number}" for number in source.store.orders}
        for number in SHARED:
            copy, original = copies[f"{prefix}-{number}"], source.store.orders[number]
            # Its own customer, lines and tracking; the shop's cart_order_id as the source has
            # it, and the copy's marker (a tag) in Ordoro.
            assert copy["shipping_address"]["name"] == original["shipping_address"]["name"]
            assert [line["sku"] for line in copy["lines"]] == [
                line["sku"] for line in original["lines"]
            ]
            assert {line["cart_order_id"] for line in copy["lines"]} == {
                line["cart_order_id"] for line in original["lines"]
            }
            assert COPY_TAG in {tag["text"] for tag in copy["tags"]}
            assert (
                copy["shipping_info"]["tracking_number"]
                == original["shipping_info"]["tracking_number"]
            )

        # A second copy, in another fresh working directory: nothing is created or written.
        mark = len(destination.requests)
        second = run_target(config, text, fresh=True)
        assert second.error is None, second.stderr
        assert writes(destination, mark) == []
        assert len(destination.store.orders) == len(source.store.orders)
        assert_summary_adds_up(second.summary)
        for stream, counts in second.summary["streams"].items():
            assert counts["unchanged"] == counts["received"] > 0, stream


def test_the_same_source_order_twice_in_one_input_is_superseded_and_nothing_else(
    prefix, make_config, run_target, sandbox
):
    address = {"name": "Someone", "street1": "1 Main St", "city": "Austin", "zip": "78701"}

    def order(number: str, notes: str) -> dict:
        record = {
            "order_number": number,
            "shipping_address": address,
            "billing_address": address,
            "lines": [{"sku": f"{prefix}-MUG", "product_name": "Mug", "quantity": 1}],
            "internal_notes": notes,
        }
        return {"type": "RECORD", "stream": "orders", "record": record}

    numbers = [f"1-{prefix}-1005", f"2-{prefix}-1005", f"M-{prefix}-1005"]
    messages = [
        {"type": "SCHEMA", "stream": "orders", "schema": {"properties": {}}},
        *(order(number, "first") for number in numbers),
        order(numbers[0], "second"),
    ]
    result = run_target(make_config(), "".join(json.dumps(m) + "\n" for m in messages), fresh=True)
    assert result.error is None, result.stderr
    counts = result.summary["streams"]["orders"]
    assert (counts["received"], counts["written"], counts["superseded"]) == (4, 3, 1)
    copies = {n: o for n, o in sandbox.store.orders.items() if f"{prefix}-1005" in n}
    assert sorted(copies) == sorted(f"M-{number}" for number in numbers)
    assert copies[f"M-{numbers[0]}"]["internal_notes"] == "second"


def test_an_order_number_taken_by_another_order_is_a_conflict_not_a_merge(
    source, tap_messages, password, make_config, run_target
):
    """The destination already has its own M-1-8001 (not a copy): the source's 1-8001 is
    dead-lettered naming the conflict, and that order is left as it was."""
    text = singer(tap_messages, {"orders"}, keep=lambda r: r["order_number"] in SHARED)
    with destination_sandbox(password, "M-1-8001") as destination:
        own = json.dumps(destination.store.orders["M-1-8001"], sort_keys=True)
        config = destination_config(make_config, destination, password)
        result = run_target(config, text, fresh=True)
        assert result.error is None, result.stderr
        [dead] = result.dead_letters
        assert dead["record"]["order_number"] == "1-8001"
        assert "order number M-1-8001 is taken in Ordoro by another order" in dead["reason"]
        assert "not a copy of source order 1-8001" in dead["reason"]
        assert json.dumps(destination.store.orders["M-1-8001"], sort_keys=True) == own
        counts = result.summary["streams"]["orders"]
        assert (counts["written"], counts["dead_lettered"]) == (5, 1)
        assert counts["actions"] == {"created": 5, "conflict": 1}


def test_tracking_lands_on_the_copy_never_on_a_decoy_with_the_source_number(
    source, tap_messages, password, make_config, run_target
):
    """Run 1 copies the orders of order_id 8001 (not 8002); run 2, in another container,
    brings every shipment. The destination has its own orders numbered like the source's."""
    decoys = SHARED
    copied = {"1-8001", "2-8001", "M-8001"}
    with destination_sandbox(password, *decoys) as destination:
        before = {number: json.dumps(destination.store.orders[number]) for number in decoys}
        # The control: looking an order up by the source's number finds a decoy.
        assert (
            destination.store.orders["1-8001"]["shipping_address"]["name"]
            != (source.store.orders["1-8001"]["shipping_address"]["name"])
        )
        config = destination_config(make_config, destination, password)
        orders = singer(
            tap_messages,
            {"orders"},
            keep=lambda r: r["order_number"] in copied or r["order_number"] not in SHARED,
        )
        assert run_target(config, orders, fresh=True).dead_letters == []

        shipments = singer(tap_messages, {"shipments"})
        result = run_target(config, shipments, fresh=True)
        assert result.error is None, result.stderr

        for number in decoys:  # untouched: no tracking, not shipped, nobody notified
            assert json.dumps(destination.store.orders[number]) == before[number]
        tracked = {write["order_number"] for write in destination.store.tracking_writes}
        assert not tracked & set(decoys)
        for number in copied:
            assert (
                destination.store.orders[f"M-{number}"]["shipping_info"]["tracking_number"]
                == source.store.orders[number]["shipping_info"]["tracking_number"]
            )
        # The shipments of 8002, whose orders were not copied, are dead-lettered with why.
        reasons = {line["record"]["order_number"]: line["reason"] for line in result.dead_letters}
        assert set(reasons) == set(SHARED) - copied
        for number, reason in reasons.items():
            assert reason.startswith(f"unknown order {number}: no order of this account")
            assert f"this account's own order {number} is another order" in reason
            assert "ordoro_order_number" in reason
        assert_summary_adds_up(result.summary)


def test_ordoro_order_number_names_an_order_of_this_account_directly(
    password, make_config, run_target
):
    """The explicit way for a 3PL feed to add tracking to this account's own order."""
    with destination_sandbox(password, "1-8001") as destination:
        record = {
            "ordoro_order_number": "1-8001",
            "tracking_number": "3PL-1",
            "carrier_name": "UPS",
            "ship_date": "2024-11-20T10:00:00-06:00",
        }
        text = "".join(
            json.dumps(m) + "\n"
            for m in (
                {"type": "SCHEMA", "stream": "shipments", "schema": {"properties": {}}},
                {"type": "RECORD", "stream": "shipments", "record": record},
            )
        )
        config = destination_config(make_config, destination, password)
        result = run_target(config, text, fresh=True)
        assert result.error is None, result.stderr
        assert destination.store.orders["1-8001"]["shipping_info"]["tracking_number"] == "3PL-1"
        # The same record naming it as a source order number finds no copy: dead-lettered.
        as_source = text.replace('"ordoro_order_number"', '"order_number"').replace(
            "3PL-1", "3PL-2"
        )
        again = run_target(config, as_source, fresh=True)
        [dead] = again.dead_letters
        assert "this account's own order 1-8001 is another order" in dead["reason"]
        assert destination.store.orders["1-8001"]["shipping_info"]["tracking_number"] == "3PL-1"
