"""The shop's own cart_order_id kept, and order identity without collisions (issue 21, parts
1 and 2). Every run in a fresh working directory: only what Ordoro holds decides.

Controls: each scenario is also run the way that shows what the marker changes (orders without
the target's marker tag, an account that answers cart_order_id on its lines); the old code's
behaviour on the same scenarios is in the issue's closing note.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ordoro_core.client import OrdoroClient
from ordoro_core.urls import build_path
from ordoro_sandbox import Sandbox, SandboxOptions
from target_ordoro.writers import WriteSettings
from target_ordoro.writers.identity import COPY_TAG, OWN_TAG, order_cart_order_id

from .conftest import PASSWORD, SEED, USERNAME

ADDRESS = {"name": "Ada Lovelace", "street1": "1 Main St", "city": "Austin", "zip": "78701"}


def singer(stream: str, records: list[dict[str, Any]]) -> str:
    messages = [{"type": "SCHEMA", "stream": stream, "schema": {"properties": {}}}]
    messages += [{"type": "RECORD", "stream": stream, "record": record} for record in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {stream: len(records)}}})
    return "".join(json.dumps(message) + "\n" for message in messages)


def order(prefix: str, *, name: str = "Ada Lovelace", **identity: str) -> dict[str, Any]:
    return {
        **identity,
        "shipping_address": dict(ADDRESS, name=name),
        "billing_address": dict(ADDRESS, name=name),
        "lines": [{"sku": f"{prefix}-MUG", "product_name": "Mug", "quantity": 1}],
    }


def tags_of(order: dict[str, Any]) -> set[str]:
    return {tag["text"] for tag in order["tags"]}


def writes(sandbox: Sandbox, since: int = 0) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in sandbox.requests[since:]
        if r.method in ("POST", "PUT", "DELETE")
    ]


@pytest.fixture
def account(own_sandbox, make_config, run_target):
    """Runs the target on an account of the test's own; ``config(...)`` builds its config."""

    class Account:
        sandbox = own_sandbox
        carts = sorted(own_sandbox.store.carts.values(), key=lambda cart: cart["index"])

        def config(self, **settings: Any) -> dict[str, Any]:
            return make_config(api_url=own_sandbox.url, **settings)

        def run(self, text: str, **settings: Any):
            result = run_target(self.config(**settings), text, fresh=True)
            assert result.error is None, result.stderr
            return result

        def numbers(self, prefix: str) -> list[str]:
            return sorted(number for number in own_sandbox.store.orders if prefix in number)

    return Account()


# 1. The shop's cart_order_id lands unchanged


def shop_orders(prefix: str, count: int = 12) -> list[dict[str, Any]]:
    """Store orders as a shop tap sends them: the shop's id, its order number, its global id."""
    return [
        order(
            prefix,
            order_id=f"{prefix}55500{n:02d}",
            order_number=f"#{prefix}{1000 + n}",
            cart_order_id=f"gid://shopify/Order/{prefix}55500{n:02d}",
        )
        for n in range(1, count + 1)
    ]


def test_twelve_shop_orders_keep_their_own_cart_order_id(account, prefix, caplog):
    records = shop_orders(prefix)
    result = account.run(singer("orders", records))
    store = account.sandbox.store.orders
    kept = 0
    for record in records:
        ordoro = store[f"M-{record['order_number']}"]  # order_number names the order
        assert order_cart_order_id(ordoro) == record["cart_order_id"]
        assert {line["cart_order_id"] for line in ordoro["lines"]} == {record["cart_order_id"]}
        assert COPY_TAG in tags_of(ordoro)  # the target's marker is a tag
        kept += order_cart_order_id(ordoro) == record["cart_order_id"]
    assert kept == 12
    # Both order_id and order_number: one rule, said once in the log, and kept in the order map.
    assert caplog.text.count("carry both order_number and order_id") == 1
    assert {line["record_order_id"] for line in result.order_map} == {
        record["order_id"] for record in records
    }

    # A replay finds every order through its number and marker: nothing is written.
    mark = len(account.sandbox.requests)
    again = account.run(singer("orders", records))
    assert writes(account.sandbox, mark) == []
    assert again.summary["streams"]["orders"]["unchanged"] == 12


# 2. Identity without collisions


def copies_and_own_orders(prefix: str, count: int = 50) -> tuple[list[dict], list[dict]]:
    """Source orders "ord-1"... and this account's own orders with the same order_ids."""
    ids = [f"{prefix}-ord-{n}" for n in range(1, count + 1)]
    copies = [order(prefix, order_number=i, name="Source Customer") for i in ids]
    own = [order(prefix, order_id=i, name="Own Customer") for i in ids]
    return copies, own


