"""An order's life after it reached Ordoro (issue 11): cancellations, address corrections, tags,
lines. Every target run in a fresh working directory; an unchanged order gets no write."""

from __future__ import annotations

import copy
import json

import pytest

from ordoro_sandbox import FaultRule
from target_ordoro.writers.identity import COPY_TAG, MARKER_TAGS, OWN_TAG

ADDRESS = {
    "name": "Ada Lovelace",
    "street1": "1 Main St",
    "street2": "",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
    "country": "US",
}


@pytest.fixture
def order(prefix) -> dict:
    """An open order's record, as a store sends it."""
    return {
        "order_id": f"{prefix}-1",
        "status": "awaiting_fulfillment",
        "shipping_address": dict(ADDRESS),
        "billing_address": dict(ADDRESS, street1="PO Box 9"),
        "lines": [
            {"sku": f"{prefix}-MUG", "product_name": "Mug", "quantity": 2, "item_price": 9.5},
            {"sku": f"{prefix}-CAP", "product_name": "Cap", "quantity": 1, "item_price": 15},
        ],
        "tags": [{"text": "VIP", "color": "#9933ff"}],
    }


def record_tags(order: dict) -> list[str]:
    """The order's tags but the target's marker (which the target adds to what it creates)."""
    return sorted(t["text"] for t in order["tags"] if t["text"] not in MARKER_TAGS)


def text_of(*records: dict, stream: str = "orders") -> str:
    messages = [{"type": "SCHEMA", "stream": stream, "schema": {"properties": {}}}]
    messages += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {"orders": "x"}}})
    return "".join(json.dumps(message) + "\n" for message in messages)


def writes(sandbox, since: int) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in sandbox.requests[since:]
        if r.method in ("POST", "PUT", "DELETE")
    ]


@pytest.fixture
def life(own_sandbox, make_config, run_target, order):
    """Runs the target (fresh working directory each time) and reports what it sent."""

    class Life:
        sandbox = own_sandbox
        number = f"M-{order['order_id']}"
        seen = 0

        def run(self, *records: dict, **settings):
            self.seen = len(own_sandbox.store.order_changes)
            mark = len(own_sandbox.requests)
            config = make_config(api_url=own_sandbox.url, **settings)
            result = run_target(config, text_of(*records), fresh=True)
            assert result.error is None, result.stderr
            result.sent = writes(own_sandbox, mark)
            return result

        @property
        def current(self) -> dict:
            return own_sandbox.store.orders[self.number]

        def changes(self) -> list[tuple[str, object]]:
            """The changes the last run made to the order (the sandbox's log), and their bodies."""
            changes = [
                (c["change"], c["body"])
                for c in own_sandbox.store.order_changes[self.seen :]
                if c["order_number"] == self.number
            ]
            self.seen = len(own_sandbox.store.order_changes)
            return changes

    created = Life().run(order)
    assert created.summary["streams"]["orders"]["actions"] == {"created": 1}
    return Life()


def assert_unchanged_costs_no_write(life, record: dict, **settings) -> None:
    again = life.run(record, **settings)
    assert again.sent == []
    assert again.summary["streams"]["orders"]["unchanged"] == 1


def test_a_cancelled_order_is_cancelled_then_uncancelled(life, order):
    assert_unchanged_costs_no_write(life, order)
    cancelled = life.run(dict(order, status="cancelled"))
    assert cancelled.sent == [("POST", f"/v3/order/{life.number}/cancel")]
    assert life.current["status"] == "cancelled"
    assert cancelled.summary["streams"]["orders"]["actions"] == {"cancelled": 1}
    assert cancelled.order_map[0]["action"] == "cancelled"
    assert_unchanged_costs_no_write(life, dict(order, status="cancelled"))

    back = life.run(order)  # awaiting_fulfillment again
    assert back.sent == [("POST", f"/v3/order/{life.number}/uncancel")]
    assert life.current["status"] == "awaiting_fulfillment"
    assert back.summary["streams"]["orders"]["actions"] == {"uncancelled": 1}


