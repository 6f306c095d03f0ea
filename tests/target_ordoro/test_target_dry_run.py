"""A dry run (issue 21, part 3): no write request, no STATE, every intended write in the plan;
and a real run afterwards sends exactly the plan's writes.

The account is first given products, stock and orders by a real run; the input under test then
changes stock (some of it to 0, as a wrong stream map would), creates products with their stock,
cancels one order, corrects an address, tags orders (one tag new to the account), creates orders
and adds tracking to new and old orders, and holds one invalid record.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from target_ordoro.writers.identity import MARKER_TAGS

ADDRESS = {"name": "Ada Lovelace", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
WRITES = ("POST", "PUT", "DELETE")


def singer(*streams: tuple[str, list[dict[str, Any]]]) -> str:
    messages: list[dict[str, Any]] = []
    for number, (stream, records) in enumerate(streams):
        messages.append({"type": "SCHEMA", "stream": stream, "schema": {"properties": {}}})
        messages += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
        messages.append({"type": "STATE", "value": {"bookmarks": {stream: number}}})
    return "".join(json.dumps(message) + "\n" for message in messages)


def order(prefix: str, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": f"{prefix}-{n}",
        "shipping_address": dict(ADDRESS),
        "billing_address": dict(ADDRESS),
        "lines": [{"sku": f"{prefix}-OLD-1", "product_name": "Old", "quantity": 1}],
        "tags": [{"text": "VIP", "color": "#ff0000"}],
        **fields,
    }


def baseline(prefix: str, wh: list[int]) -> str:
    products = [{"sku": f"{prefix}-OLD-{n}", "name": f"Old {n}", "price": 5} for n in range(1, 7)]
    stock = [
        {"sku": f"{prefix}-OLD-{n}", "warehouse_id": w, "on_hand": 10 * n}
        for n in range(1, 7)
        for w in wh[:2]
    ]
    orders = [order(prefix, n) for n in range(1, 5)]
    return singer(("products", products), ("inventory", stock), ("orders", orders))


def changes(prefix: str, wh: list[int]) -> str:
    products = [
        {"sku": f"{prefix}-OLD-1", "name": "Old 1", "price": 6},  # price changed
        {"sku": f"{prefix}-OLD-2", "name": "Old 2", "price": 5},  # unchanged
        *({"sku": f"{prefix}-NEW-{n}", "name": f"New {n}", "price": 9} for n in (1, 2)),
    ]
    stock = [
        {"sku": f"{prefix}-OLD-1", "warehouse_id": wh[0], "on_hand": 0},  # a wrong map: 0
        {"sku": f"{prefix}-OLD-2", "warehouse_id": wh[0], "on_hand": 0},
        {"sku": f"{prefix}-OLD-3", "warehouse_id": wh[0], "on_hand": 30},  # unchanged
        {"sku": f"{prefix}-OLD-4", "warehouse_id": wh[1], "on_hand": 41},
        {"sku": f"{prefix}-NEW-1", "warehouse_id": wh[0], "on_hand": 5},  # a product created now
        {"sku": f"{prefix}-NEW-2", "warehouse_id": wh[1], "on_hand": 0},
        {"sku": f"{prefix}-NONE", "warehouse_id": wh[0], "on_hand": 1},  # no such product
        {"sku": f"{prefix}-OLD-5", "warehouse_id": wh[0], "on_hand": -1},  # invalid
    ]
    orders = [
        order(prefix, 1, status="cancelled"),
        order(prefix, 2, shipping_address=dict(ADDRESS, street1="2 Side St")),
        order(prefix, 3, tags=[{"text": "VIP"}, {"text": f"{prefix}-Gift"}]),
        order(prefix, 4),  # unchanged
        order(prefix, 5, lines=[{"sku": f"{prefix}-NEW-1", "product_name": "New", "quantity": 2}]),
        order(prefix, 6, tags=[{"text": f"{prefix}-Gift"}]),
    ]
    shipments = [
        {
            "order_id": f"{prefix}-{n}",
            "tracking_number": f"1Z{prefix}{n}",
            "carrier_name": "UPS",
            "ship_date": "2024-11-20T10:00:00-06:00",
        }
        for n in (4, 5, 6)
    ]
    return singer(
        ("inventory", stock), ("shipments", shipments), ("orders", orders), ("products", products)
    )


def read_plan(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def normalized(method: str, path: str, tag_text: str | None) -> tuple[str, str]:
    """A request with an order tag's id replaced by its text (a new tag's id is not known
    before it exists)."""
    if tag_text is not None:
        path = re.sub(r"/tag/-?\d+$", f"/tag/<{tag_text}>", path)
    return method, path


def planned_requests(plan: list[dict[str, Any]]) -> Counter:
    found = Counter()
    for line in plan:
        if "method" not in line:
            continue
        text = None
        if line["action"] in ("add tag", "remove tag"):
            before, after = line["changes"]["tags"]["before"], line["changes"]["tags"]["after"]
            (text,) = set(before) ^ set(after)
        # The plan has the path as sent (percent-encoded); the sandbox logs it decoded.
        found[normalized(line["method"], unquote(line["path"]), text)] += 1
    return found


def sent_requests(sandbox, since: int) -> Counter:
    names = {tag["id"]: tag["text"] for tag in sandbox.store.order_tags.values()}
    found = Counter()
    for request in sandbox.requests[since:]:
        if request.method not in WRITES:
            continue
        match = re.search(r"/tag/(\d+)$", request.path)
        text = names[int(match.group(1))] if match else None
        found[normalized(request.method, request.path, text)] += 1
    return found


@pytest.fixture
def prepared(own_sandbox, make_config, run_target, prefix, tmp_path):
    wh = sorted(own_sandbox.store.warehouses)
    config = make_config(api_url=own_sandbox.url, update_order_lines=False)
    first = run_target(config, baseline(prefix, wh), fresh=True)
    assert first.error is None, first.stderr
    assert first.dead_letters == []
    return config, changes(prefix, wh)


def account_state(sandbox) -> str:
    store = sandbox.store
    return json.dumps([store.products, store.orders, store.order_tags], sort_keys=True)


def test_a_dry_run_writes_nothing_emits_no_state_and_plans_every_write(
    own_sandbox, prepared, run_target, tmp_path, prefix
):
    config, text = prepared
    plan_path = tmp_path / "plan.jsonl"
    before, mark = account_state(own_sandbox), len(own_sandbox.requests)
    dry = run_target(dict(config, dry_run=True, plan_path=str(plan_path)), text, fresh=True)
    assert dry.error is None, dry.stderr
    assert [r for r in own_sandbox.requests[mark:] if r.method in WRITES] == []
    assert account_state(own_sandbox) == before
    assert dry.states == []  # no STATE: Meltano would save it
    assert dry.dead_letters == []  # the would-be dead letters are in the plan

    plan = read_plan(plan_path)
    assert all({"stream", "key", "action", "changes"} <= set(line) for line in plan)
    actions = Counter(line["action"] for line in plan)
    assert dry.summary["dry_run"] is True
    assert dry.summary["plan"]["actions"] == dict(sorted(actions.items()))
    assert {"create", "set", "update", "cancel", "add tracking", "add tag", "create tag"} <= set(
        actions
    )
    # The stock a wrong map would zero is there, with what it was.
    zeroed = [
        line
        for line in plan
        if line["action"] == "set" and line["changes"].get("on_hand", {}).get("after") == 0
    ]
    assert {(line["key"], line["changes"]["on_hand"]["before"]) for line in zeroed} == {
        (json.dumps([f"{prefix}-OLD-1", sorted(own_sandbox.store.warehouses)[0]]), 10),
        (json.dumps([f"{prefix}-OLD-2", sorted(own_sandbox.store.warehouses)[0]]), 20),
        (json.dumps([f"{prefix}-NEW-2", sorted(own_sandbox.store.warehouses)[1]]), None),
    }
    dead = [line for line in plan if line["action"] == "dead-letter"]
    assert len(dead) == 2  # the invalid on-hand and the unknown SKU
    reads = sum(1 for r in own_sandbox.requests[mark:] if r.method == "GET")
    assert dry.summary["plan"]["requests"]["writes"] == sum(1 for x in plan if "method" in x)
    assert dry.summary["plan"]["requests"]["reads"] <= reads

    # The control: the real run emits STATE and changes the account.
    real = run_target(config, text, fresh=True)
    assert real.states
    assert account_state(own_sandbox) != before


def test_the_real_run_after_a_dry_run_sends_exactly_the_planned_writes(
    own_sandbox, prepared, run_target, tmp_path
):
    config, text = prepared
    plan_path = tmp_path / "plan.jsonl"
    dry = run_target(dict(config, dry_run=True, plan_path=str(plan_path)), text, fresh=True)
    assert dry.error is None, dry.stderr
    plan = read_plan(plan_path)
    planned = planned_requests(plan)
    assert sum(planned.values()) >= 15

    mark = len(own_sandbox.requests)
    real = run_target(config, text, fresh=True)
    assert real.error is None, real.stderr
    sent = sent_requests(own_sandbox, mark)
    assert sent == planned
    # The requests a real run would spend, as the dry run's summary said.
    assert len(own_sandbox.requests) - mark == dry.summary["plan"]["requests"]["total"]
    # And what it would dead-letter, it did.
    assert sorted(d["reason"] for d in real.dead_letters) == sorted(
        line["reason"] for line in plan if line["action"] == "dead-letter"
    )
    assert not any(
        tag["text"] in MARKER_TAGS and tag["id"] < 0
        for tag in own_sandbox.store.order_tags.values()
    )


def test_control_the_comparison_sees_an_account_changed_after_the_dry_run(
    own_sandbox, prepared, run_target, tmp_path, prefix
):
    """Someone changes a stock figure between the dry run and the real run: the real run's
    writes are no longer the plan's, and the comparison says so."""
    config, text = prepared
    plan_path = tmp_path / "plan.jsonl"
    run_target(dict(config, dry_run=True, plan_path=str(plan_path)), text, fresh=True)
    planned = planned_requests(read_plan(plan_path))
    warehouse = sorted(own_sandbox.store.warehouses)[0]
    own_sandbox.store.update_product_warehouse(f"{prefix}-OLD-3", str(warehouse), {"on_hand": 29})
    mark = len(own_sandbox.requests)
    run_target(config, text, fresh=True)
    assert sent_requests(own_sandbox, mark) != planned