def test_an_own_order_record_never_merges_into_the_copy_of_a_source_order(account, prefix):
    copies, own = copies_and_own_orders(prefix)
    account.run(singer("orders", copies))
    before = {n: json.dumps(o, sort_keys=True) for n, o in account.sandbox.store.orders.items()}
    mark = len(account.sandbox.requests)
    result = account.run(singer("orders", own))
    assert writes(account.sandbox, mark) == []
    counts = result.summary["streams"]["orders"]
    assert (counts["unchanged"], counts["dead_lettered"]) == (0, 50)
    assert counts["actions"] == {"conflict": 50}
    seven = f"{prefix}-ord-7"
    reason = next(d["reason"] for d in result.dead_letters if d["record"]["order_id"] == seven)
    assert reason == (
        f"order number M-{seven} is taken in Ordoro by another order: target-ordoro's copy of "
        f"source order {seven} (tag {COPY_TAG}), not this account's own order {seven} "
        "(order_id): nothing was merged"
    )
    after = {n: json.dumps(o, sort_keys=True) for n, o in account.sandbox.store.orders.items()}
    assert after == before

    # The control: own orders whose ids no copy uses are created.
    distinct = [dict(record, order_id=record["order_id"] + "-x") for record in own]
    created = account.run(singer("orders", distinct))
    assert created.summary["streams"]["orders"]["actions"] == {"created": 50}


def test_a_copy_never_merges_into_an_own_order_with_its_number(account, prefix):
    copies, own = copies_and_own_orders(prefix, count=10)
    account.run(singer("orders", own))
    result = account.run(singer("orders", copies))
    counts = result.summary["streams"]["orders"]
    assert (counts["dead_lettered"], counts["actions"]) == (10, {"conflict": 10})
    seven = f"{prefix}-ord-7"
    reason = next(d["reason"] for d in result.dead_letters if d["record"]["order_number"] == seven)
    assert reason.startswith(f"order number M-{seven} is taken in Ordoro by another order: ")
    assert f"this account's own order, created by target-ordoro from order_id {seven}" in reason
    assert reason.endswith(f"not a copy of source order {seven}: nothing was merged")
    assert all(
        tags_of(account.sandbox.store.orders[n]) == {OWN_TAG} for n in account.numbers(prefix)
    )


@pytest.mark.parametrize("kind", ["order_id", "order_number"])
def test_changing_the_sales_channel_finds_the_order_written_before(account, prefix, kind):
    records = [order(prefix, **{kind: f"{prefix}-x{n}"}) for n in range(1, 6)]
    account.run(singer("orders", records))
    manual = account.numbers(prefix)
    assert manual == [f"M-{prefix}-x{n}" for n in range(1, 6)]

    channel = account.carts[0]
    mark = len(account.sandbox.requests)
    moved = account.run(singer("orders", records), sales_channel_id=channel["id"])
    assert writes(account.sandbox, mark) == []
    assert account.numbers(prefix) == manual  # no "1-…" beside "M-…"
    assert moved.summary["streams"]["orders"]["unchanged"] == 5

    # Tracking for them, under the new setting, lands on the orders where they are.
    shipments = [
        {
            kind: f"{prefix}-x{n}",
            "tracking_number": f"1Z{prefix}{n}",
            "carrier_name": "UPS",
            "ship_date": "2024-11-20T10:00:00-06:00",
        }
        for n in range(1, 6)
    ]
    tracked = account.run(singer("shipments", shipments), sales_channel_id=channel["id"])
    assert tracked.dead_letters == []
    for n in range(1, 6):
        info = account.sandbox.store.orders[f"M-{prefix}-x{n}"]["shipping_info"]
        assert info["tracking_number"] == f"1Z{prefix}{n}"


def test_control_orders_without_the_marker_are_not_the_target_s_after_a_channel_change(
    account, prefix
):
    """The same change of sales channel over orders that carry no marker (made by another tool,
    or by a version before the marker): they are other orders of this account, so the record's
    order is created under the new channel. The marker is what finds the target's own."""
    records = [order(prefix, order_id=f"{prefix}-x{n}") for n in range(1, 4)]
    post_orders(account.sandbox, [plan_body(record) for record in records])
    channel = account.carts[0]
    result = account.run(singer("orders", records), sales_channel_id=channel["id"])
    assert result.summary["streams"]["orders"]["actions"] == {"created": 3}
    index = channel["index"]
    assert account.numbers(prefix) == sorted(
        [f"M-{prefix}-x{n}" for n in range(1, 4)] + [f"{index}-{prefix}-x{n}" for n in range(1, 4)]
    )


