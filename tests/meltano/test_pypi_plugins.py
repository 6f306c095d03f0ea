"""meltano.yml's definitions of the PyPI plugins match what the installed plugins say.

tap-csv-folder and target-postgres are built on the Singer SDK, so their `--about` lists every
setting with its JSON type: meltano.yml must declare exactly those (a string may be declared
sensitive, kind `password`, where the plugin does not mark it secret). The two other loaders
(target-jsonl, target-duckdb) predate `--about`; their settings were read off their source,
and here we only check that `meltano install` built them and that their executables start.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.meltano

KINDS = {
    "string": {"string", "options", "file"},
    "integer": {"integer"},
    "number": {"decimal"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


def plugin_definition(plugin_type: str, name: str) -> dict[str, Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    (definition,) = [p for p in project["plugins"][plugin_type] if p["name"] == name]
    return definition


def venv_bin(plugin_type: str, name: str) -> Path:
    return ROOT / ".meltano" / plugin_type / name / "venv" / "bin"


def about(plugin_type: str, name: str) -> dict[str, Any]:
    executable = venv_bin(plugin_type, name) / name
    result = subprocess.run(
        [str(executable), "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def check_settings_match_about(plugin_type: str, name: str) -> dict[str, Any]:
    """meltano.yml declares exactly the plugin's settings, with fitting kinds; its --about."""
    described = about(plugin_type, name)
    properties = described["settings"]["properties"]
    definition = plugin_definition(plugin_type, name)
    declared = {setting["name"]: setting for setting in definition["settings"]}
    assert set(declared) == set(properties), (
        f"{name}: missing {sorted(set(properties) - set(declared))}, "
        f"extra {sorted(set(declared) - set(properties))}"
    )
    for setting_name, setting in declared.items():
        types = [kind for kind in properties[setting_name]["type"] if kind != "null"]
        kinds = KINDS[types[0]] | ({"password"} if types[0] in {"string", "object"} else set())
        assert setting["kind"] in kinds, f"{setting_name}: {setting['kind']} vs {types}"
        if setting["kind"] == "password":
            assert setting.get("sensitive"), f"{setting_name}: kind password is sensitive"
        if properties[setting_name].get("secret"):
            assert setting.get("sensitive"), f"{setting_name} is secret"
        if "enum" in properties[setting_name]:
            assert setting["kind"] == "options"
            assert {option["value"] for option in setting["options"]} == set(
                properties[setting_name]["enum"]
            )
    return described


def test_tap_csv_folder_settings_match_its_about(meltano_installed: str):
    described = check_settings_match_about("extractors", "tap-csv-folder")
    definition = plugin_definition("extractors", "tap-csv-folder")
    # `catalog` is left out on purpose (see meltano.yml); everything else it declares is true.
    assert set(definition["capabilities"]) <= set(described["capabilities"])
    assert "catalog" not in definition["capabilities"]


def test_target_postgres_settings_match_its_about(meltano_installed: str):
    described = check_settings_match_about("loaders", "target-postgres")
    definition = plugin_definition("loaders", "target-postgres")
    assert set(definition["capabilities"]) == set(described["capabilities"])
    pinned = definition["pip_url"].split("==")[1]
    assert described["version"] == pinned, f"installed {described['version']}, pinned {pinned}"
    # Timestamps land in UTC whatever the server's zone (tests/meltano/test_postgres.py).
    assert definition["env"]["PGTZ"] == "UTC"
    declared = {setting["name"]: setting for setting in definition["settings"]}
    for name in ("password", "sqlalchemy_url", "ssl_client_private_key", "ssh_tunnel"):
        assert declared[name].get("sensitive"), f"{name} should be sensitive"


@pytest.mark.parametrize("name", ["target-jsonl", "target-duckdb", "target-postgres"])
def test_loaders_are_installed_and_start(meltano_installed: str, name: str):
    executable = venv_bin("loaders", name) / name
    assert executable.exists(), f"meltano install did not build {name}"
    result = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