def test_a_dry_run_of_a_whole_account_copy_plans_exactly_what_the_copy_then_sends(
    password, make_config, run_target, tmp_path
):
    """tap-ordoro | target-ordoro into an empty account: 60 products, their stock, 80 orders
    (some cancelled) and their tracking. The plan's writes and request count are the copy's."""
    import subprocess
    import sys

    from ordoro_sandbox import Sandbox, SandboxOptions

    sizes = {"products": 60, "orders": 80, "purchase_orders": 0, "return_orders": 0}
    source_options = SandboxOptions(seed=23, username="source", password=password, **sizes)
    destination_options = SandboxOptions(
        seed=23, username="destination", password=password, empty=True, **sizes
    )
    with Sandbox(source_options) as source, Sandbox(destination_options) as destination:
        tap_config = tmp_path / "tap.json"
        tap_config.write_text(
            json.dumps(
                {"username": "source", "password": password, "api_url": source.url,
                 "requests_per_minute": 100_000}
            )
        )  # fmt: skip
        tap = Path(sys.executable).with_name("tap-ordoro")
        text = subprocess.run(
            [str(tap), "--config", str(tap_config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        config = make_config(username="destination", api_url=destination.url)
        plan_path = tmp_path / "copy-plan.jsonl"
        dry = run_target(dict(config, dry_run=True, plan_path=str(plan_path)), text, fresh=True)
        assert dry.error is None, dry.stderr
        assert destination.store.orders == {}
        mark = len(destination.requests)
        real = run_target(config, text, fresh=True)
        assert real.error is None, real.stderr
        plan = read_plan(plan_path)
        assert sent_requests(destination, mark) == planned_requests(plan)
        assert len(destination.requests) - mark == dry.summary["plan"]["requests"]["total"]
        assert len(destination.store.orders) == 80
