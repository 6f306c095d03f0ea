"""The Singer SDK's standard tap tests, run against a sandbox on a loopback port.

The sandbox is started when this module is imported because the SDK builds its test class (and
reads the tap's config) at import time; a module fixture stops it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from ordoro_sandbox import Sandbox, SandboxOptions
from tap_ordoro.tap import TapOrdoro
from tests.tap_ordoro.helpers import TAP_SECRET, TAP_USER

# The catalog declares fields that the live API sends in some shapes and the sandbox does not
# (the spec examples' `cart` and `batch` on orders, the legacy `bigc_variant_migrated` on
# products, …); the SDK reports those as a warning, which this suite's strict warnings would turn
# into failures.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Fields in transformed catalog but not in records:UserWarning"
)

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
