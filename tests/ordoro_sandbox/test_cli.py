"""The ordoro-sandbox command: help, serving on a free port, clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-secret-5b7e"


def sandbox_command() -> list[str]:
    script = Path(sys.executable).with_name("ordoro-sandbox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ordoro_sandbox"]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_help() -> str:
    result = subprocess.run(
        [*sandbox_command(), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env=environment(),
        check=True,
    )
    return result.stdout


def test_help_documents_every_option():
    text = run_help()
    for option in (
        "--host",
        "--port",
        "--username",
        "--password",
        "--seed",
        "--products",
        "--orders",
        "--purchase-orders",
        "--return-orders",
        "--suppliers",
        "--empty",
        "--latency-ms",
        "--rate-limit",
        "--rate-window",
        "--fault",
        "--mutate-per-page",
        "--shared-order-ids",
        "--decoy-orders",
        "--page-size-cap",
        "--filter-offsets-ignored",
        "--result-window",
    ):
        assert option in text, option
    for grammar in ("nth=", "p=", "drop", "malformed", "delay=", "after", "Retry-After"):
        assert grammar in text, grammar


def test_a_bad_fault_spec_is_a_usage_error():
    result = subprocess.run(
        [*sandbox_command(), "--fault", "boom"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env=environment(),
    )
    assert result.returncode == 2
    assert "--fault" in result.stderr


@pytest.mark.parametrize(
    ("command", "stop_signal"),
    [
        (sandbox_command(), signal.SIGTERM),
        ([sys.executable, "-m", "ordoro_sandbox"], signal.SIGINT),
    ],
    ids=["script-sigterm", "module-sigint"],
)
def test_serves_until_a_signal_and_exits_cleanly(command, stop_signal):
    arguments = [
        *command,
        *("--port", "0", "--username", "cli-user", "--password", SECRET),
        *("--seed", "3", "--products", "12", "--orders", "10"),
    ]
    with subprocess.Popen(
        arguments,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=environment(),
    ) as process:
        try:
            banner = process.stderr.readline()
            assert banner.startswith("ordoro-sandbox serving http://127.0.0.1:"), banner
            assert "(user cli-user, seed 3)" in banner
            url = banner.split()[2]
            with requests.Session() as session:
                session.auth = ("cli-user", SECRET)
                assert session.get(url + "/authenticated/", timeout=10).json() == {"success": True}
                assert session.get(url + "/product/", timeout=10).json()["count"] == 12
                with session.get(url + "/warehouse/", auth=("cli-user", "nope"), timeout=10) as r:
                    assert r.status_code == 401
            process.send_signal(stop_signal)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, stderr
    assert SECRET not in banner + stdout + stderr
    assert "Traceback" not in stderr


def test_identity_scenario_options_reach_the_sandbox_options():
    from ordoro_sandbox.cli import build_parser

    args = build_parser().parse_args(["--shared-order-ids", "2", "--decoy-orders", "1-8001,M-9"])
    assert (args.shared_order_ids, args.decoy_orders) == (2, ("1-8001", "M-9"))
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--decoy-orders", "8001"])


def test_help_documents_the_network_fault_kinds():
    text = run_help()
    for grammar in ("cut", "short", "empty", "retry_after=", "date+SECS", "524", "location="):
        assert grammar in text, grammar


def test_new_fault_kinds_from_the_command_line():
    arguments = [
        *sandbox_command(),
        *("--port", "0", "--username", "cli-user", "--password", SECRET),
        *("--products", "12", "--orders", "10"),
        *("--fault", "short:nth=1,path=/product/"),
        *("--fault", "429:nth=1,retry_after=none,path=/cart/"),
        *("--fault", "429:nth=2,retry_after=date+2,path=/cart/"),
        *("--fault", "cut:nth=1,path=/warehouse/"),
    ]
    with subprocess.Popen(
        arguments,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=environment(),
    ) as process:
        try:
            url = process.stderr.readline().split()[2]
            with requests.Session() as session:
                session.auth = ("cli-user", SECRET)
                short = session.get(url + "/product/", params={"limit": 10}, timeout=10).json()
                assert (short["count"], len(short["product"])) == (12, 5)
                first, second = (session.get(url + "/cart/", timeout=10) for _ in range(2))
                assert (first.status_code, second.status_code) == (429, 429)
                assert "Retry-After" not in first.headers
                assert second.headers["Retry-After"].endswith(" GMT")
                with pytest.raises(requests.exceptions.ChunkedEncodingError):
                    session.get(url + "/warehouse/", timeout=10)
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0
