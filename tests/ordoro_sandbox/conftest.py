"""Shared fixtures for the ordoro_core tests: sandboxes on free ports, an HTTP helper, the spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from ordoro_sandbox import Sandbox, SandboxOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT / ".." / "shared"
SPEC_PATH = SHARED_DIR / "ordoro-openapi.yml"

USERNAME = SandboxOptions().username
PASSWORD = SandboxOptions().password


class Api:
    """Plain `requests` against a sandbox, with its credentials; every response is closed."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.auth = (sandbox.options.username, sandbox.options.password)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        with self.session.request(method, self.sandbox.url + path, **kwargs) as response:
            return response

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.request("PUT", path, json=body)

    def close(self) -> None:
        self.session.close()


def shared_file(path: Path) -> Path:
    """A file of the shared folder beside the repository; fails the test clearly without it."""
    if not path.exists():
        pytest.fail(
            f"missing {path.resolve()}: the tests read the shared folder beside the repository "
            "(../shared from the project root); link or copy it there"
        )
    return path


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """Ordoro's OpenAPI spec, parsed."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with shared_file(SPEC_PATH).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 (a safe loader)


@pytest.fixture(scope="session")
def read_sandbox() -> Iterator[Sandbox]:
    """A default-seeded sandbox that no test writes to."""
    with Sandbox(SandboxOptions(seed=1)) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def read_api(read_sandbox: Sandbox) -> Iterator[Api]:
    """HTTP helper for the read-only sandbox."""
    api = Api(read_sandbox)
    yield api
    api.close()


@pytest.fixture(scope="module")
def module_api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """A sandbox for one test module, built from the module's ``SANDBOX_OPTIONS``."""
    options = getattr(request.module, "SANDBOX_OPTIONS", None) or SandboxOptions(
        products=40, orders=40
    )
    with Sandbox(options) as sandbox:
        api = Api(sandbox)
        yield api
        api.close()


@pytest.fixture
def make_api() -> Iterator:
    """Start small sandboxes with given options; stopped after the test."""
    started: list[tuple[Sandbox, Api]] = []

    def start(**options: Any) -> Api:
        options.setdefault("products", 40)
        options.setdefault("orders", 40)
        sandbox = Sandbox(SandboxOptions(**options)).start()
        api = Api(sandbox)
        started.append((sandbox, api))
        return api

    yield start
    for sandbox, api in started:
        api.close()
        sandbox.stop()
