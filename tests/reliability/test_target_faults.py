"""The fault matrix for target-ordoro: under each fault every record is written exactly once
(no order created twice, no tracking added twice) or dead-lettered with a short reason.

Every case writes new products, their stock in two warehouses, orders of them and tracking for
most orders into an empty sandbox account, then checks each record's effect in the store.
The target reads no lists, so short and empty pages do not apply to it.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from ordoro_sandbox import FaultRule, Sandbox
from tests.reliability.helpers import (
    FAST_RETRY,
    SHORT_TIMEOUT,
    FigureRow,
    make_target_input,
    run_target,
    summary_adds_up,
    tally_target,
    target_class,
    target_config,
    transient_status_cases,
)

#: The input of each matrix case, and of the contention case (records: see the docs' table).
MATRIX_INPUT = {"products": 5, "orders": 5, "shipments": 4}
CONTENTION_INPUT = {"products": 8, "orders": 8, "shipments": 6}
#: Writes that failed before they were applied are checked again a little later; quick here.
QUICK_SETTLE = replace(FAST_RETRY, settle_seconds=0.2)
WRITES = ("POST", "PUT")


def status_rule(status: int, **extra) -> FaultRule:
    return FaultRule(kind="status", status=status, nth={2, 5, 9, 14, 20}, **extra)


def on_writes(kind: str, nth: set[int], **extra) -> list[FaultRule]:
    return [FaultRule(kind=kind, nth=nth, method=method, **extra) for method in WRITES]


def delays_on_every_kind_of_write(*, after_handler: bool) -> list[FaultRule]:
    """Answers later than the client waits for: tracking and order POSTs, stock PUTs."""
    return [
        FaultRule(
            kind="delay",
            delay_seconds=1.0,
            nth=nth,
            method=method,
            path_prefix=path,
            after_handler=after_handler,
        )
        for method, path, nth in (
            ("POST", "/v3/order/", {1, 3}),  # tracking: /v3/order/{order_number}/shipping_info
            ("POST", "/v3/order", {2}),
            ("PUT", "/product/", {2, 6}),
        )
    ]


#: (label in the fault table, rules, a short read timeout?)
CASES = [
    *transient_status_cases(status_rule),
    (
        "5xx after the write was applied",
        [
            *on_writes("status", {1, 3, 6}, status=500, after_handler=True),
            *on_writes("status", {2, 5}, status=524, after_handler=True),
        ],
        False,
    ),
    (
        "read timeout, the write still in flight",
        delays_on_every_kind_of_write(after_handler=False),
        True,
    ),
    (
        "read timeout, the write applied",
        delays_on_every_kind_of_write(after_handler=True),
        True,
    ),
    ("connection dropped before the answer", [FaultRule(kind="drop", nth={2, 5, 9, 14})], False),
    (
        "connection dropped after the write was applied",
        on_writes("drop", {1, 3, 7}, after_handler=True),
        False,
    ),
    ("answer cut off mid-body after the write was applied", on_writes("cut", {1, 2, 5}), False),
    (
        "malformed JSON",
        [
            *on_writes("malformed", {2, 4}, after_handler=True),
            FaultRule(kind="malformed", nth={3, 7}, method="GET"),
        ],
        False,
    ),
    (
        "all of the above at random",
        [
            FaultRule(kind="status", status=503, probability=0.1),
            FaultRule(kind="status", status=429, probability=0.1, retry_after=None),
            FaultRule(kind="status", status=522, probability=0.05),
            FaultRule(kind="drop", probability=0.05),
            FaultRule(kind="drop", probability=0.05, after_handler=True),
            FaultRule(kind="cut", probability=0.1),
            FaultRule(kind="malformed", probability=0.05, after_handler=True),
        ],
        False,
    ),
]


def injected(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.fault is not None or r.status == 429)


def wait_until_all_answered(sandbox: Sandbox) -> None:
    """Requests the target gave up on may still be running in the sandbox: let them land."""
    for _ in range(200):
        if all(r.status is not None or r.fault == "drop" for r in sandbox.requests):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the sandbox is still answering")


def assert_reasons_are_short(dead_letters: list[dict]) -> None:
    for line in dead_letters:
        reason = line["reason"]
        assert reason
        assert "\n" not in reason
        assert len(reason) <= 300, reason


@pytest.mark.parametrize(("label", "rules", "short_timeout"), CASES, ids=[c[0] for c in CASES])
def test_every_record_is_written_exactly_once_under(
    target_sandbox, tmp_path, fault_table, label, rules, short_timeout
):
    given = make_target_input(target_sandbox, **MATRIX_INPUT)
    for rule in rules:
        target_sandbox.add_fault(rule)
    target_type = (
        target_class(FAST_RETRY, SHORT_TIMEOUT) if short_timeout else target_class(QUICK_SETTLE)
    )
    config = target_config(target_sandbox, tmp_path, warehouse_id=given.warehouses[0])
    outcome = run_target(config, given.text(), target_type=target_type)
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    wait_until_all_answered(target_sandbox)
    faults = injected(target_sandbox)
    assert faults > 0, "no fault fired"
    assert outcome.dead_letters == []
    assert summary_adds_up(outcome.summary), outcome.summary
    tally = tally_target(target_sandbox, given, outcome.dead_letters)
    assert (tally.lost, tally.duplicated) == (0, 0), tally.detail
    fault_table.add(
        FigureRow("target", label, faults, tally.records, tally.lost, tally.duplicated, "all once")
    )


def test_control_a_client_that_checks_at_once_after_a_read_timeout_adds_tracking_twice(
    target_sandbox, tmp_path
):
    """Control for the in-flight case above: without a second, later check, the check races
    the original request, finds nothing, sends the tracking again, and the original lands too.
    """
    given = make_target_input(target_sandbox, products=1, orders=1, shipments=1)
    target_sandbox.add_fault(
        FaultRule(
            kind="delay",
            delay_seconds=1.0,
            nth={1},
            method="POST",
            path_prefix=f"/v3/order/M-{given.orders[0]['order_id']}/shipping_info",
        )
    )
    naive = target_class(replace(FAST_RETRY, settle_seconds=0.0), SHORT_TIMEOUT)
    config = target_config(target_sandbox, tmp_path, warehouse_id=given.warehouses[0])
    outcome = run_target(config, given.text(), target_type=naive)
    assert outcome.error is None
    wait_until_all_answered(target_sandbox)
    tally = tally_target(target_sandbox, given, outcome.dead_letters)
    assert tally.duplicated == 1, tally.detail


def test_every_record_is_written_exactly_once_while_concurrent_writes_hit_the_rate_limit(
    target_sandbox, tmp_path, fault_table
):
    """Four writers at once against a sandbox that allows 6 requests per half second."""
    given = make_target_input(target_sandbox, **CONTENTION_INPUT)
    target_sandbox.set_rate_limit(6, window_seconds=0.5)
    patient = replace(FAST_RETRY, max_attempts=60)
    config = target_config(
        target_sandbox, tmp_path, warehouse_id=given.warehouses[0], max_workers=4
    )
    outcome = run_target(config, given.text(), target_type=target_class(patient))
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    limited = sum(1 for r in target_sandbox.requests if r.status == 429)
    assert limited > 0, "the target never met the limit"
    assert summary_adds_up(outcome.summary)
    tally = tally_target(target_sandbox, given, outcome.dead_letters)
    assert (tally.lost, tally.duplicated) == (0, 0), tally.detail
    fault_table.add(
        FigureRow(
            "target",
            "concurrent writes hitting the rate limit",
            limited,
            tally.records,
            tally.lost,
            tally.duplicated,
            "all once",
        )
    )


def test_a_write_refused_for_good_is_dead_lettered_and_the_rest_written(
    target_sandbox, tmp_path, fault_table
):
    """501 on the first order's POST is no reason to retry: that order (and the tracking that
    needs it) is dead-lettered with a reason, everything else is written once."""
    given = make_target_input(target_sandbox, **MATRIX_INPUT)
    target_sandbox.add_fault(
        FaultRule(kind="status", status=501, nth={1}, method="POST", path_prefix="/v3/order")
    )
    config = target_config(target_sandbox, tmp_path, warehouse_id=given.warehouses[0])
    outcome = run_target(config, given.text())
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    dead = outcome.dead_letters
    assert sorted(line["stream"] for line in dead) == ["orders", "shipments"]
    order_line = next(line for line in dead if line["stream"] == "orders")
    assert order_line["status"] == 501
    assert_reasons_are_short(dead)
    assert summary_adds_up(outcome.summary)
    tally = tally_target(target_sandbox, given, dead)
    assert (tally.lost, tally.duplicated) == (0, 0), tally.detail
    fault_table.add(
        FigureRow(
            "target",
            "501 on a write (not transient)",
            1,
            tally.records,
            tally.lost,
            tally.duplicated,
            f"{len(dead)} dead-lettered with a reason, the rest once",
        )
    )
