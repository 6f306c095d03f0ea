"""SIGKILL in the middle of a run, then resume: nothing lost, nothing duplicated, and no STATE
ever ahead of what was written.

Both plugins run as real processes (the console scripts) against an in-process sandbox that
answers slowly enough for the kill to land mid-stream.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Any

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.reliability.helpers import (
    SECRET,
    USERNAME,
    FigureRow,
    TargetInput,
    applied,
    make_target_input,
    message,
    orders_by_id,
    parse_target_output,
    run_tap,
    schema_line,
    tally_tap,
    tally_target,
    tap_class,
    tap_config,
    target_config,
)
from tests.tap_ordoro.helpers import TapRun, parse_messages, select_only

BIN = Path(sys.executable).parent
#: target-ordoro, draining (and so emitting STATE) after every record instead of every 5 minutes.
TARGET_DRAINING_EVERY_RECORD = [
    sys.executable,
    "-c",
    "from target_ordoro.target import TargetOrdoro, main\n"
    "TargetOrdoro._MAX_RECORD_AGE_IN_MINUTES = 0\n"
    "main()\n",
]


#: The target crash test's input (records: see the docs' table).
CRASH_INPUT = {"products": 5, "orders": 16, "shipments": 12}


class LineReader:
    """Reads a process's stdout line by line in a thread; ``wait_for`` blocks until enough
    lines match."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def count(self, prefix: str) -> int:
        with self._changed:
            return sum(1 for line in self.lines if line.startswith(prefix))

    def wait_for(self, prefix: str, at_least: int, timeout: float = 60) -> None:
        with self._changed:
            self._changed.wait_for(
                lambda: self.count_unlocked(prefix) >= at_least or not self._thread.is_alive(),
                timeout=timeout,
            )

    def count_unlocked(self, prefix: str) -> int:
        return sum(1 for line in self.lines if line.startswith(prefix))

    def finish(self) -> list[str]:
        """Every complete line the process wrote (a line cut by the kill is dropped)."""
        self._thread.join(timeout=30)
        self.process.stdout.close()
        return [line for line in self.lines if line.endswith("\n")]


def record_prefix() -> str:
    return '{"type":"RECORD"'


