"""Fixtures for the target-ordoro tests: a sandbox to write into, configs, and a runner.

The sandbox is a real HTTP server on 127.0.0.1 (no mocking of requests). One empty account is
shared by the whole session; every test names its SKUs and orders with its own prefix
(``prefix``), so tests do not see each other's records. The target runs in-process
(``run_target``) or as the ``target-ordoro`` console script (``run_target_cli``), reading
``.singer`` files from ``fixtures/`` whose ``${NAME}`` placeholders are filled in per test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import pytest

from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import Sandbox, SandboxOptions
from target_ordoro.target import TargetOrdoro

FIXTURES = Path(__file__).resolve().parent / "fixtures"
USERNAME = "target-test-user"
#: Distinctive, so that a test can prove it never appears in any output.
PASSWORD = "pw-7f3c91e2-NEVER-PRINT-ME"
SEED = 11
#: Fast retries for in-process runs (the client's default backoff starts at a second, and a POST
#: that timed out is checked again only after settle_seconds, 10 s by default).
FAST_RETRY = RetryPolicy(
    max_attempts=6,
    backoff_seconds=0.01,
    backoff_max_seconds=0.05,
    max_total_wait_seconds=20,
    settle_seconds=0.05,
)
TARGET_SCRIPT = Path(sys.executable).with_name("target-ordoro")


@dataclass
class RunResult:
    """What one target run left behind."""

    stdout: str
    stderr: str
    error: BaseException | None
    config: dict[str, Any]
    returncode: int | None = None
    states: list[Any] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        """The dead-letter file's lines."""
        return read_json_lines(Path(self.config["dead_letter_path"]))

    @property
    def order_map(self) -> list[dict[str, Any]]:
        """The order map file's lines."""
        return read_json_lines(Path(self.config["order_map_path"]))

    def reasons(self) -> dict[str, str]:
        """Dead-letter reason by the record's identifying value (sku, order id, ...)."""
        found = {}
        for line in self.dead_letters:
            record = line["record"]
            key = record.get("test_key") if isinstance(record, dict) else None
            found[key or json.dumps(record, sort_keys=True)] = line["reason"]
        return found


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON Lines file ([] when it does not exist)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _parse_output(result: RunResult) -> RunResult:
    result.states = [
        json.loads(line) for line in result.stdout.splitlines() if line.strip().startswith("{")
    ]
    for line in result.stderr.splitlines():
        if line.startswith('{"type": "target_ordoro_summary"'):
            result.summary = json.loads(line)
    return result


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """An empty Ordoro account (warehouses and sales channels only) shared by the session."""
    with Sandbox(
        SandboxOptions(seed=SEED, username=USERNAME, password=PASSWORD, empty=True)
    ) as server:
        yield server


@pytest.fixture
def own_sandbox() -> Iterator[Sandbox]:
    """An empty account of the test's own (same seed: same warehouse and sales channel ids as
    ``sandbox``), for tests that count requests or compare whole-account state."""
    with Sandbox(
        SandboxOptions(seed=SEED, username=USERNAME, password=PASSWORD, empty=True)
    ) as server:
        yield server


@pytest.fixture(scope="session")
def password() -> str:
    """The sandbox's password: no output, log or file may ever contain it."""
    return PASSWORD


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with a fresh request log, and every injected fault removed after."""
    sandbox.clear_faults()
    sandbox.reset_request_log()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture
def prefix() -> str:
    """A prefix unique to the test for SKUs and order ids."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def placeholders(sandbox: Sandbox, prefix: str) -> dict[str, Any]:
    """Values for the ``${NAME}`` placeholders of the fixture files."""
    warehouses = sorted(sandbox.store.warehouses)
    carts = sorted(sandbox.store.carts)
    return {"P": prefix, "WH1": warehouses[0], "WH2": warehouses[1], "CART": carts[0]}


@pytest.fixture
def fixture_text(placeholders: dict[str, Any]) -> Callable[..., str]:
    """The text of ``fixtures/<name>``, placeholders filled in."""

    def render(*names: str) -> str:
        return "".join(
            Template((FIXTURES / name).read_text(encoding="utf-8")).substitute(placeholders)
            for name in names
        )

    return render


@pytest.fixture
def make_config(sandbox: Sandbox, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """A target config for the shared sandbox, with its files under the test's tmp_path."""

    def build(**overrides: Any) -> dict[str, Any]:
        config = {
            "username": USERNAME,
            "password": PASSWORD,
            "api_url": sandbox.url,
            "requests_per_minute": 100_000,
            "dead_letter_path": str(tmp_path / "out" / "dead-letter.jsonl"),
            "order_map_path": str(tmp_path / "out" / "order-map.jsonl"),
        }
        config.update(overrides)
        return {key: value for key, value in config.items() if value is not None}

    return build


@pytest.fixture
def new_target() -> Iterator[Callable[..., TargetOrdoro]]:
    """Build in-process targets (fast retries) that are closed after the test."""
    created: list[TargetOrdoro] = []

    def build(config: dict[str, Any]) -> TargetOrdoro:
        target = TargetOrdoro(config=config, retry_policy=FAST_RETRY)
        created.append(target)
        return target

    yield build
    for target in created:
        target.close()


@pytest.fixture
def run_target(tmp_path: Path) -> Callable[..., RunResult]:
    """Run the target in-process over some Singer text; errors are returned, not raised.

    ``fresh=True`` runs it as a new container would: in a new, empty working directory with
    its dead-letter and order-map files there, so nothing a previous run left behind is seen.
    """
    runs = iter(range(1, 10_000))

    def run(
        config: dict[str, Any],
        text: str,
        *,
        retry_policy: RetryPolicy | None = FAST_RETRY,
        prepare: Callable[[TargetOrdoro], None] | None = None,
        fresh: bool = False,
    ) -> RunResult:
        workdir = None
        if fresh:
            workdir = tmp_path / f"run-{next(runs)}"
            workdir.mkdir()
            config = {
                **config,
                "dead_letter_path": str(workdir / "dead-letter.jsonl"),
                "order_map_path": str(workdir / "order-map.jsonl"),
            }
        target = TargetOrdoro(config=config, retry_policy=retry_policy)
        if prepare is not None:
            prepare(target)
        stdout, stderr = io.StringIO(), io.StringIO()
        error = None
        previous = Path.cwd()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                if workdir is not None:
                    os.chdir(workdir)
                target.listen(io.StringIO(text))
            except Exception as raised:
                error = raised
            finally:
                os.chdir(previous)
                target.close()
        return _parse_output(RunResult(stdout.getvalue(), stderr.getvalue(), error, config))

    return run


@pytest.fixture
def run_target_cli(tmp_path: Path) -> Callable[..., RunResult]:
    """Run the ``target-ordoro`` console script with the config in a file and text on stdin."""

    def run(config: dict[str, Any], text: str, *args: str) -> RunResult:
        config_path = tmp_path / f"config-{uuid.uuid4().hex[:6]}.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        completed = subprocess.run(
            [str(TARGET_SCRIPT), "--config", str(config_path), *args],
            input=text,
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
            check=False,
        )
        result = RunResult(completed.stdout, completed.stderr, None, config, completed.returncode)
        return _parse_output(result)

    return run
