"""The tap's parallel reads follow the latency: windows and pages in flight, counted at the
sandbox (``ordoro_sandbox.inflight``), never timed.

At 20 requests a second and answers that take 800 ms, 16 requests must be in flight to keep
the pace. The tap plans its keyset windows and its pages in flight from what the API client
allows (``ordoro_core.inflight``): about 21 here. The old fixed number (8 windows, 8 pages)
could not pass 8; the controls run the same reads with ``max_parallel_requests: 8``, the
ceiling, and see at most 8.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from ordoro_sandbox.inflight import InFlight
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER, run_tap, tap_config

PACE = 1200  # requests a minute: 20 a second


@pytest.fixture
def slow_sandbox() -> Iterator[Sandbox]:
    """4,000 orders and 3,000 products (40 and 30 pages) answered after 800 ms."""
    options = SandboxOptions(
        seed=3,
        username=TAP_USER,
        password=TAP_SECRET,
        orders=4000,
        products=3000,
        purchase_orders=0,
        return_orders=0,
        latency_ms=800,
    )
    with Sandbox(options) as sandbox:
        yield sandbox


@pytest.mark.parametrize(
    ("streams", "ceiling", "at_least", "at_most"),
    [
        (("orders",), None, 14, 32),
        (("orders",), 8, 1, 8),  # control: the old fixed number
        (("products",), None, 14, 32),
        (("products",), 8, 1, 8),  # control
    ],
    ids=["orders", "orders-control", "products", "products-control"],
)
def test_requests_in_flight_grow_with_the_latency(
    slow_sandbox, streams, ceiling, at_least, at_most
):
    extra = {} if ceiling is None else {"max_parallel_requests": ceiling}
    config = tap_config(slow_sandbox, requests_per_minute=PACE, **extra)
    run = run_tap(config, streams=streams)
    list_key = {"orders": slow_sandbox.store.orders, "products": slow_sandbox.store.products}
    assert len(run.records[streams[0]]) == len(list_key[streams[0]])
    peak = InFlight.of(slow_sandbox.requests).peak
    assert at_least <= peak <= at_most


def test_many_in_flight_keep_the_even_pace(slow_sandbox):
    """Orders and products read at once, 20 and more in flight: no half second of arrivals at
    the sandbox holds more than 11 requests at 20 a second."""
    run_tap(
        tap_config(slow_sandbox, requests_per_minute=PACE),
        streams=("orders", "products"),
    )
    assert InFlight.of(slow_sandbox.requests).peak >= 16
    arrivals = sorted(record.at for record in slow_sandbox.requests)
    for index, start in enumerate(arrivals):
        assert sum(1 for moment in arrivals[index:] if moment < start + 0.5) <= 11