def test_an_address_correction_sends_only_the_changed_fields(life, order):
    corrected = copy.deepcopy(order)
    corrected["shipping_address"].update(street1="2 Side St", zip="78702")
    result = life.run(corrected)
    assert result.sent == [("PUT", f"/v3/order/{life.number}/shipping_address")]
    assert life.changes() == [("shipping_address", {"street1": "2 Side St", "zip": "78702"})]
    address = life.current["shipping_address"]
    assert (address["street1"], address["zip"], address["name"]) == (
        "2 Side St",
        "78702",
        ADDRESS["name"],
    )
    assert life.current["billing_address"]["street1"] == "PO Box 9"
    assert result.summary["streams"]["orders"]["actions"] == {"updated": 1}
    assert result.order_map[0]["changes"] == ["shipping_address"]
    assert_unchanged_costs_no_write(life, corrected)


def test_tags_are_added_and_created_and_removed_only_when_asked(life, order):
    tagged = dict(order, tags=[{"text": "Gift", "color": "#33cc33"}])
    added = life.run(tagged)
    gift = next(t for t in life.sandbox.store.order_tags.values() if t["text"] == "Gift")
    assert added.sent == [
        ("POST", "/v3/order/tag"),
        ("POST", f"/v3/order/{life.number}/tag/{gift['id']}"),
    ]
    # VIP stays: other integrations tag orders too.
    assert record_tags(life.current) == ["Gift", "VIP"]
    assert_unchanged_costs_no_write(life, tagged)

    vip = next(t for t in life.current["tags"] if t["text"] == "VIP")
    removed = life.run(tagged, remove_order_tags=True)
    assert removed.sent == [("DELETE", f"/v3/order/{life.number}/tag/{vip['id']}")]
    assert record_tags(life.current) == ["Gift"]
    # The target's own marker is never removed (the record cannot name it).
    assert OWN_TAG in {t["text"] for t in life.current["tags"]}


def test_a_shipped_order_is_never_changed_and_the_record_says_why(
    life, order, run_target, make_config
):
    shipment = {
        "ordoro_order_number": life.number,
        "tracking_number": "1ZSHIPPED",
        "carrier_name": "UPS",
        "ship_date": "2024-11-20T10:00:00-06:00",
    }
    shipped = run_target(
        make_config(api_url=life.sandbox.url), text_of(shipment, stream="shipments"), fresh=True
    )
    assert shipped.error is None, shipped.stderr
    assert life.current["status"] == "shipped"
    before = json.dumps(life.current, sort_keys=True)

    # The store does not know yet: its record still says awaiting_fulfillment. Not a change.
    assert_unchanged_costs_no_write(life, order)

    cancel = life.run(dict(order, status="cancelled"))
    assert cancel.sent == []
    [dead] = cancel.dead_letters
    assert dead["reason"] == (
        f"order {life.number} shipped in Ordoro on 2024-11-20; cancel it with the carrier "
        "(a shipped order is never changed here)"
    )
    moved = copy.deepcopy(order)
    moved["shipping_address"]["street1"] = "9 Elsewhere Rd"
    address = life.run(moved)
    assert address.sent == []
    [dead] = address.dead_letters
    assert dead["reason"].startswith(f"order {life.number} shipped in Ordoro on 2024-11-20; its ")
    assert "correct it with the carrier" in dead["reason"]
    assert json.dumps(life.current, sort_keys=True) == before
    counts = address.summary["streams"]["orders"]
    assert (counts["dead_lettered"], counts["actions"]) == (1, {"refused_shipped": 1})


