"""Fixtures for the tests that run real `meltano` pipelines against an in-process sandbox.

Meltano comes from $ORDORO_MELTANO, else .venv-meltano/bin/meltano (what scripts/test.sh
installs), else PATH. Without it these tests skip, unless ORDORO_REQUIRE_MELTANO=1 (set by
scripts/test.sh), where they fail.

`meltano install` runs once per session into the repository's .meltano/ (git-ignored; the
Ordoro plugins are editable installs of this checkout, so they test the code as it is now).
Every pipeline run gets its own system database (state), landing directory and target files
under pytest's tmp_path, and its settings through environment variables only, so nothing in
the work tree changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ordoro_sandbox import Sandbox, SandboxOptions
from tests.meltano.helpers import TEST_CEILING
from tests.meltano.pg_cluster import PostgresCluster, PostgresUnavailableError

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "meltano-test-user"
PASSWORD = "meltano-test-secret-7f3e"
#: Settings from the caller's environment that must not leak into the pipelines under test.
ISOLATED_PREFIXES = (
    "MELTANO_",
    "TAP_ORDORO_",  # also the per-account plugins' TAP_ORDORO__<ACCOUNT>_...
    "TARGET_ORDORO_",
    "TAP_CSV_FOLDER_",
    "TARGET_JSONL_",
    "TARGET_DUCKDB_",
    "TARGET_POSTGRES_",
    "ORDORO_BRAND_",  # the per-account credentials of meltano.yml's tap-ordoro--brand-a, ...
    "PG",  # libpq's PGHOST, PGPASSWORD, PGTZ, ...
)
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 300


def find_meltano() -> str | None:
    candidates = [os.environ.get("ORDORO_MELTANO"), str(ROOT / ".venv-meltano/bin/meltano")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("meltano")


def base_env(system_db: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(ISOLATED_PREFIXES)}
    env.update(
        MELTANO_ENVIRONMENT="sandbox",
        MELTANO_DATABASE_URI=f"sqlite:///{system_db}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        NO_COLOR="1",
    )
    return env


@dataclass
class MeltanoProject:
    """The repository's Meltano project, run with one test's isolated settings."""

    executable: str
    workdir: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = RUN_TIMEOUT, check: bool = True
    ) -> subprocess.CompletedProcess:
        """Run ``meltano ARGS``; the test fails on a non-zero exit unless ``check`` is False."""
        result = subprocess.run(
            [self.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"meltano {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-12000:]}"
            )
        return result

    def point_at(self, sandbox: Sandbox) -> None:
        """Both Ordoro plugins talk to ``sandbox`` with its credentials."""
        for plugin in ("TAP_ORDORO", "TARGET_ORDORO"):
            self.env[f"{plugin}_API_URL"] = sandbox.url
            self.env[f"{plugin}_USERNAME"] = sandbox.options.username
            self.env[f"{plugin}_PASSWORD"] = sandbox.options.password
            self.env[f"{plugin}_REQUESTS_PER_MINUTE"] = TEST_CEILING

    def state(self, state_id: str) -> dict[str, Any]:
        """The Singer state Meltano stored under ``state_id`` (empty when none)."""
        result = self("state", "get", state_id)
        text = result.stdout.strip()
        return json.loads(text) if text else {}


@pytest.fixture(scope="session")
def meltano_executable() -> str:
    executable = find_meltano()
    if executable is None:
        message = "meltano is not installed (bash scripts/test.sh installs it into .venv-meltano)"
        if os.environ.get("ORDORO_REQUIRE_MELTANO") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="session")
def meltano_installed(meltano_executable: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`meltano install` once per session; meltano.yml must come out of it unchanged."""
    before = (ROOT / "meltano.yml").read_bytes()
    env = base_env(tmp_path_factory.mktemp("meltano-install") / "meltano.db")
    result = subprocess.run(
        [meltano_executable, "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"meltano install failed:\n{result.stdout}\n{result.stderr}"
    assert (ROOT / "meltano.yml").read_bytes() == before, "meltano install rewrote meltano.yml"
    return meltano_executable


@pytest.fixture
def meltano(meltano_installed: str, tmp_path: Path) -> Iterator[MeltanoProject]:
    """The Meltano project with a system database, landing dir and target files of its own."""
    before = (ROOT / "meltano.yml").read_bytes()
    env = base_env(tmp_path / "meltano.db")
    env.update(
        TARGET_JSONL_DESTINATION_PATH=str(tmp_path / "landed"),
        TARGET_ORDORO_DEAD_LETTER_PATH=str(tmp_path / "dead-letter.jsonl"),
        TARGET_ORDORO_ORDER_MAP_PATH=str(tmp_path / "order-map"),
    )
    yield MeltanoProject(executable=meltano_installed, workdir=tmp_path, env=env)
    assert (ROOT / "meltano.yml").read_bytes() == before, "a meltano run rewrote meltano.yml"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A seeded sandbox of its own on a free loopback port (small, so pipelines run fast)."""
    options = SandboxOptions(
        seed=11, username=USERNAME, password=PASSWORD, products=120, orders=150
    )
    with Sandbox(options) as running:
        yield running


@pytest.fixture
def demo_sandbox() -> Iterator[Sandbox]:
    """The account scripts/quickstart.sh demonstrates on: seed 42, default sizes."""
    with Sandbox(SandboxOptions(seed=42, username=USERNAME, password=PASSWORD)) as running:
        yield running


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (see pg_cluster.py); fails, never skips,
    when no server is installed."""
    try:
        with PostgresCluster() as cluster:
            yield cluster
    except PostgresUnavailableError as error:
        pytest.fail(str(error))