def test_a_tap_killed_mid_sync_resumes_from_its_last_state_without_losing_a_record(
    tap_sandbox, tmp_path, fault_table
):
    tap_sandbox.set_latency_ms(60)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(tap_sandbox)), encoding="utf-8")
    process = subprocess.Popen(
        [str(BIN / "tap-ordoro"), "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reader = LineReader(process)
    try:
        # Mid-sync: past the first streams and their STATE, well before the end.
        reader.wait_for('{"type":"STATE"', at_least=3)
        reader.wait_for(record_prefix(), at_least=400)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    lines = reader.finish()
    assert process.returncode == -signal.SIGKILL
    killed = parse_messages([line for line in lines if line.strip()])
    emitted = sum(len(records) for records in killed.records.values())
    expected = tally_tap(tap_sandbox, []).records
    assert 0 < emitted < expected, "the kill did not land mid-sync"
    assert killed.last_state is not None

    tap_sandbox.set_latency_ms(0)
    resumed = run_tap(tap_config(tap_sandbox), state=killed.last_state)
    assert resumed.error is None
    tally = tally_tap(tap_sandbox, [killed, resumed.run])
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0), tally.detail
    # The resumed run used the STATE: it did not read everything again.
    assert sum(len(r) for r in resumed.run.records.values()) < expected
    fault_table.add(
        FigureRow(
            "tap",
            "SIGKILL mid-sync",
            1,
            tally.records,
            tally.lost,
            tally.duplicated,
            f"killed after {emitted} records; resumed from its last STATE",
        )
    )


#: The parallel-windows crash: orders in the account, and how many are out at the kill.
WINDOWS_ORDERS, KILL_AT = 3000, 1500


def kill_amid_windows(sandbox: Sandbox, directory: Path) -> TapRun:
    """tap-ordoro reading orders in parallel windows, SIGKILLed once KILL_AT are out."""
    sandbox.set_latency_ms(40)
    config = tap_config(sandbox)
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    catalog = select_only(config, "orders")
    (directory / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    process = subprocess.Popen(
        [
            str(BIN / "tap-ordoro"),
            *("--config", str(directory / "config.json")),
            *("--catalog", str(directory / "catalog.json")),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reader = LineReader(process)
    try:
        reader.wait_for('{"type":"RECORD","stream":"orders"', at_least=KILL_AT)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    sandbox.set_latency_ms(0)
    return parse_messages([line for line in reader.finish() if line.strip()])


def test_a_tap_killed_amid_parallel_windows_resumes_only_what_was_in_flight(tmp_path, fault_table):
    """Issue 20: 3,000 orders read in parallel windows, the tap SIGKILLed at 1,500: the resumed
    run re-emits at most 200 and loses none. Control: resumed from the same STATE without its
    covered ranges (the bookmark alone, as before), it re-emits the windows finished past the
    first unfinished one."""
    options = SandboxOptions(seed=63, username=USERNAME, password=SECRET, orders=WINDOWS_ORDERS)
    with Sandbox(options) as sandbox:
        killed = kill_amid_windows(sandbox, tmp_path)
        before = set(killed.keys("orders", "order_number"))
        assert KILL_AT <= len(before) < WINDOWS_ORDERS, "the kill did not land mid-sync"
        state = killed.last_state
        assert state is not None
        assert state["bookmarks"]["orders"].get("covered"), "windows were in flight"
        resumed = run_tap(tap_config(sandbox), state=state, tap_type=orders_only(sandbox))
        assert resumed.error is None
        after = resumed.run.keys("orders", "order_number")
        lost = set(sandbox.store.orders) - before - set(after)
        re_emitted = len(before & set(after))
        bare = json.loads(json.dumps(state))
        bare["bookmarks"]["orders"].pop("covered")
        control = run_tap(tap_config(sandbox), state=bare, tap_type=orders_only(sandbox))
    assert lost == set()
    assert re_emitted <= 200
    assert len(before & set(control.run.keys("orders", "order_number"))) > 200
    fault_table.add(
        FigureRow(
            "tap",
            "SIGKILL amid parallel windows (orders only)",
            1,
            WINDOWS_ORDERS,
            len(lost),
            0,
            f"killed after {len(before)} orders; the resumed run re-emitted {re_emitted}",
        )
    )


def orders_only(sandbox: Sandbox) -> Any:
    """A tap maker with only the orders stream selected."""
    catalog = select_only(tap_config(sandbox), "orders")
    return partial(tap_class(), catalog=catalog)


def covered_records(given: TargetInput, state: Any) -> int:
    """How many input records the STATE says are written (the input numbers its STATEs)."""
    return int(state["bookmarks"]["input"])


def applied_now(sandbox: Sandbox, given: TargetInput) -> list[bool]:
    """For each input record, in input order: is its effect in the store right now?"""
    records = given.ordered_records()
    with sandbox.store.lock:
        return [applied(sandbox.store, stream, record) for stream, record in records]


def run_target_cli(config: dict[str, Any], text: str, directory: Path) -> tuple[int, str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    completed = subprocess.run(
        [str(BIN / "target-ordoro"), "--config", str(config_path)],
        input=text,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=directory,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


def tail_after(given: TargetInput, covered: int) -> str:
    """The input a resumed tap would send: every SCHEMA, then the records after ``covered``."""
    lines = [schema_line(stream) for stream in ("products", "inventory", "orders", "shipments")]
    for stream, record in given.ordered_records()[covered:]:
        lines.append(message("RECORD", stream, record=record))
    lines.append(message("STATE", value={"bookmarks": {"input": given.records}}))
    return "".join(lines)


def test_a_target_killed_mid_write_replays_without_duplicates_and_never_ran_ahead(
    target_sandbox, tmp_path, fault_table
):
    given = make_target_input(target_sandbox, **CRASH_INPUT)
    target_sandbox.set_latency_ms(50)
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    base = target_config(target_sandbox, first_dir, warehouse_id=given.warehouses[0])
    config = {k: v for k, v in base.items() if not k.endswith("_path")}
    (first_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (first_dir / "input.singer").write_text(given.text(state_every=1), encoding="utf-8")
    with (first_dir / "input.singer").open(encoding="utf-8") as stdin:
        process = subprocess.Popen(
            [*TARGET_DRAINING_EVERY_RECORD, "--config", str(first_dir / "config.json")],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=first_dir,
        )
        reader = LineReader(process)
        try:
            # Mid-write: some orders are in, most are not.
            # (A target writes each STATE's value as one line.)
            reader.wait_for('{"bookmarks"', at_least=len(given.products) + 12)
        finally:
            process.send_signal(signal.SIGKILL)
            snapshot = applied_now(target_sandbox, given)
            process.wait(timeout=30)
    states = [json.loads(line) for line in reader.finish() if line.startswith("{")]
    assert states, "the target emitted no STATE before it was killed"
    covered = covered_records(given, states[-1])
    assert 0 < covered < given.records, "the kill did not land mid-run"
    # STATE never ahead: every record a STATE covered was in Ordoro when the target died.
    missing = [n for n in range(covered) if not snapshot[n]]
    assert missing == [], f"STATE covered records {missing} that were not written"

    # Resume as a pipeline would: the tap sends what comes after the target's last STATE,
    # into a fresh working directory (no order map).
    target_sandbox.set_latency_ms(0)
    code, stdout, stderr = run_target_cli(config, tail_after(given, covered), tmp_path / "resume")
    assert code == 0, stderr
    tally = tally_target(target_sandbox, given, [])
    assert (tally.lost, tally.duplicated) == (0, 0), tally.detail

    # Replaying the whole input once more, from yet another fresh directory, duplicates nothing.
    code, stdout, stderr = run_target_cli(config, given.text(), tmp_path / "replay")
    assert code == 0, stderr
    _, summary = parse_target_output(stdout, stderr)
    assert summary["streams"]["orders"]["written"] == 0  # every order exists: none created
    tally = tally_target(target_sandbox, given, [])
    assert (tally.lost, tally.duplicated) == (0, 0), tally.detail
    assert set(orders_by_id(target_sandbox, given.prefix).values()) == {1}
    fault_table.add(
        FigureRow(
            "target",
            "SIGKILL mid-write",
            1,
            tally.records,
            tally.lost,
            tally.duplicated,
            f"last STATE covered {covered} records, all written; resumed after it, then the "
            "whole input replayed",
        )
    )