def test_line_changes_need_the_setting(life, order, prefix):
    changed = copy.deepcopy(order)
    changed["lines"] = [
        {"sku": f"{prefix}-MUG", "product_name": "Mug", "quantity": 3, "item_price": 9.5},
        {"sku": f"{prefix}-HAT", "product_name": "Hat", "quantity": 1, "item_price": 20},
    ]
    life.sandbox.store.create_product({"sku": f"{prefix}-HAT", "name": "Hat", "price": 20})
    held = life.run(changed)
    assert held.sent == []
    [dead] = held.dead_letters
    assert dead["reason"] == (
        f"order {life.number}: line changes ({prefix}-MUG 2 -> 3, +{prefix}-HAT x1, "
        f"-{prefix}-CAP) are not applied without the update_order_lines setting (off by "
        "default: changing lines under allocation is risky)"
    )
    assert held.summary["streams"]["orders"]["actions"] == {"line_changes_off": 1}
    assert [(ln["sku"], ln["quantity"]) for ln in life.current["lines"]] == [
        (f"{prefix}-MUG", 2),
        (f"{prefix}-CAP", 1),
    ]

    mug, cap = (line["id"] for line in life.current["lines"])
    applied = life.run(changed, update_order_lines=True)
    assert applied.sent == [
        ("POST", f"/v3/order/{life.number}/line"),
        ("PUT", f"/v3/order/{life.number}/line/{mug}"),
        ("DELETE", f"/v3/order/{life.number}/line/{cap}"),
    ]
    assert life.changes() == [
        (
            "add_line",
            {
                "sku": f"{prefix}-HAT",
                "quantity": 1,
                "item_price": 20,
                "product_name": "Hat",
            },
        ),
        ("update_line", {"id": mug, "quantity": 3}),
        ("remove_line", {"id": cap}),
    ]
    assert sorted((ln["sku"], ln["quantity"]) for ln in life.current["lines"]) == [
        (f"{prefix}-HAT", 1),
        (f"{prefix}-MUG", 3),
    ]
    assert_unchanged_costs_no_write(life, changed, update_order_lines=True)


def test_a_copy_arriving_cancelled_is_created_cancelled_and_keeps_its_marker_through_line_changes(
    own_sandbox, make_config, run_target, prefix
):
    """A source order (order_number) already cancelled there: created, then cancelled, so it can
    never ship from here. Replacing all its lines keeps the marker it is found by."""
    source = {
        "order_number": f"1-{prefix}-77",
        "status": "cancelled",
        "shipping_address": ADDRESS,
        "billing_address": ADDRESS,
        "lines": [{"sku": f"{prefix}-OLD", "product_name": "Old", "quantity": 1}],
    }
    config = make_config(api_url=own_sandbox.url, update_order_lines=True)
    first = run_target(config, text_of(source), fresh=True)
    assert first.error is None, first.stderr
    copy_number = f"M-1-{prefix}-77"
    assert own_sandbox.store.orders[copy_number]["status"] == "cancelled"
    assert first.order_map[0]["changes"] == ["cancelled"]

    own_sandbox.store.create_product({"sku": f"{prefix}-NEW", "name": "New"})
    replaced = dict(source, lines=[{"sku": f"{prefix}-NEW", "product_name": "New", "quantity": 2}])
    second = run_target(config, text_of(replaced), fresh=True)
    assert second.error is None, second.stderr
    lines = own_sandbox.store.orders[copy_number]["lines"]
    # The record has no cart_order_id of its own, so the lines carry none; the marker (the tag
    # of a copy) stays on the order.
    assert [(line["sku"], line["cart_order_id"]) for line in lines] == [(f"{prefix}-NEW", None)]
    assert COPY_TAG in {t["text"] for t in own_sandbox.store.orders[copy_number]["tags"]}
    mark = len(own_sandbox.requests)
    third = run_target(config, text_of(replaced), fresh=True)
    assert writes(own_sandbox, mark) == []
    assert third.summary["streams"]["orders"]["unchanged"] == 1
    assert len([n for n in own_sandbox.store.orders if prefix in n]) == 1


def test_a_dropped_answer_after_a_cancel_or_a_new_tag_changes_nothing_twice(life, order):
    """The connection drops after Ordoro applied the change: the target reads the order back
    instead of sending it again."""
    path = f"/v3/order/{life.number}"
    for suffix in ("/cancel", "/tag/"):
        life.sandbox.add_fault(
            FaultRule(
                kind="drop", nth={1}, method="POST", path_prefix=path + suffix, after_handler=True
            )
        )
    try:
        result = life.run(dict(order, status="cancelled", tags=[{"text": "Gift"}]))
    finally:
        life.sandbox.clear_faults()
    assert result.dead_letters == []
    assert [r.fault for r in life.sandbox.requests if r.fault] == ["drop", "drop"]
    assert [change for change, _ in life.changes()] == ["add_tag", "cancel"]
    assert life.current["status"] == "cancelled"
    assert record_tags(life.current) == ["Gift", "VIP"]
