"""The files target-ordoro writes (dead letters, order map) are owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from target_ordoro.jsonl import JsonLinesFile


@pytest.fixture
def loose_umask():
    """The common umask 022, under which files are world-readable unless created otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("loose_umask")
def test_a_run_creates_its_files_0600_in_directories_0700(
    tmp_path, sandbox, make_config, fixture_text, run_target
):
    base = tmp_path / "state" / "target"
    config = make_config(
        warehouse_id=sorted(sandbox.store.warehouses)[0],
        dead_letter_path=str(base / "dead" / "dead-letter.jsonl"),
        order_map_path=str(base / "orders" / "order-map.jsonl"),
    )
    text = fixture_text("products.singer", "orders.singer", "bad_input.singer")
    result = run_target(config, text)
    assert result.error is None, result.stderr
    assert result.dead_letters, "the bad input should have produced dead letters"
    assert result.order_map, "the orders should have been mapped"
    for name in ("dead_letter_path", "order_map_path"):
        path = Path(config[name])
        assert mode(path) == 0o600, (name, oct(mode(path)))
        assert mode(path.parent) == 0o700, (name, oct(mode(path.parent)))
    for created in (base, base.parent):
        assert mode(created) == 0o700, created


@pytest.mark.usefixtures("loose_umask")
def test_existing_directories_are_left_as_they_are(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)  # noqa: S103 (a directory shared on purpose)
    JsonLinesFile(shared / "lines.jsonl").append({"a": 1})
    assert mode(shared) == 0o755
    assert mode(shared / "lines.jsonl") == 0o600
    assert (shared / "lines.jsonl").read_text() == '{"a": 1}\n'
