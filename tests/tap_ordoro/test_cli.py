"""tap-ordoro's command line: --about, --discover, --test, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ordoro_core.catalog import STREAM_NAMES, STREAMS
from tests.tap_ordoro.helpers import TAP_SECRET, tap_config


def tap_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from tap_ordoro.tap import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_about_lists_every_setting_with_a_description_and_marks_the_secret():
    about = json.loads(tap_cli("--about", "--format=json").stdout)
    settings = about["settings"]["properties"]
    expected = {
        "username",
        "password",
        "api_url",
        "requests_per_minute",
        "start_date",
        "warehouse_id",
    }
    assert expected <= set(settings)
    for name in expected:
        assert settings[name].get("description"), name
    assert settings["password"].get("secret") is True
    # username/password or client_id/client_secret: the tap checks the pair itself
    # (tests/test_credential_settings.py), so neither name is JSON-schema required.
    assert settings["client_secret"].get("secret") is True


def test_about_as_markdown_names_every_setting():
    markdown = tap_cli("--about", "--format=markdown").stdout
    for name in (
        "username",
        "password",
        "api_url",
        "requests_per_minute",
        "start_date",
        "warehouse_id",
    ):
        assert f"| {name}" in markdown


def test_discover_gives_keys_and_replication_metadata(tmp_path, seeded_sandbox):
    out = tap_cli("--config", write_config(tmp_path, tap_config(seeded_sandbox)), "--discover")
    assert out.returncode == 0, out.stderr
    catalog = {entry["tap_stream_id"]: entry for entry in json.loads(out.stdout)["streams"]}
    assert set(catalog) == set(STREAM_NAMES)
    for name, entry in catalog.items():
        root = next(m["metadata"] for m in entry["metadata"] if not m["breadcrumb"])
        assert root["table-key-properties"] == list(STREAMS[name].key_properties)
        rk = STREAMS[name].replication_key
        if rk:
            assert root["valid-replication-keys"] == [rk]
            assert root["replication-key"] == rk
            assert entry["replication_method"] == "INCREMENTAL"
        else:
            assert "replication-key" not in root
            assert entry["replication_method"] == "FULL_TABLE"


def test_connection_test_passes_against_the_sandbox(tmp_path, seeded_sandbox):
    out = tap_cli("--config", write_config(tmp_path, tap_config(seeded_sandbox)), "--test")
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("mode", [["--test"], []], ids=["test", "sync"])
def test_a_401_is_one_line_without_the_secret(tmp_path, seeded_sandbox, mode):
    wrong = "not-the-secret-5e1b"
    config = tap_config(seeded_sandbox, password=wrong)
    out = tap_cli("--config", write_config(tmp_path, config), *mode)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-ordoro: Ordoro rejected the credentials (HTTP 401)")
    assert "Traceback" not in out.stderr
    for text in (out.stdout, out.stderr):
        assert wrong not in text
        assert TAP_SECRET not in text
