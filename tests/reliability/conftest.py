"""Fixtures of the reliability tests: sandboxes on loopback ports and the fault table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.reliability.helpers import SECRET, USERNAME, FaultTable


@pytest.fixture(scope="session")
def fault_table() -> Iterator[FaultTable]:
    """The fault matrix's measured rows, written to output/reliability/ after the session."""
    table = FaultTable()
    yield table
    table.write()


@pytest.fixture(scope="module")
def read_sandbox() -> Iterator[Sandbox]:
    """A seeded account several pages long, which the tap tests read (and never change)."""
    options = SandboxOptions(
        seed=21,
        username=USERNAME,
        password=SECRET,
        products=130,
        orders=230,
        purchase_orders=25,
        return_orders=15,
    )
    with Sandbox(options) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def write_sandbox() -> Iterator[Sandbox]:
    """An empty account (warehouses and sales channels) that target tests write into, each
    under its own prefix."""
    options = SandboxOptions(seed=22, username=USERNAME, password=SECRET, empty=True)
    with Sandbox(options) as sandbox:
        yield sandbox


def _reset(sandbox: Sandbox) -> None:
    sandbox.clear_faults()
    sandbox.set_rate_limit(None)
    sandbox.set_latency_ms(0)
    sandbox.reset_request_log()


@pytest.fixture
def tap_sandbox(read_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The read sandbox with no faults, no limit and a fresh request log; reset after."""
    _reset(read_sandbox)
    yield read_sandbox
    _reset(read_sandbox)


@pytest.fixture
def target_sandbox(write_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The write sandbox with no faults, no limit and a fresh request log; reset after."""
    _reset(write_sandbox)
    yield write_sandbox
    _reset(write_sandbox)
