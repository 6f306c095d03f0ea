"""The Singer SDK's standard tap tests, run against a sandbox on a loopback port.

The sandbox is started when this module is imported because the SDK builds its test class (and
reads the tap's config) at import time; a module fixture stops it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from ordoro_core.sandbox import Sandbox, SandboxOptions
from tap_ordoro.tap import TapOrdoro
from tests.tap_ordoro.conftest import TAP_SECRET, TAP_USER

_sandbox = Sandbox(
    SandboxOptions(seed=21, username=TAP_USER, password=TAP_SECRET, products=150, orders=180)
)
_sandbox.start()


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox() -> Iterator[None]:
    yield
    _sandbox.stop()


TestTapOrdoroStandard = get_tap_test_class(
    TapOrdoro,
    config={"username": TAP_USER, "password": TAP_SECRET, "api_url": _sandbox.url},
)
