"""``tap-ordoro --test`` against a sandbox: exit 0, one record per stream, no false ERROR line.

The SDK's dry run used to end every stream by raising its record-limit exception through
``Stream.sync()``, which logs "An unhandled error occurred while syncing" before the dry run
swallows it (see ``tap_ordoro/connection_test.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ordoro_core.catalog import STREAM_NAMES
from ordoro_sandbox import FaultRule, Sandbox
from tap_ordoro.tap import TapOrdoro
from tests.tap_ordoro.helpers import TAP_SECRET, tap_config

TAP = Path(sys.executable).with_name("tap-ordoro")


def run_test_mode(tmp_path: Path, config: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run(
        [str(TAP), "--config", str(path), "--test"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def child_streams(sandbox: Sandbox) -> set[str]:
    """The tap's streams that are fed by a parent stream."""
    tap = TapOrdoro(config=tap_config(sandbox))
    return {name for name, stream in tap.streams.items() if stream.parent_stream_type}


def test_a_passing_test_logs_no_error_and_syncs_one_record_per_stream(tmp_path, seeded_sandbox):
    result = run_test_mode(tmp_path, tap_config(seeded_sandbox))

    assert result.returncode == 0, result.stderr
    assert "unhandled error" not in result.stderr.lower()
    assert "| ERROR" not in result.stderr
    assert "Traceback" not in result.stderr
    records = Counter(
        message["stream"]
        for message in map(json.loads, result.stdout.splitlines())
        if message["type"] == "RECORD"
    )
    # The seeded account has records in every stream: each stream that reads a list gives
    # exactly one. Child streams (shipments, inventory) make no request of their own: they
    # give what their parent's one record holds, at most one.
    children = child_streams(seeded_sandbox)
    assert children, "expected parent/child streams"
    for stream in STREAM_NAMES:
        if stream in children:
            assert records.get(stream, 0) <= 1, stream
        else:
            assert records.get(stream) == 1, f"{stream}: {records.get(stream)} records"
    assert TAP_SECRET not in result.stdout + result.stderr


def test_a_failing_stream_still_fails_the_test_loudly(tmp_path, fresh_sandbox):
    """Only the false alarm is gone: a real error still logs, and exits non-zero."""
    fresh_sandbox.add_fault(FaultRule(kind="status", status=400, path_prefix="/supplier/"))

    result = run_test_mode(tmp_path, tap_config(fresh_sandbox))

    assert result.returncode == 1
    assert "An unhandled error occurred while syncing 'suppliers'" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("tap-ordoro: ")
