"""Runs that cannot write end non-zero with one line, emit no STATE past what was written, and
never show the password anywhere."""

from __future__ import annotations

import json
from pathlib import Path

from ordoro_core.errors import OrdoroTransientError
from ordoro_sandbox import FaultRule
from target_ordoro.errors import SettingsError


def _state(value: str) -> str:
    return json.dumps({"type": "STATE", "value": {"bookmarks": {"step": value}}}) + "\n"


def test_a_failure_outlasting_retries_ends_the_run_without_state_past_what_was_written(
    faults, prefix, make_config, fixture_text, run_target
):
    """Every order POST fails; products before it are written and each of their STATEs is
    emitted as soon as the records before it are written."""
    faults.add_fault(FaultRule(kind="status", status=503, method="POST", path_prefix="/v3/order"))
    products = fixture_text("products.singer").splitlines(keepends=True)
    orders = fixture_text("orders.singer").splitlines(keepends=True)
    text = "".join(
        [
            products[0],
            products[1],
            _state("1"),
            products[2],
            _state("2"),
            orders[0],
            orders[1],
            _state("3"),
        ]
    )

    def drain_after_every_record(target):
        # The SDK drains every sink (and emits STATE) once records are older than this.
        target._MAX_RECORD_AGE_IN_MINUTES = 0

    result = run_target(make_config(), text, prepare=drain_after_every_record)
    assert isinstance(result.error, OrdoroTransientError)
    assert "POST /v3/order" in str(result.error)
    assert f"{prefix}-WIDGET" in faults.store.products
    assert not [number for number in faults.store.orders if prefix in number]
    assert {"bookmarks": {"step": "3"}} not in result.states
    assert result.states == [{"bookmarks": {"step": "1"}}, {"bookmarks": {"step": "2"}}]
    assert result.summary["status"] == "failed"
    assert "503" in result.summary["error"]


def test_cli_exits_non_zero_with_one_line_when_retries_run_out(
    faults, prefix, make_config, fixture_text, run_target_cli
):
    """The default retry policy, against a sandbox that rate-limits every order POST."""
    faults.add_fault(FaultRule(kind="status", status=429, method="POST", path_prefix="/v3/order"))
    text = fixture_text("products.singer") + fixture_text("orders.singer")
    result = run_target_cli(make_config(), text)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("target-ordoro: POST /v3/order still failing after retries")
    assert "Traceback" not in result.stderr
    # The products' STATE, once they are written; not the orders' STATE.
    assert result.states == [{"bookmarks": {"products": f"{prefix}-products-1"}}]
    assert result.summary["status"] == "failed"
    assert f"{prefix}-WIDGET" in faults.store.products


def test_cli_rejected_credentials_give_one_line_without_the_secret(
    make_config, fixture_text, run_target_cli, password
):
    config = make_config(password="not-the-password-" + password[::-1])
    result = run_target_cli(config, fixture_text("products.singer"))
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("target-ordoro: Ordoro rejected the credentials (HTTP 401)")
    assert "Traceback" not in result.stderr
    for output in (result.stdout, result.stderr):
        assert config["password"] not in output
        assert password not in output
    assert result.states == []


def test_credentials_never_appear_in_output_logs_or_files(
    sandbox, make_config, fixture_text, run_target_cli, password
):
    config = make_config(warehouse_id=sorted(sandbox.store.warehouses)[0])
    text = fixture_text(
        "products.singer",
        "inventory.singer",
        "orders.singer",
        "shipments.singer",
        "bad_input.singer",
    )
    result = run_target_cli(config, text, "--input", "/dev/stdin")
    assert result.returncode == 0, result.stderr
    assert result.dead_letters, "the bad input should have produced dead letters"
    assert password not in result.stdout
    assert password not in result.stderr
    for name in ("dead_letter_path", "order_map_path"):
        assert password.encode() not in Path(config[name]).read_bytes()
    assert "Authorization" not in Path(config["dead_letter_path"]).read_text()
    for line in result.dead_letters:
        assert not {"config", "headers", "password"} & set(line)


def test_an_unknown_sales_channel_ends_the_run_before_any_order_is_written(
    sandbox, prefix, make_config, fixture_text, run_target
):
    result = run_target(make_config(sales_channel_id=424242), fixture_text("orders.singer"))
    assert isinstance(result.error, SettingsError)
    assert str(result.error).startswith("sales_channel_id 424242: Ordoro has no sales channel")
    assert not [number for number in sandbox.store.orders if prefix in number]
    assert result.states == []
