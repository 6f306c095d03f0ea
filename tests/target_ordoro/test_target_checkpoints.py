"""STATE advances during long runs (issue 10): each STATE is emitted as soon as every record
before it is written or dead-lettered, and a deferred record (its SKU never arrives) holds the
STATEs after it back only within the deferral bounds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from target_ordoro.checkpoints import Checkpoints
from tests.target_ordoro.conftest import read_json_lines

PRODUCTS = 20


def long_run(prefix: str, warehouse: int) -> list[str]:
    """Products, then stock: first for a SKU that never arrives, then for every product, with a
    STATE after every 5 stock records."""
    lines = [
        {"type": "SCHEMA", "stream": "products", "schema": {"properties": {}}},
        *(
            {
                "type": "RECORD",
                "stream": "products",
                "record": {"sku": f"{prefix}-{n}", "name": f"Product {n}"},
            }
            for n in range(1, PRODUCTS + 1)
        ),
        {"type": "STATE", "value": {"bookmarks": {"step": 0}}},
        {"type": "SCHEMA", "stream": "inventory", "schema": {"properties": {}}},
        {
            "type": "RECORD",
            "stream": "inventory",
            "record": {"sku": f"{prefix}-NEVER", "warehouse_id": warehouse, "on_hand": 1},
        },
    ]
    for n in range(1, PRODUCTS + 1):
        record = {"sku": f"{prefix}-{n}", "warehouse_id": warehouse, "on_hand": n}
        lines.append({"type": "RECORD", "stream": "inventory", "record": record})
        if n % 5 == 0:
            lines.append({"type": "STATE", "value": {"bookmarks": {"step": n // 5}}})
    return [json.dumps(line) + "\n" for line in lines]


def steps(text: str) -> list[int]:
    return [json.loads(line)["bookmarks"]["step"] for line in text.splitlines() if line]


@pytest.fixture
def lines(prefix, placeholders) -> list[str]:
    return long_run(prefix, placeholders["WH1"])


#: The input up to (and with) the STATE after 15 stock records: three quarters of the run.
MID_RUN = PRODUCTS + 3 + 1 + 15 + 3


def test_state_checkpoints_during_a_long_run_that_has_a_deferred_record(
    own_sandbox, prefix, lines, make_config, new_target, capsys
):
    config = make_config(api_url=own_sandbox.url, batch_size_rows=5, deferral_max_records=10)
    target = new_target(config)
    target.process_lines(io.StringIO("".join(lines[:MID_RUN])))
    # Mid-run: the SKU that never came was given up on after 10 more records; the STATEs
    # whose records are written are out already (step 3's last batch is not drained yet).
    emitted = steps(capsys.readouterr().out)
    assert emitted
    assert emitted[-1] >= 2
    assert emitted == sorted(emitted)
    [dead] = _dead_letters(config)
    assert dead["record"]["sku"] == f"{prefix}-NEVER"
    assert dead["reason"].startswith(f"unknown SKU '{prefix}-NEVER'")
    written_then = {
        sku: product["warehouses"][0]["on_hand"]
        for sku, product in own_sandbox.store.products.items()
        if sku.startswith(prefix)
    }
    # Every STATE emitted covers only written stock: step k means stock 1..5k is set.
    for n in range(1, 5 * emitted[-1] + 1):
        assert written_then[f"{prefix}-{n}"] == n

    target.process_lines(io.StringIO("".join(lines[MID_RUN:])))
    target.process_endofpipe()
    assert steps(capsys.readouterr().out)[-1] == PRODUCTS // 5
    counts = target.run.report.streams["inventory"]
    assert (counts.received, counts.written, counts.dead_lettered) == (PRODUCTS + 1, PRODUCTS, 1)


def test_control_without_a_bound_the_deferred_record_holds_state_to_the_end(
    own_sandbox, prefix, lines, make_config, new_target, capsys
):
    config = make_config(api_url=own_sandbox.url, batch_size_rows=5)  # default bounds
    target = new_target(config)
    target.process_lines(io.StringIO("".join(lines[:MID_RUN])))
    # Only the STATE before the deferred record: every later one waits for it.
    assert steps(capsys.readouterr().out) == [0]
    assert target.has_deferred()
    target.process_lines(io.StringIO("".join(lines[MID_RUN:])))
    target.process_endofpipe()
    assert steps(capsys.readouterr().out) == [PRODUCTS // 5]
    assert [line["record"]["sku"] for line in _dead_letters(config)] == [f"{prefix}-NEVER"]


def test_the_time_bound_gives_up_at_the_next_state(
    own_sandbox, prefix, lines, make_config, new_target, capsys
):
    config = make_config(api_url=own_sandbox.url, batch_size_rows=5, deferral_max_seconds=0)
    target = new_target(config)
    target.process_lines(io.StringIO("".join(lines[:MID_RUN])))
    emitted = steps(capsys.readouterr().out)
    assert emitted[-1] >= 2
    assert [line["record"]["sku"] for line in _dead_letters(config)] == [f"{prefix}-NEVER"]


def test_a_deferred_record_is_written_as_soon_as_its_product_is(
    own_sandbox, prefix, placeholders, make_config, run_target
):
    """Stock first, its product later in the input: retried once the product is written, not
    at the end of the input."""
    warehouse = placeholders["WH1"]
    messages = [
        {"type": "SCHEMA", "stream": "inventory", "schema": {"properties": {}}},
        {
            "type": "RECORD",
            "stream": "inventory",
            "record": {"sku": f"{prefix}-LATE", "warehouse_id": warehouse, "on_hand": 4},
        },
        {"type": "STATE", "value": {"bookmarks": {"step": 1}}},
        {"type": "SCHEMA", "stream": "products", "schema": {"properties": {}}},
        {"type": "RECORD", "stream": "products", "record": {"sku": f"{prefix}-LATE", "name": "L"}},
        {"type": "STATE", "value": {"bookmarks": {"step": 2}}},
        {"type": "RECORD", "stream": "products", "record": {"sku": f"{prefix}-X", "name": "X"}},
        {"type": "STATE", "value": {"bookmarks": {"step": 3}}},
    ]
    result = run_target(
        make_config(api_url=own_sandbox.url, batch_size_rows=1),
        "".join(json.dumps(m) + "\n" for m in messages),
        fresh=True,
    )
    assert result.error is None, result.stderr
    assert [state["bookmarks"]["step"] for state in result.states] == [1, 2, 3]
    counts = result.summary["streams"]["inventory"]
    assert counts["deferred_then_written"] == 1
    stock_writes = [
        (r.method, r.status) for r in own_sandbox.requests if r.path.endswith(f"/{warehouse}/")
    ]
    assert stock_writes == [("PUT", 404), ("PUT", 200)]


def _dead_letters(config: dict) -> list[dict]:
    return read_json_lines(Path(config["dead_letter_path"]))


def test_checkpoints_emit_the_latest_settled_state_once():
    checkpoints = Checkpoints()
    first = checkpoints.receive(open_=True)
    checkpoints.state({"a": 1})
    second = checkpoints.receive(open_=True)
    checkpoints.state({"a": 2})
    assert checkpoints.emittable() is None
    checkpoints.settle(second)
    assert checkpoints.emittable() is None  # the first record still waits
    checkpoints.settle(first)
    assert checkpoints.emittable() == {"a": 2}
    assert checkpoints.emittable() is None
    checkpoints.state({"a": 2})
    assert checkpoints.emittable() is None  # the same STATE again is not repeated
    checkpoints.receive(open_=False)
    checkpoints.state({"a": 3})
    assert checkpoints.emittable() == {"a": 3}
