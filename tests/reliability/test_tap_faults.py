"""The fault matrix for tap-ordoro: under each fault every record is emitted exactly once, or the
run fails clearly and its last STATE resumes to completeness.

Every case reads a seeded sandbox several pages long (orders, shipments, products, inventory,
...) and compares what the tap emitted with the sandbox's store, record key by record key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ordoro_core.client import OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import FaultRule, Sandbox
from tests.reliability.helpers import (
    FAST_RETRY,
    SECRET,
    SHORT_TIMEOUT,
    USERNAME,
    FigureRow,
    run_tap,
    singer_lines,
    tally_tap,
    tap_class,
    tap_config,
    transient_status_cases,
)
from tests.tap_ordoro.helpers import parse_messages

TAP_SCRIPT = [str(Path(sys.executable).with_name("tap-ordoro"))]


def status_rule(status: int, **extra) -> FaultRule:
    return FaultRule(kind="status", status=status, nth={2, 5, 9}, method="GET", **extra)


#: (label in the fault table, rules, a short read timeout?)
CASES = [
    *transient_status_cases(status_rule),
    (
        "read timeout (answer later than the client waits)",
        [FaultRule(kind="delay", delay_seconds=1.0, nth={2, 6}, method="GET")],
        True,
    ),
    ("connection dropped before the answer", [FaultRule(kind="drop", nth={2, 5, 9})], False),
    ("answer cut off mid-body", [FaultRule(kind="cut", nth={1, 4, 8})], False),
    ("malformed JSON", [FaultRule(kind="malformed", nth={2, 5, 9})], False),
    (
        "page shorter than its count promised",
        [
            FaultRule(kind="short", nth={1, 2}, path_prefix="/v3/order"),
            FaultRule(kind="short", nth={2}, path_prefix="/product/"),
        ],
        False,
    ),
    (
        "empty page early",
        [
            FaultRule(kind="empty", nth={1}, path_prefix="/v3/order"),
            FaultRule(kind="empty", nth={1}, path_prefix="/product/"),
            FaultRule(kind="empty", nth={1}, path_prefix="/purchase_order/"),
        ],
        False,
    ),
    (
        "all of the above at random",
        [
            FaultRule(kind="status", status=503, probability=0.1),
            FaultRule(kind="status", status=429, probability=0.1, retry_after=None),
            FaultRule(kind="status", status=524, probability=0.05),
            FaultRule(kind="drop", probability=0.05),
            FaultRule(kind="cut", probability=0.1),
            FaultRule(kind="malformed", probability=0.05),
            FaultRule(kind="short", probability=0.1),
            FaultRule(kind="empty", probability=0.05),
        ],
        False,
    ),
]


def injected(sandbox: Sandbox) -> int:
    """How many answers a fault (or the rate limit) changed."""
    return sum(1 for r in sandbox.requests if r.fault is not None or r.status == 429)


@pytest.mark.parametrize(("label", "rules", "short_timeout"), CASES, ids=[c[0] for c in CASES])
def test_every_record_is_emitted_exactly_once_under(
    tap_sandbox, fault_table, label, rules, short_timeout
):
    for rule in rules:
        tap_sandbox.add_fault(rule)
    timeout = SHORT_TIMEOUT if short_timeout else None
    outcome = run_tap(tap_config(tap_sandbox), tap_type=tap_class(FAST_RETRY, timeout))
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    faults = injected(tap_sandbox)
    assert faults > 0, "no fault fired"
    tally = tally_tap(tap_sandbox, [outcome.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
    fault_table.add(
        FigureRow("tap", label, faults, tally.records, tally.lost, tally.duplicated, "all once")
    )


def test_every_record_is_emitted_exactly_once_while_other_work_hits_the_rate_limit(
    tap_sandbox, fault_table
):
    """Three more workers on the same account while the tap syncs: together they ask for far
    more than the sandbox's limit (8 requests per half second), and meet its 429s."""
    tap_sandbox.set_rate_limit(8, window_seconds=0.5)
    done = threading.Event()
    patient = RetryPolicy(
        max_attempts=60, backoff_seconds=0.01, backoff_max_seconds=0.05, max_total_wait_seconds=60
    )

    def other_work() -> None:
        client = OrdoroClient(USERNAME, SECRET, tap_sandbox.url, 100_000, retry=patient)
        while not done.is_set():
            client.get("/authenticated/")

    workers = [threading.Thread(target=other_work) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        outcome = run_tap(tap_config(tap_sandbox), tap_type=tap_class(patient))
    finally:
        done.set()
        for worker in workers:
            worker.join()
    assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
    tap_429s = sum(
        1 for r in tap_sandbox.requests if r.status == 429 and r.path != "/authenticated/"
    )
    assert tap_429s > 0, "the tap never met the limit"
    tally = tally_tap(tap_sandbox, [outcome.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
    fault_table.add(
        FigureRow(
            "tap",
            "concurrent work hitting the rate limit (429s to the tap)",
            tap_429s,
            tally.records,
            tally.lost,
            tally.duplicated,
            "all once",
        )
    )


def test_a_fault_that_is_not_transient_fails_the_run_and_its_state_resumes(
    tap_sandbox, fault_table
):
    """501 is no reason to retry: the run ends, and its last STATE resumes without a loss."""
    tap_sandbox.add_fault(
        FaultRule(kind="status", status=501, nth={1}, path_prefix="/purchase_order/")
    )
    first = run_tap(tap_config(tap_sandbox))
    assert isinstance(first.error, OrdoroAPIError)
    assert first.error.status == 501
    assert first.run.last_state is not None
    tap_sandbox.clear_faults()
    resumed = run_tap(tap_config(tap_sandbox), state=first.run.last_state)
    assert resumed.error is None
    tally = tally_tap(tap_sandbox, [first.run, resumed.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
    full = sum(len(records) for records in resumed.run.records.values())
    assert full < tally.records, "the resumed run started from scratch"
    fault_table.add(
        FigureRow(
            "tap",
            "501 (not transient)",
            1,
            tally.records,
            tally.lost,
            tally.duplicated,
            "failed in one line; resumed from its last STATE",
        )
    )


def test_cli_fails_in_one_line_without_a_traceback_and_its_state_resumes(tap_sandbox, tmp_path):
    tap_sandbox.add_fault(
        FaultRule(kind="status", status=501, nth={1}, path_prefix="/purchase_order/")
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(tap_sandbox)), encoding="utf-8")
    failed = subprocess.run(
        [*TAP_SCRIPT, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    last_line = failed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tap-ordoro: Ordoro answered 501 to GET ")
    states = [
        json.loads(line)["value"]
        for line in singer_lines(failed.stdout)
        if line.startswith('{"type":"STATE"') or line.startswith('{"type": "STATE"')
    ]
    assert states, "no STATE before the failure"
    tap_sandbox.clear_faults()
    resumed = run_tap(tap_config(tap_sandbox), state=states[-1])
    assert resumed.error is None
    first = parse_messages([line for line in singer_lines(failed.stdout) if line.strip()])
    tally = tally_tap(tap_sandbox, [first, resumed.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
