"""Parallel keyset windows (tap_ordoro/windows.py) end together: each window takes its turn of
the pace by the pages it has left (ordoro_core/pacing.py's priority), so the few that would
otherwise be left with extra pages do not run alone at the speed of latency at the end."""

from __future__ import annotations

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER, run_tap
from tests.tap_ordoro.test_sync import tap_config


@pytest.mark.parametrize("seed", [1, 2])
def test_once_a_window_has_ended_no_other_has_more_than_a_page_left(seed):
    """6,000 orders, answers 500 ms away, the pace at 600 a minute: 7 to 12 windows wait in
    line for the pace. Taken first come first served, some windows were left with two pages
    after the first one ended (seed 1: three of them; seed 2: six); by pages left, none."""
    options = SandboxOptions(
        seed=seed, username=TAP_USER, password=TAP_SECRET, orders=6000, latency_ms=500
    )
    with Sandbox(options) as sandbox:
        run = run_tap(tap_config(sandbox, requests_per_minute=600), streams=("orders",))
        pages = [record for record in sandbox.requests if record.path == "/v3/order"]
    assert len(set(run.keys("orders", "order_number"))) == 6000
    windows: dict[str, list[float]] = {}
    for page in pages:
        upper = page.query.get("updated_before")
        if upper:
            windows.setdefault(upper[0], []).append(page.at)
    assert len(windows) >= 4, "the orders were read in parallel windows"
    first_ended = min(max(sent) for sent in windows.values())
    left = {upper: sum(at > first_ended for at in sent) for upper, sent in windows.items()}
    assert max(left.values()) <= 1, left
