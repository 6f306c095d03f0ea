"""Property-based bad answers for tap-ordoro: the sandbox's records, mutated with nulls, missing
fields and extra fields, are emitted without a crash, each exactly once.

Fields the sandbox itself needs to filter and sort (keys, replication keys, status) are not
nulled or removed; everything else, nested objects and list items included, may be nulled,
removed or joined by an unknown field. Replication keys and statuses are fuzzed on their own:
any instant (in any UTC offset, far past or future, shared by many records as a bulk action
stamps them), any status (known, unknown, null), and a return order's ``updated_date`` null.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from ordoro_sandbox import Sandbox, SandboxOptions
from ordoro_sandbox.records import ORDER_STATUSES, PO_STATUSES, RETURN_STATUSES
from tests.reliability.fuzzing import HTTP_SETTINGS
from tests.reliability.helpers import SECRET, USERNAME, run_tap, tally_tap, tap_config

#: Store attribute -> fields the sandbox needs to list, filter and sort (never mutated).
PROTECTED = {
    "orders": {"order_number", "updated_date", "status"},
    "products": {"sku", "id", "created", "updated"},
    "purchase_orders": {"po_id", "updated", "status"},
    "return_orders": {"reference_id", "status", "created_date"},
    "warehouses": {"id"},
    "carts": {"id"},
    "suppliers": {"id"},
}
OPERATIONS = ("null", "delete", "extra")
#: Store attribute -> its replication key and its status field (None: it has none).
TIMED = {
    "orders": ("updated_date", "status"),
    "products": ("updated", None),
    "purchase_orders": ("updated", "status"),
    "return_orders": ("updated_date", "status"),
}
#: Instants to stamp records with: a few, so that many records share one (as a bulk action
#: stamps them), in several UTC offsets, across a DST change, far in the past and the future.
INSTANTS = st.sampled_from(
    [
        "2016-11-06T01:30:00.000000-05:00",
        "2016-11-06T01:10:00.000000-06:00",
        "2024-10-01T12:00:00.000000-05:00",
        "2024-10-01T17:00:00.000000+00:00",
        "2024-10-01T12:00:00.000001-05:00",
        "1999-12-31T23:59:59.999999+14:00",
        "2037-01-19T03:14:07.000000-12:00",
    ]
) | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(timezone.utc)
).map(lambda moment: moment.isoformat(timespec="microseconds"))
STATUSES = st.sampled_from(
    [*ORDER_STATUSES, *PO_STATUSES, *RETURN_STATUSES, "on_hold", "", "SHIPPED", None]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[Sandbox]:
    options = SandboxOptions(
        seed=31,
        username=USERNAME,
        password=SECRET,
        products=45,
        orders=450,
        purchase_orders=10,
        return_orders=8,
    )
    with Sandbox(options) as sandbox:
        sandbox.original = copy.deepcopy(  # type: ignore[attr-defined]
            {kind: getattr(sandbox.store, kind) for kind in PROTECTED}
        )
        yield sandbox


def restore(sandbox: Sandbox) -> None:
    """Put every record back as it was seeded."""
    with sandbox.store.lock:
        for kind, records in sandbox.original.items():  # type: ignore[attr-defined]
            setattr(sandbox.store, kind, copy.deepcopy(records))


def paths(value: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted paths into a record: keys of objects, and the first item of lists (``.0``)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            found.append(path)
            if depth < 2:
                found += paths(item, f"{path}.", depth + 1)
    elif isinstance(value, list) and value:
        path = f"{prefix}0"
        found.append(path)
        if depth < 2:
            found += paths(value[0], f"{path}.", depth + 1)
    return found


def mutable(kind: str, path: str) -> bool:
    """Whether the sandbox can still list the record with ``path`` mutated."""
    parts = path.split(".")
    if parts[0] in PROTECTED[kind]:
        return False
    # An inventory entry's warehouse id is its key.
    return not (kind == "products" and parts[0] == "warehouses" and parts[-1] == "id")


def apply(record: dict[str, Any], path: str, operation: str, extra: Any) -> None:
    """Null, remove, or add an unknown field beside, what ``path`` names."""
    *parents, last = path.split(".")
    container: Any = record
    for part in parents:
        container = container[int(part)] if isinstance(container, list) else container[part]
    if operation == "extra":
        holder = container[int(last)] if isinstance(container, list) else container[last]
        if isinstance(holder, dict):
            holder["x_unknown_field"] = extra
        elif isinstance(container, dict):
            container["x_unknown_field"] = extra
        return
    if isinstance(container, list):
        if operation == "null":
            container[int(last)] = None
        else:
            del container[int(last)]
    elif operation == "null":
        container[last] = None
    else:
        container.pop(last, None)


@st.composite
def mutations(draw: st.DrawFn, sandbox: Sandbox) -> list[tuple[str, Any, str, str]]:
    """Apply 1 to 12 mutations to the store; what was done, for the report."""
    done = []
    with sandbox.store.lock:
        for _ in range(draw(st.integers(min_value=1, max_value=12))):
            kind = draw(st.sampled_from(sorted(PROTECTED)))
            records = getattr(sandbox.store, kind)
            key = draw(st.sampled_from(sorted(records, key=str)))
            choices = [p for p in paths(records[key]) if mutable(kind, p)]
            if not choices:
                continue
            path = draw(st.sampled_from(choices))
            operation = draw(st.sampled_from(OPERATIONS))
            apply(records[key], path, operation, draw(JSON_VALUES))
            done.append((kind, key, path, operation))
    return done


@st.composite
def retimings(draw: st.DrawFn, sandbox: Sandbox) -> list[tuple[str, Any, str, Any]]:
    """Stamp up to 200 orders with one instant (a bulk action: a run of equal instants longer
    than a page), then give 1 to 40 records another replication-key instant or status; what
    was done."""
    done: list[tuple[str, Any, str, Any]] = []
    with sandbox.store.lock:
        bulk = draw(st.integers(min_value=0, max_value=200))
        if bulk:
            stamp = draw(INSTANTS)
            numbers = draw(st.permutations(sorted(sandbox.store.orders)))[:bulk]
            for number in numbers:
                sandbox.store.orders[number]["updated_date"] = stamp
            done.append(("orders", f"{bulk} orders", "updated_date", stamp))
        for _ in range(draw(st.integers(min_value=1, max_value=40))):
            kind = draw(st.sampled_from(sorted(TIMED)))
            records = getattr(sandbox.store, kind)
            key = draw(st.sampled_from(sorted(records, key=str)))
            timed, status = TIMED[kind]
            if status is not None and draw(st.booleans()):
                value = draw(STATUSES)
                records[key][status] = value
                done.append((kind, key, status, value))
                continue
            nullable = kind == "return_orders"
            value = draw(INSTANTS | st.none()) if nullable else draw(INSTANTS)
            records[key][timed] = value
            done.append((kind, key, timed, value))
    return done


@HTTP_SETTINGS
@given(data=st.data())
def test_answers_with_nulls_missing_and_extra_fields_are_emitted_exactly_once(fuzz_sandbox, data):
    restore(fuzz_sandbox)
    done = data.draw(mutations(fuzz_sandbox))
    note(json.dumps(done, default=str))
    outcome = run_tap(tap_config(fuzz_sandbox))
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    tally = tally_tap(fuzz_sandbox, [outcome.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail


@HTTP_SETTINGS
@given(data=st.data())
def test_any_instants_and_statuses_are_emitted_exactly_once(fuzz_sandbox, data):
    restore(fuzz_sandbox)
    done = data.draw(retimings(fuzz_sandbox))
    done += data.draw(mutations(fuzz_sandbox))
    note(json.dumps(done, default=str))
    outcome = run_tap(tap_config(fuzz_sandbox))
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    tally = tally_tap(fuzz_sandbox, [outcome.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail


def test_control_the_instants_and_statuses_reach_the_paging(fuzz_sandbox):
    """150 orders stamped with one instant are read as a run of their own (a window of one
    instant), and statuses decide the shipments: the fuzzing above reaches what it is for."""
    restore(fuzz_sandbox)
    stamp = "2016-11-06T01:10:00.000000-06:00"
    numbers = sorted(fuzz_sandbox.store.orders)
    shipped = next(n for n in numbers if fuzz_sandbox.store.orders[n]["status"] == "shipped")
    with fuzz_sandbox.store.lock:
        for number in numbers[:150]:
            fuzz_sandbox.store.orders[number]["updated_date"] = stamp
        fuzz_sandbox.store.orders[shipped]["status"] = "on_hold"
    fuzz_sandbox.reset_request_log()
    outcome = run_tap(tap_config(fuzz_sandbox))
    tie_reads = [
        entry
        for entry in fuzz_sandbox.requests
        if entry.path == "/v3/order" and entry.query.get("sort") == ["order_number"]
    ]
    restore(fuzz_sandbox)
    assert outcome.error is None
    assert tie_reads, "the run of one instant was read as its own list"
    assert shipped not in outcome.run.keys("shipments", "order_number")


def test_control_the_mutations_reach_the_answers(fuzz_sandbox):
    """The sandbox serves the mutated records as they are (so the test above tests the tap)."""
    restore(fuzz_sandbox)
    number = sorted(fuzz_sandbox.store.orders)[0]
    apply(fuzz_sandbox.store.orders[number], "lines.0", "extra", {"surprise": True})
    apply(fuzz_sandbox.store.orders[number], "financial", "null", None)
    apply(fuzz_sandbox.store.orders[number], "shipping_address", "delete", None)
    outcome = run_tap(tap_config(fuzz_sandbox))
    assert outcome.error is None
    (order,) = [r for r in outcome.run.records["orders"] if r["order_number"] == number]
    assert order["financial"] is None
    assert "shipping_address" not in order
    restore(fuzz_sandbox)


def shipped_order(sandbox: Sandbox) -> str:
    return next(
        number
        for number, order in sorted(sandbox.store.orders.items())
        if order["status"] == "shipped" and (order.get("shipping_info") or {}).get("packages")
    )


def first_product(sandbox: Sandbox) -> str:
    return sorted(sandbox.store.products)[0]


def second_product(sandbox: Sandbox) -> str:
    return sorted(sandbox.store.products)[1]


def first_return(sandbox: Sandbox) -> str:
    return sorted(sandbox.store.return_orders)[0]


def first_po(sandbox: Sandbox) -> str:
    return sorted(sandbox.store.purchase_orders)[0]


POINTED = [
    pytest.param(
        "orders",
        shipped_order,
        "lines.0",
        "null",
        id="order-line-null",
    ),
    pytest.param("orders", shipped_order, "lines", "null", id="order-lines-null"),
    pytest.param("orders", shipped_order, "shipping_info.packages.0", "null", id="package-null"),
    pytest.param("orders", shipped_order, "shipping_info", "null", id="shipping-info-null"),
    pytest.param("orders", shipped_order, "warehouse", "null", id="warehouse-null"),
    pytest.param(
        "products",
        first_product,
        "warehouses.0",
        "null",
        id="inventory-entry-null",
    ),
    pytest.param(
        "products", second_product, "warehouses", "delete", id="inventory-entries-missing"
    ),
    pytest.param("return_orders", first_return, "updated_date", "null", id="return-updated-null"),
    pytest.param("purchase_orders", first_po, "items", "null", id="po-items-null"),
]


@pytest.mark.parametrize(("kind", "find", "path", "operation"), POINTED)
def test_a_pointed_null_or_missing_field_is_emitted_exactly_once(
    fuzz_sandbox, kind, find, path, operation
):
    restore(fuzz_sandbox)
    key = find(fuzz_sandbox)
    apply(getattr(fuzz_sandbox.store, kind)[key], path, operation, None)
    outcome = run_tap(tap_config(fuzz_sandbox))
    tally = tally_tap(fuzz_sandbox, [outcome.run])
    restore(fuzz_sandbox)
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