# Copies made by earlier versions (the source number in cart_order_id), wherever it is answered


def plan_body(record: dict[str, Any]) -> dict[str, Any]:
    """The POST /v3/order body the target plans for a record (without its marker tag)."""
    from target_ordoro.writers.orders import OrdersWriter

    writer = OrdersWriter.__new__(OrdersWriter)
    writer.settings = WriteSettings()
    return writer.plan(record).body


def post_orders(sandbox: Sandbox, bodies: list[dict[str, Any]]) -> None:
    config = {"username": USERNAME, "password": PASSWORD, "api_url": sandbox.url}
    client = OrdoroClient.from_config(config)
    try:
        for body in bodies:
            client.post(build_path("v3", "order"), body)
    finally:
        client.close()


def make_old_copies(sandbox: Sandbox, records: list[dict], *, marker: bool = True) -> None:
    """Orders as an earlier target-ordoro copied source orders: the source number as order_id
    and as cart_order_id (its marker then), no tag. ``marker=False``: another cart_order_id."""
    post_orders(
        sandbox,
        [
            {**plan_body(r), "cart_order_id": r["order_number"] if marker else "SOMETHING-ELSE"}
            for r in records
        ],
    )


def lines_only_marker(order: dict[str, Any]) -> str | None:
    """How earlier versions read an order's cart_order_id: on its lines only."""
    return next((line.get("cart_order_id") for line in order.get("lines") or []), None)


@pytest.mark.parametrize("at_top", [True, False], ids=["top-level-shape", "v3-shape"])
def test_copies_of_earlier_versions_are_found_wherever_cart_order_id_is_answered(
    make_config, run_target, prefix, at_top
):
    options = SandboxOptions(
        seed=SEED, username=USERNAME, password=PASSWORD, empty=True, cart_order_id_at_top=at_top
    )
    with Sandbox(options) as sandbox:
        records = [order(prefix, order_number=f"1-{prefix}-{n}") for n in range(1, 17)]
        make_old_copies(sandbox, records)
        config = make_config(api_url=sandbox.url)
        client = OrdoroClient.from_config(config)
        try:
            answers = [
                client.get(build_path("v3", "order", f"M-{r['order_number']}")) for r in records
            ]
        finally:
            client.close()
        # The control: read on the lines only (as earlier versions did), the top-level shape
        # hides every marker; read wherever it is answered, none is missed.
        read_on_lines = sum(
            lines_only_marker(a) == r["order_number"] for a, r in zip(answers, records, strict=True)
        )
        assert read_on_lines == (0 if at_top else 16)
        assert [order_cart_order_id(a) for a in answers] == [r["order_number"] for r in records]

        shipments = [
            {
                "order_number": record["order_number"],
                "tracking_number": f"1Z{prefix}{n}",
                "carrier_name": "UPS",
                "ship_date": "2024-11-20T10:00:00-06:00",
            }
            for n, record in enumerate(records)
        ]
        tracked = run_target(config, singer("shipments", shipments), fresh=True)
        assert tracked.dead_letters == []
        assert tracked.summary["streams"]["shipments"]["actions"] == {"added": 16}
        # A replay of the orders after the upgrade creates nothing, also under a sales channel.
        cart = min(sandbox.store.carts)
        for settings in ({}, {"sales_channel_id": cart}):
            replay = run_target(dict(config, **settings), singer("orders", records), fresh=True)
            assert replay.dead_letters == []
            assert replay.summary["streams"]["orders"]["actions"] == {}
            assert replay.summary["streams"]["orders"]["unchanged"] == 16
        assert len(sandbox.store.orders) == 16


def test_control_orders_at_the_copies_numbers_without_the_old_marker_are_conflicts(
    make_config, run_target, prefix
):
    options = SandboxOptions(seed=SEED, username=USERNAME, password=PASSWORD, empty=True)
    with Sandbox(options) as sandbox:
        records = [order(prefix, order_number=f"1-{prefix}-{n}") for n in range(1, 5)]
        make_old_copies(sandbox, records, marker=False)
        result = run_target(make_config(api_url=sandbox.url), singer("orders", records), fresh=True)
        assert result.summary["streams"]["orders"]["actions"] == {"conflict": 4}
        assert len(sandbox.store.orders) == 4
