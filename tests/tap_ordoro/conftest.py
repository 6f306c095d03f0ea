"""Fixtures for tap-ordoro's tests: sandboxes on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER


@pytest.fixture(scope="session")
def seeded_sandbox() -> Iterator[Sandbox]:
    """A sandbox the tests only read from."""
    options = SandboxOptions(seed=3, username=TAP_USER, password=TAP_SECRET)
    with Sandbox(options) as sandbox:
        yield sandbox


@pytest.fixture
def fresh_sandbox() -> Iterator[Sandbox]:
    """A sandbox of its own for a test that changes data or knobs."""
    options = SandboxOptions(
        seed=5, username=TAP_USER, password=TAP_SECRET, products=250, orders=320
    )
    with Sandbox(options) as sandbox:
        yield sandbox
