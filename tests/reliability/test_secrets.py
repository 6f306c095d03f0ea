"""The secret stays secret: runs of both plugins that fail in each way, and ``--about``, never
show the password, in stdout, stderr, logs, dead-letter files or any other file they write.

The plugins run as console scripts in a fresh working directory (their files go there; the
config file lives elsewhere, since it holds the secret on purpose). Retries that must run out
run in-process with a fast retry policy, every log level captured.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ordoro_core.errors import OrdoroTransientError
from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import FaultRule, Sandbox
from tests.reliability.helpers import (
    SECRET,
    make_target_input,
    run_tap,
    run_target,
    tap_class,
    tap_config,
    target_class,
    target_config,
)

BIN = Path(sys.executable).parent
GIVE_UP_FAST = RetryPolicy(max_attempts=3, backoff_seconds=0.001, backoff_max_seconds=0.01)
#: A secret Ordoro could issue that YAML or JSON reads as a number.
NUMERIC_SECRET = 918273645501928374


def run_cli(
    plugin: str, config: dict[str, Any], tmp_path: Path, *args: str, stdin: str = ""
) -> tuple[int, str, str, dict[str, bytes]]:
    """Run a console script; its exit code, stdout, stderr and every file it wrote."""
    config_path = tmp_path / "config" / "config.json"
    config_path.parent.mkdir(exist_ok=True)
    config_path.write_text(json.dumps(config), encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    completed = subprocess.run(
        [str(BIN / plugin), "--config", str(config_path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=workdir,
        check=False,
    )
    files = {str(p): p.read_bytes() for p in workdir.rglob("*") if p.is_file()}
    return completed.returncode, completed.stdout, completed.stderr, files


def assert_secret_absent(secret: str, stdout: str, stderr: str, files: dict[str, bytes]) -> None:
    assert secret not in stdout
    assert secret not in stderr
    for name, data in files.items():
        assert secret.encode() not in data, name


def products_input(sandbox: Sandbox) -> str:
    return make_target_input(sandbox, products=2, orders=0, shipments=0).text()


def with_url(config: dict[str, Any], url: str) -> dict[str, Any]:
    return {**config, "api_url": url}


#: How a run is made to fail: (id, change to the config, sandbox faults).
FAILURES = [
    ("credentials-rejected", {}, [FaultRule(kind="status", status=401)]),
    ("setting-of-the-wrong-type", {"requests_per_minute": "fast"}, []),
    ("plain-http-to-a-remote-host", {"api_url": "http://203.0.113.7:8555"}, []),
    ("host-does-not-resolve", {"api_url": f"https://{SECRET}@api.ordoro.invalid"}, []),
    ("redirected", {}, [FaultRule(kind="status", status=301, location="/elsewhere/")]),
    ("endpoint-missing", {}, [FaultRule(kind="status", status=404)]),
]


@pytest.mark.parametrize(("name", "change", "faults"), FAILURES, ids=[f[0] for f in FAILURES])
def test_tap_failures_never_show_the_secret(tap_sandbox, tmp_path, name, change, faults):
    for rule in faults:
        tap_sandbox.add_fault(rule)
    config = {**tap_config(tap_sandbox), **change}
    code, stdout, stderr, files = run_cli("tap-ordoro", config, tmp_path)
    assert code != 0, stderr
    assert "Traceback" not in stderr
    assert_secret_absent(SECRET, stdout, stderr, files)


@pytest.mark.parametrize(("name", "change", "faults"), FAILURES, ids=[f[0] for f in FAILURES])
def test_target_failures_never_show_the_secret(target_sandbox, tmp_path, name, change, faults):
    for rule in faults:
        target_sandbox.add_fault(rule)
    config = {**target_config(target_sandbox, tmp_path), **change}
    config = {k: v for k, v in config.items() if not k.endswith("_path")}  # files in workdir
    text = products_input(target_sandbox)
    code, stdout, stderr, files = run_cli("target-ordoro", config, tmp_path, stdin=text)
    # A missing endpoint too: the target reads Ordoro's products before writing (what
    # differs), and a 404 on a list is no record's fault but a wrong api_url.
    assert code != 0, stderr
    assert "Traceback" not in stderr
    assert_secret_absent(SECRET, stdout, stderr, files)


def test_target_dead_letters_of_invalid_records_never_show_the_secret(target_sandbox, tmp_path):
    given = make_target_input(target_sandbox, products=2, orders=2, shipments=2)
    for record in (*given.orders, *given.inventory):
        record.pop("sku", None)
        record["lines"] = []
    config = target_config(target_sandbox, tmp_path)
    config = {k: v for k, v in config.items() if not k.endswith("_path")}
    code, stdout, stderr, files = run_cli("target-ordoro", config, tmp_path, stdin=given.text())
    assert code == 0, stderr
    dead = [p for p in files if p.endswith("dead-letter.jsonl")]
    assert dead
    assert files[dead[0]].count(b"\n") >= 4
    assert_secret_absent(SECRET, stdout, stderr, files)


@pytest.mark.parametrize("setting", ["password", "client_secret"])
@pytest.mark.parametrize("plugin", ["tap-ordoro", "target-ordoro"])
def test_a_secret_of_the_wrong_type_is_not_shown(tap_sandbox, tmp_path, plugin, setting):
    config = {k: v for k, v in tap_config(tap_sandbox).items() if k != "password"}
    config[setting] = NUMERIC_SECRET
    code, stdout, stderr, files = run_cli(plugin, config, tmp_path, stdin="")
    assert code != 0
    assert_secret_absent(str(NUMERIC_SECRET), stdout, stderr, files)
    # The error still says which setting is wrong, and how.
    assert f"is not of type 'string' or 'null' in config['{setting}']" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("plugin", ["tap-ordoro", "target-ordoro"])
def test_a_wrong_setting_beside_a_secret_shows_its_value_but_not_the_secret(
    tap_sandbox, tmp_path, plugin
):
    config = {**tap_config(tap_sandbox), "requests_per_minute": "fast"}
    config["password"] = [SECRET]  # a list: wrong too
    code, stdout, stderr, files = run_cli(plugin, config, tmp_path, stdin="")
    assert code != 0
    assert_secret_absent(SECRET, stdout, stderr, files)
    assert "'fast' is not of type 'integer'" in stderr  # not a secret: shown as the SDK does
    assert "a list (not shown: secret) is not of type 'string' or 'null'" in stderr


@pytest.mark.parametrize("plugin", ["tap-ordoro", "target-ordoro"])
@pytest.mark.parametrize("about_format", [None, "json", "markdown"])
def test_about_never_shows_the_secret(tap_sandbox, tmp_path, plugin, about_format):
    extra = [f"--format={about_format}"] if about_format else []
    code, stdout, stderr, files = run_cli(
        plugin, tap_config(tap_sandbox), tmp_path, "--about", *extra
    )
    assert code == 0, stderr
    assert "password" in stdout  # the setting is described...
    assert_secret_absent(SECRET, stdout, stderr, files)  # ...its value never


def test_tap_retries_running_out_never_show_the_secret(tap_sandbox, caplog, capfd):
    tap_sandbox.add_fault(FaultRule(kind="status", status=503))
    with caplog.at_level(logging.DEBUG):
        outcome = run_tap(tap_config(tap_sandbox), tap_type=tap_class(GIVE_UP_FAST))
    assert isinstance(outcome.error, OrdoroTransientError)
    captured = capfd.readouterr()
    texts = [str(outcome.error), repr(outcome.error), outcome.stderr, caplog.text]
    texts += [captured.out, captured.err, "\n".join(outcome.run.lines)]
    assert "still failing after retries" in str(outcome.error)
    for text in texts:
        assert SECRET not in text


def test_target_retries_running_out_never_show_the_secret(target_sandbox, tmp_path, caplog, capfd):
    target_sandbox.add_fault(FaultRule(kind="status", status=503))
    config = target_config(target_sandbox, tmp_path)
    with caplog.at_level(logging.DEBUG):
        outcome = run_target(
            config, products_input(target_sandbox), target_type=target_class(GIVE_UP_FAST)
        )
    assert isinstance(outcome.error, OrdoroTransientError)
    assert outcome.summary["status"] == "failed"
    captured = capfd.readouterr()
    texts = [str(outcome.error), repr(outcome.error), outcome.stdout, outcome.stderr]
    texts += [caplog.text, captured.out, captured.err, json.dumps(outcome.summary)]
    for text in texts:
        assert SECRET not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
