"""The STATE stays small whatever the data, and a resume reads again only what was in flight.

Bounds (issue 20): the final STATE at most 64 KiB, a run's STATE lines together at most 4 MiB,
an idle run re-emits nothing, a sync interrupted amid parallel windows re-emits at most 200
records on resume and loses none.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta

from singer_sdk.singerlib.messages import RecordMessage, StateMessage

from ordoro_core.catalog import STREAMS
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.timestamps import parse_instant, to_utc_iso
from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions
from tap_ordoro.output import STATE_BUDGET_BYTES, BufferedMsgspecWriter
from tap_ordoro.rereads import MAX_VALUES, EmittedVersions, key_version
from tests.tap_ordoro.helpers import (
    TAP_SECRET,
    TAP_USER,
    TapRun,
    run_tap,
    run_tap_until_error,
    tap_config,
)

FINAL_STATE_LIMIT = 64 * 1024
INCREMENTAL = sorted(name for name, spec in STREAMS.items() if spec.is_incremental)


def state_lines(run: TapRun) -> list[str]:
    return [line for line in run.lines if line.startswith('{"type":"STATE"')]


def state_bytes(run: TapRun) -> int:
    return sum(len(line.encode()) + 1 for line in state_lines(run))


def final_state_bytes(run: TapRun) -> int:
    return len(json.dumps(run.last_state, separators=(",", ":")).encode())


def versions_kept_before(run: TapRun, stream: str, key: str, field: str) -> int:
    """What the STATE's list of versions weighed before issue 20 for the records of ``run``
    within the lookback of its bookmark: one hash and instant per version (JSON bytes)."""
    bookmark = parse_instant(run.bookmark(stream))
    versions = {
        hashlib.sha1(
            json.dumps([[record[key]], record[field]]).encode(), usedforsecurity=False
        ).hexdigest()[:16]: record[field]
        for record in run.records[stream]
        if parse_instant(record[field]) >= bookmark - timedelta(minutes=5)
    }
    return len(json.dumps(versions).encode())


def test_the_state_stays_small_through_bulk_actions_and_an_idle_run_emits_nothing():
    """A bulk action stamped 1,600 of 2,400 orders before the first sync; then bulk actions
    stamp 1,600 orders, every product and every purchase order after its bookmark."""
    options = SandboxOptions(
        seed=43,
        username=TAP_USER,
        password=TAP_SECRET,
        orders=2400,
        products=600,
        bulk_action_orders=1600,
    )
    with Sandbox(options) as sandbox:
        config = tap_config(sandbox)
        first = run_tap(config)
        sandbox.bulk_action("orders", sorted(sandbox.store.orders)[400:2000])
        sandbox.bulk_action("products", sorted(sandbox.store.products))
        sandbox.bulk_action("purchase_orders", sorted(sandbox.store.purchase_orders))
        second = run_tap(config, state=first.last_state)
        idle = run_tap(config, state=second.last_state)
    for run in (first, second, idle):
        assert state_bytes(run) <= STATE_BUDGET_BYTES
        assert final_state_bytes(run) <= FINAL_STATE_LIMIT
    stamped = set(sorted(sandbox.store.orders)[400:2000])
    assert stamped <= set(second.keys("orders", "order_number"))
    for stream in INCREMENTAL:
        assert idle.records.get(stream, []) == [], stream
    # Control: a list of every version emitted within the lookback weighs more than the bound.
    assert versions_kept_before(second, "orders", "order_number", "updated_date") > (
        FINAL_STATE_LIMIT
    )


def test_state_lines_thin_out_past_half_the_budget_and_the_last_one_is_written(monkeypatch):
    """50,000 STATE messages of 40 KB offered, 100 records apart: every one is written until
    half the budget is spent, fewer after, never more than the budget; the last is written
    at the end."""
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, encoding="utf-8"))
    writer = BufferedMsgspecWriter()
    padding = "x" * 40_000
    offered = 50_000
    for index in range(offered):
        for _ in range(100):
            writer.write_message(RecordMessage(stream="orders", record={"n": index}))
        writer.write_message(StateMessage(value={"offered": index, "padding": padding}))
    writer.write_waiting_state()
    sys.stdout.flush()
    states = [
        json.loads(line)["value"]["offered"]
        for line in out.getvalue().decode().splitlines()
        if line.startswith('{"type":"STATE"')
    ]
    written = sum(
        len(line) + 1
        for line in out.getvalue().decode().splitlines()
        if line.startswith('{"type":"STATE"')
    )
    assert written <= STATE_BUDGET_BYTES
    assert states[-1] == offered - 1
    # Control: the first half of the budget is spent on every STATE offered, in order.
    first_half = STATE_BUDGET_BYTES // 2 // 40_050
    assert states[:first_half] == list(range(first_half))
    assert len(states) < offered


def resumed_after_an_error(sandbox: Sandbox, *, drop_covered: bool = False) -> tuple:
    """A sync of 2,500 orders in parallel windows ends on an error inside the windows (two
    thirds of the way); the next run resumes from its last STATE (without its covered ranges,
    when asked)."""
    config = tap_config(sandbox)
    sandbox.add_fault(FaultRule(kind="status", status=400, nth={20}, path_prefix="/v3/order"))
    interrupted, error = run_tap_until_error(config, streams=("orders",))
    sandbox.clear_faults()
    assert isinstance(error, OrdoroAPIError)
    state = json.loads(json.dumps(interrupted.last_state))
    if drop_covered:
        state["bookmarks"]["orders"].pop("covered", None)
    sandbox.reset_request_log()
    resumed = run_tap(config, streams=("orders",), state=state)
    return interrupted, resumed


def test_a_sync_interrupted_in_parallel_windows_resumes_only_what_was_in_flight():
    options = SandboxOptions(seed=19, username=TAP_USER, password=TAP_SECRET, orders=2_500)
    with Sandbox(options) as sandbox:
        interrupted, resumed = resumed_after_an_error(sandbox)
        requests = sum(1 for entry in sandbox.requests if entry.path == "/v3/order")
        every_order = set(sandbox.store.orders)
        _, without_ranges = resumed_after_an_error(sandbox, drop_covered=True)
    before = set(interrupted.keys("orders", "order_number"))
    after = resumed.keys("orders", "order_number")
    assert "covered" in interrupted.last_state["bookmarks"]["orders"]
    assert before | set(after) == every_order
    assert len(before & set(after)) <= 200
    # Only the gaps were read: fewer pages than the orders not emitted before need, plus one
    # page a gap.
    assert requests <= (len(every_order) - len(before)) // 99 + 1 + 17
    # Control: resumed from the bookmark alone (before issue 20), every window past the first
    # unfinished one is read and emitted again.
    again = before & set(without_ranges.keys("orders", "order_number"))
    assert len(again) > 400


def test_the_largest_state_the_rules_allow_is_under_64_kib():
    """Every stream's zones full (10,000 versions over 17 spans), 16 covered ranges each:
    the worst the bounds allow, as JSON."""
    start = datetime(2024, 11, 1, tzinfo=UTC)
    lookback = timedelta(minutes=5)
    ends = [start + timedelta(hours=hour) for hour in range(17)]
    spans = [(end - lookback, end) for end in ends]
    covered = [[to_utc_iso(end - timedelta(minutes=30)), to_utc_iso(end)] for end in ends[1:]]

    def table(seed: int) -> list[dict]:
        versions = EmittedVersions()
        for index in range(10_000):
            moment = spans[index % 17][0] + timedelta(microseconds=index)
            versions.note(moment, key_version(f"{seed}-{index}", index))
        zones = versions.zones(spans)
        assert sum(len(zone.values) for zone in zones) <= MAX_VALUES
        return [zone.to_state() for zone in zones]

    bookmark = {"replication_key": "updated", "replication_key_value": to_utc_iso(start)}
    streams = {
        name: {**bookmark, "recently_emitted": table(seed), "covered": covered}
        for seed, name in enumerate(INCREMENTAL)
    }
    streams["inventory"]["orders_seen_recently"] = table(99)
    state = {"bookmarks": streams}
    assert len(json.dumps(state, separators=(",", ":")).encode()) <= FINAL_STATE_LIMIT


def test_versions_kept_stay_few_while_more_windows_are_open_than_the_state_names(monkeypatch):
    """32 windows read at once, more than the 16 ranges a STATE names: below each delivered
    range's last ``lookback`` the versions are forgotten, named or not, so what is kept does
    not grow with the records read (kept for the ranges past the limit, it reached half of
    them and the tap spent twice the CPU placing them after every page)."""
    from tap_ordoro.bookmarks import COVERED_LIMIT

    kept: list[int] = []
    forget = EmittedVersions.forget_outside

    def counting(self, floor, skipped=()):
        forget(self, floor, skipped)
        kept.append(len(self._latest))

    monkeypatch.setattr(EmittedVersions, "forget_outside", counting)
    options = SandboxOptions(seed=4, username=TAP_USER, password=TAP_SECRET, orders=8_000)
    with Sandbox(options) as sandbox:
        config = {**tap_config(sandbox), "max_parallel_requests": 32}
        run = run_tap(config, streams=("orders",))
        windows = {
            entry.query["updated_before"][0]
            for entry in sandbox.requests
            if entry.path == "/v3/order" and "updated_before" in entry.query
        }
    assert len(set(run.keys("orders", "order_number"))) == 8_000
    assert len(windows) > COVERED_LIMIT
    assert max(kept) < 8_000 // 10
