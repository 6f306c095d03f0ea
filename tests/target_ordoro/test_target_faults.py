"""Under 429s, 5xx, malformed answers and dropped connections every record is written exactly
once: no order created twice, no tracking added twice (``store.tracking_writes``)."""

from __future__ import annotations

import pytest

from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import FaultRule

#: Fast, and patient enough that random faults never exhaust a request's retries.
PATIENT_RETRY = RetryPolicy(
    max_attempts=14, backoff_seconds=0.005, backoff_max_seconds=0.02, max_total_wait_seconds=60
)
FULL_RUN = ("products.singer", "inventory.singer", "orders.singer", "shipments.singer")


def assert_written_exactly_once(sandbox, prefix, placeholders):
    store = sandbox.store
    assert sorted(sku for sku in store.products if sku.startswith(prefix)) == sorted(
        [f"{prefix}-WIDGET", f"{prefix}-GADGET", f"{prefix}-A/B #1 ü?%"]
    )
    widget = {e["id"]: e["on_hand"] for e in store.products[f"{prefix}-WIDGET"]["warehouses"]}
    assert (widget[placeholders["WH1"]], widget[placeholders["WH2"]]) == (12, 7)
    orders = sorted(number for number in store.orders if prefix in number)
    # The tap-form record "1-…-9001" keeps its whole source number: M-1-…-9001.
    assert orders == [f"M-1-{prefix}-9001", f"M-{prefix}-1001", f"M-{prefix}-1002"]
    for number in orders:
        created = [c for c in store.orders[number]["comments"] if "created" in c["text"]]
        assert len(created) == 1, number
    tracking = sorted(
        w["order_number"] for w in store.tracking_writes if prefix in w["order_number"]
    )
    assert tracking == [f"M-{prefix}-1001", f"M-{prefix}-1002"]
    # A second POST of an order would have been answered 400 (it exists): there is none.
    assert not [
        r
        for r in sandbox.requests
        if r.method == "POST" and r.path == "/v3/order" and r.status == 400
    ]


def run_full(make_config, fixture_text, run_target, placeholders, retry_policy=PATIENT_RETRY):
    result = run_target(
        make_config(warehouse_id=placeholders["WH1"]),
        fixture_text(*FULL_RUN),
        retry_policy=retry_policy,
    )
    assert result.error is None, result.stderr
    assert result.dead_letters == []
    return result


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(
            [
                FaultRule(
                    kind="drop",
                    nth={1, 2},
                    method="POST",
                    path_prefix="/v3/order",
                    after_handler=True,
                )
            ],
            id="drop-after-order-post",
        ),
        pytest.param(
            [
                FaultRule(
                    kind="drop",
                    nth={1},
                    method="POST",
                    path_prefix="/v3/order/",
                    after_handler=True,
                ),
                FaultRule(
                    kind="malformed",
                    nth={1},
                    method="POST",
                    path_prefix="/v3/order/",
                    after_handler=True,
                ),
            ],
            id="drop-and-garble-after-tracking-post",
        ),
        pytest.param(
            [
                FaultRule(
                    kind="status", status=503, nth={1, 3}, method="POST", path_prefix="/v3/order"
                ),
                FaultRule(kind="drop", nth={2}, method="POST", path_prefix="/v3/order"),
            ],
            id="fail-before-order-and-tracking-posts",
        ),
        pytest.param(
            [
                FaultRule(kind="status", status=429, nth={1, 2, 5}),
                FaultRule(kind="status", status=500, nth={3}, method="PUT"),
                FaultRule(kind="status", status=502, nth={1}, method="GET"),
                FaultRule(kind="malformed", nth={2}, method="GET"),
                FaultRule(kind="drop", nth={4, 6}, method="PUT", after_handler=True),
                FaultRule(
                    kind="drop", nth={1}, method="POST", path_prefix="/product/", after_handler=True
                ),
            ],
            id="mixed-429-5xx-garbled-dropped",
        ),
    ],
)
def test_injected_faults_do_not_duplicate_writes(
    faults, prefix, placeholders, make_config, fixture_text, run_target, rules
):
    for rule in rules:
        faults.add_fault(rule)
    run_full(make_config, fixture_text, run_target, placeholders)
    assert any(r.fault for r in faults.requests), "no fault fired"
    assert_written_exactly_once(faults, prefix, placeholders)


def test_random_faults_over_a_whole_run(
    faults, prefix, placeholders, make_config, fixture_text, run_target
):
    faults.add_fault(FaultRule(kind="status", status=503, probability=0.15))
    faults.add_fault(FaultRule(kind="status", status=429, probability=0.1))
    faults.add_fault(FaultRule(kind="drop", probability=0.1, after_handler=True))
    faults.add_fault(FaultRule(kind="drop", probability=0.05))
    faults.add_fault(FaultRule(kind="malformed", probability=0.05, after_handler=True))
    result = run_full(make_config, fixture_text, run_target, placeholders)
    assert_written_exactly_once(faults, prefix, placeholders)
    assert result.summary["streams"]["orders"]["written"] == 3
    assert result.summary["streams"]["shipments"]["written"] == 2


def test_a_rate_limited_account_is_retried_until_written(
    faults, prefix, placeholders, make_config, fixture_text, run_target
):
    """The sandbox's own limit answers 429 with Retry-After (>= 1 s), which the client honours."""
    faults.set_rate_limit(10, window_seconds=1.0)
    honour_retry_after = RetryPolicy(
        max_attempts=10, backoff_seconds=0.01, backoff_max_seconds=1.0, max_total_wait_seconds=60
    )
    try:
        run_full(make_config, fixture_text, run_target, placeholders, honour_retry_after)
    finally:
        faults.set_rate_limit(None)
    assert any(r.status == 429 for r in faults.requests)
    assert_written_exactly_once(faults, prefix, placeholders)
