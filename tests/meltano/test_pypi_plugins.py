"""meltano.yml's definitions of the PyPI plugins match what the installed plugins say.

tap-csv-folder is built on the Singer SDK, so its `--about` lists every setting with its JSON
type: meltano.yml must declare exactly those. The two loaders (target-jsonl, target-duckdb)
predate `--about`; their settings were read off their source, and here we only check that
`meltano install` built them and that their executables start.
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


def test_tap_csv_folder_settings_match_its_about(meltano_installed: str):
    executable = venv_bin("extractors", "tap-csv-folder") / "tap-csv-folder"
    result = subprocess.run(
        [str(executable), "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    about = json.loads(result.stdout)
    properties = about["settings"]["properties"]
    definition = plugin_definition("extractors", "tap-csv-folder")
    declared = {setting["name"]: setting for setting in definition["settings"]}
    assert set(declared) == set(properties)
    for name, setting in declared.items():
        types = [kind for kind in properties[name]["type"] if kind != "null"]
        assert setting["kind"] in KINDS[types[0]], f"{name}: {setting['kind']} vs {types}"
        if "enum" in properties[name]:
            assert setting["kind"] == "options"
            assert {option["value"] for option in setting["options"]} == set(
                properties[name]["enum"]
            )
    # `catalog` is left out on purpose (see meltano.yml); everything else it declares is true.
    assert set(definition["capabilities"]) <= set(about["capabilities"])
    assert "catalog" not in definition["capabilities"]


@pytest.mark.parametrize("name", ["target-jsonl", "target-duckdb"])
def test_loaders_are_installed_and_start(meltano_installed: str, name: str):
    executable = venv_bin("loaders", name) / name
    assert executable.exists(), f"meltano install did not build {name}"
    result = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
