"""The page that ends a list read in parallel windows (tap_ordoro/end_page.py): it goes out
once the other windows' last requests have gone out, without waiting for their answers, and is
read again when one of them shows records leaving it afterwards."""

from __future__ import annotations

import logging

import pytest

from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER, run_tap
from tests.tap_ordoro.test_sync import tap_config

REREAD = "reading the end once more"


def order_pages(sandbox: Sandbox) -> list:
    return [record for record in sandbox.requests if record.path == "/v3/order"]


def test_the_end_page_goes_out_before_the_other_windows_are_answered():
    """With answers 300 ms away, the page that ends the list leaves a pace step after the
    other windows' last requests, not a round trip after their answers (what the pace would
    spend idle): in every run it arrives after them, and in some while one is still being
    answered (never, waiting for their answers; a run whose end window is the slowest
    reaches its end page when the others are done either way). With nothing changing, it is
    read once."""
    overlapped = 0
    for seed in (11, 12, 13):
        options = SandboxOptions(
            seed=seed, username=TAP_USER, password=TAP_SECRET, orders=2000, latency_ms=300
        )
        with Sandbox(options) as sandbox:
            run = run_tap(tap_config(sandbox), streams=("orders",))
            pages = order_pages(sandbox)
        assert len(set(run.keys("orders", "order_number"))) == 2000
        windows = [page for page in pages if "updated_before" in page.query]
        assert len(windows) >= 4, "the orders were read in parallel windows"
        end_page = max(pages, key=lambda page: page.at)
        assert "updated_before" not in end_page.query
        assert end_page.query["offset"] == ["0"]
        assert end_page.at > max(page.at for page in windows)
        open_ended = [page for page in pages if "updated_before" not in page.query]
        assert [page for page in open_ended if page.at > max(p.at for p in windows)] == [end_page]
        overlapped += end_page.at < max(page.answered for page in windows)
    assert overlapped >= 1


def test_no_record_is_missed_when_the_api_reads_requests_out_of_order(caplog):
    """The sandbox reads some list requests 0.2 s after they arrive (a delay before the
    handler), so the page that ends the list may be read before another window's last page,
    while records not read yet move to the end. The window whose count fell says so and the
    end is read again: every record comes in this one run. (Sending the end page on the other
    windows' last requests without that check missed records in 4 of 20 such runs.)"""
    rereads = 0
    for seed in range(4):
        options = SandboxOptions(
            seed=seed, username=TAP_USER, password=TAP_SECRET, orders=1250, latency_ms=20
        )
        with Sandbox(options) as sandbox, caplog.at_level(logging.INFO):
            caplog.clear()
            sandbox.set_mutate_unread_per_page(3)
            sandbox.add_fault(FaultRule.parse("delay=0.2:p=0.4,path=/v3/order"))
            run = run_tap(tap_config(sandbox), streams=("orders",))
            sandbox.set_mutate_unread_per_page(0)
            expected = set(sandbox.store.orders)
        emitted = set(run.keys("orders", "order_number"))
        assert expected - emitted == set(), f"seed {seed}"
        rereads += any(REREAD in record.getMessage() for record in caplog.records)
    assert rereads >= 1, "the end was read again at least once"


@pytest.mark.parametrize("orders", [1250, 2000])
def test_nothing_changing_costs_no_second_end_page(orders, caplog):
    """Counts that keep their promise: no window says records left it, no page is added."""
    options = SandboxOptions(seed=2, username=TAP_USER, password=TAP_SECRET, orders=orders)
    with Sandbox(options) as sandbox, caplog.at_level(logging.INFO):
        sandbox.add_fault(FaultRule.parse("delay=0.05:p=0.3,path=/v3/order"))
        run = run_tap(tap_config(sandbox), streams=("orders",))
    assert len(set(run.keys("orders", "order_number"))) == orders
    assert not [record for record in caplog.records if REREAD in record.getMessage()]
