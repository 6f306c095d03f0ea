"""meltano.yml, the Hub definitions in plugins/ and README.md agree with the plugins themselves.

The source of truth is what the installed CLIs say about themselves (`--about --format=json`):
setting names, which are required, which are secret, and their JSON types. Both meltano.yml's
custom plugin definitions and the Meltano Hub files under plugins/ must declare exactly those
settings, with matching kinds, and must agree with each other.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HUB_FILES = {
    "tap-ordoro": ROOT / "plugins" / "extractors" / "tap-ordoro--ordoro.yml",
    "target-ordoro": ROOT / "plugins" / "loaders" / "target-ordoro--ordoro.yml",
}
PLUGIN_TYPE = {"tap-ordoro": "extractors", "target-ordoro": "loaders"}
NAMESPACE = {"tap-ordoro": "tap_ordoro", "target-ordoro": "target_ordoro"}
#: Setting kinds Meltano knows (meltano.schema.json; `password` is Hub style, with `sensitive`).
MELTANO_KINDS = {
    "string", "integer", "decimal", "boolean", "date_iso8601", "email", "password",
    "options", "file", "array", "object", "oauth",
}  # fmt: skip


def executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"{name} is not installed"
    return found


@cache
def about(name: str) -> dict[str, Any]:
    result = subprocess.run(
        [executable(name), "--about", "--format=json"], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


@cache
def meltano_project() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))


def meltano_definition(name: str) -> dict[str, Any]:
    plugins = meltano_project()["plugins"][PLUGIN_TYPE[name]]
    matches = [plugin for plugin in plugins if plugin["name"] == name]
    assert len(matches) == 1, f"meltano.yml defines {name} {len(matches)} times"
    return matches[0]


def hub_definition(name: str) -> dict[str, Any]:
    return yaml.safe_load(HUB_FILES[name].read_text(encoding="utf-8"))


def definitions(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [("meltano.yml", meltano_definition(name)), (HUB_FILES[name].name, hub_definition(name))]


def expected_kind(schema: dict[str, Any]) -> set[str]:
    """The Meltano kinds that fit a setting's JSON schema."""
    if schema.get("secret"):
        return {"password"}
    types = schema.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    types.discard("null")
    if "string" in types and schema.get("format") == "date-time":
        return {"date_iso8601"}
    if "enum" in schema:
        return {"options", "string"}
    kinds = {
        "string": {"string", "file", "email"},
        "integer": {"integer"},
        "number": {"decimal"},
        "boolean": {"boolean"},
        "object": {"object"},
        "array": {"array"},
    }
    assert len(types) == 1, f"cannot map {schema} to one Meltano kind"
    return kinds[types.pop()]


PLUGINS = pytest.mark.parametrize("name", ["tap-ordoro", "target-ordoro"])


@PLUGINS
def test_setting_names_match_about(name):
    properties = about(name)["settings"]["properties"]
    for source, definition in definitions(name):
        declared = [setting["name"] for setting in definition["settings"]]
        assert len(declared) == len(set(declared)), f"{source}: {name} repeats a setting"
        assert set(declared) == set(properties), (
            f"{source}: {name} settings differ from --about: "
            f"missing {sorted(set(properties) - set(declared))}, "
            f"extra {sorted(set(declared) - set(properties))}"
        )


@PLUGINS
def test_kinds_and_sensitivity_match_about(name):
    properties = about(name)["settings"]["properties"]
    for source, definition in definitions(name):
        for setting in definition["settings"]:
            schema = properties[setting["name"]]
            kind = setting.get("kind")
            assert kind in MELTANO_KINDS, f"{source}: {name}.{setting['name']} kind {kind!r}"
            assert kind in expected_kind(schema), (
                f"{source}: {name}.{setting['name']} is {kind!r}, --about says {schema}"
            )
            secret = bool(schema.get("secret"))
            assert bool(setting.get("sensitive")) == secret, (
                f"{source}: {name}.{setting['name']} sensitive should be {secret}"
            )
            if kind == "options":
                values = {option["value"] for option in setting["options"]}
                assert values == set(schema["enum"]), f"{source}: {name}.{setting['name']}"


@PLUGINS
def test_every_setting_has_label_and_description(name):
    for source, definition in definitions(name):
        for setting in definition["settings"]:
            assert setting.get("label"), f"{source}: {name}.{setting['name']} has no label"
            assert setting.get("description"), f"{source}: {name}.{setting['name']} undescribed"


#: One pair of credentials is required, under either pair of names (ordoro_core/settings.py).
CREDENTIAL_GROUPS = [["username", "password"], ["client_id", "client_secret"]]


@PLUGINS
def test_required_settings_match_about(name):
    """--about requires nothing beyond the credentials, which the plugins check as a pair."""
    required = set(about(name)["settings"].get("required", []))
    for source, definition in definitions(name):
        groups = definition.get("settings_group_validation")
        assert groups == CREDENTIAL_GROUPS, f"{source}: {name} settings groups {groups}"
        for group in groups:
            assert set(group) >= required, f"{source}: {name} group {group} lacks {required}"


@PLUGINS
def test_capabilities_match_about(name):
    capabilities = set(about(name)["capabilities"])
    for source, definition in definitions(name):
        assert set(definition["capabilities"]) == capabilities, f"{source}: {name} capabilities"


@PLUGINS
def test_identity(name):
    for source, definition in definitions(name):
        assert definition["name"] == name, source
        assert definition["namespace"] == NAMESPACE[name], source
        assert definition["executable"] == name, source
    assert meltano_definition(name)["pip_url"] == "-e ."
    hub = hub_definition(name)
    for field in ("variant", "label", "description", "pip_url", "repo", "domain_url", "keywords"):
        assert hub.get(field), f"{HUB_FILES[name].name} has no {field}"
    assert HUB_FILES[name].name == f"{name}--{hub['variant']}.yml"


@PLUGINS
def test_hub_and_meltano_yml_declare_the_same_settings(name):
    fields = ("name", "kind", "label", "description", "sensitive", "value", "options")

    def normalized(definition: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {field: setting.get(field) for field in fields} for setting in definition["settings"]
        ]

    assert normalized(meltano_definition(name)) == normalized(hub_definition(name))
    assert meltano_definition(name)["capabilities"] == hub_definition(name)["capabilities"]


def test_every_plugin_has_a_namespace_and_a_pinned_or_local_pip_url():
    """Without a namespace, `meltano install` asks Meltano Hub (unreachable offline)."""
    for plugin_type, plugins in meltano_project()["plugins"].items():
        names = {plugin["name"] for plugin in plugins}
        for plugin in plugins:
            where = f"{plugin_type}/{plugin['name']}"
            if "inherit_from" in plugin:  # a per-account copy: everything from its parent
                assert plugin["inherit_from"] in names, f"{where}: no parent of that type"
                for field in ("namespace", "pip_url", "executable", "settings"):
                    assert field not in plugin, f"{where} redefines its parent's {field}"
                continue
            assert plugin.get("namespace"), f"{where} has no namespace"
            assert plugin.get("executable"), f"{where} has no executable"
            pip_url = plugin.get("pip_url", "")
            assert pip_url == "-e ." or "==" in pip_url, f"{where}: pin {pip_url!r}"
            for setting in plugin.get("settings", []):
                assert setting.get("kind") in MELTANO_KINDS, f"{where}.{setting['name']}"
                assert setting.get("description"), f"{where}.{setting['name']}"


def test_jobs_and_schedules_name_real_plugins():
    project = meltano_project()
    plugin_names = {plugin["name"] for plugins in project["plugins"].values() for plugin in plugins}
    jobs = {job["name"]: job for job in project["jobs"]}
    for job in jobs.values():
        for task in job["tasks"]:
            for plugin in task.split():
                assert plugin in plugin_names, f"job {job['name']}: unknown plugin {plugin}"
    assert project["schedules"], "meltano.yml should show a schedule"
    for schedule in project["schedules"]:
        assert schedule["job"] in jobs, f"schedule {schedule['name']}: unknown job"


#: Settings that hold secrets: meltano.yml may only name an environment variable for them.
SECRET_KEYS = {"password", "client_secret", "sqlalchemy_url", "token"}
ENV_REFERENCE = re.compile(r"\$\{?[A-Z][A-Z0-9_]*\}?")


def test_no_credentials_in_meltano_yml():
    """Secrets come from the environment only: at most a `$VARIABLE` reference here."""

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_KEYS:
                    assert isinstance(value, str), f"meltano.yml sets {key} at {path}"
                    assert ENV_REFERENCE.fullmatch(value), (
                        f"meltano.yml sets {key} at {path} to a value, not an env variable"
                    )
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    project = meltano_project()
    walk({"environments": project.get("environments", [])}, "")
    for plugins in project["plugins"].values():
        for plugin in plugins:
            walk(plugin.get("config", {}), f"{plugin['name']}.config")


# Many accounts: per-account plugins, jobs and schedules


def accounts() -> dict[str, dict[str, dict[str, Any]]]:
    """account -> parent plugin -> the per-account plugin that inherits from it."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for plugins in meltano_project()["plugins"].values():
        for plugin in plugins:
            parent = plugin.get("inherit_from")
            if parent in ("tap-ordoro", "target-ordoro", "target-jsonl"):
                account = plugin["name"].removeprefix(f"{parent}--")
                assert account != plugin["name"], f"{plugin['name']}: name it {parent}--<account>"
                found.setdefault(account, {})[parent] = plugin
    return found


def test_every_account_has_its_own_credentials_from_the_environment():
    found = accounts()
    assert set(found) >= {"brand-a", "brand-b"}, "meltano.yml should show two accounts"
    for account, plugins in found.items():
        assert set(plugins) == {"tap-ordoro", "target-ordoro", "target-jsonl"}, account
        variable = "ORDORO_" + account.upper().replace("-", "_")
        for parent in ("tap-ordoro", "target-ordoro"):
            config = plugins[parent]["config"]
            # All four names set, so none is inherited from the parent's settings.
            assert config["username"] == config["client_id"] == f"${variable}_CLIENT_ID"
            assert config["password"] == config["client_secret"] == f"${variable}_CLIENT_SECRET"
        paths = [
            plugins["target-jsonl"]["config"]["destination_path"],
            *(plugins["target-ordoro"]["config"][f"{kind}_path"]
              for kind in ("dead_letter", "ledger", "order_map")),
        ]  # fmt: skip
        for path in paths:
            assert account in path, f"{account}: {path} is not the account's own"
    all_paths = [
        plugins["target-jsonl"]["config"]["destination_path"] for plugins in found.values()
    ]
    assert len(set(all_paths)) == len(all_paths), "two accounts land in the same place"


def test_every_account_has_its_own_job_and_schedule():
    project = meltano_project()
    jobs = {job["name"]: job["tasks"] for job in project["jobs"]}
    schedules = {schedule["job"]: schedule for schedule in project["schedules"]}
    for account in accounts():
        task = f"tap-ordoro--{account} target-jsonl--{account}"
        (job,) = [name for name, tasks in jobs.items() if tasks == [task]]
        assert job in schedules, f"{account}: job {job} has no schedule"
    intervals = [schedules[job]["interval"] for job in schedules if "brand" in job]
    assert len(set(intervals)) == len(intervals), "accounts' schedules should be staggered"


def test_readme_settings_tables_are_current():
    """README.md's generated sections equal what the CLIs say now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme_settings.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    """.ci/run runs literally the README's second quick-start command."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "bash scripts/test.sh"
    assert f"\n{command}\n" in readme
    assert f"\n{command}\n" in ci


# The Hub definitions' repository URL: one variable until publication


def test_hub_definitions_point_at_the_repository_through_one_variable():
    """docs, repo and pip_url use ${ORDORO_SINGER_REPO_URL}; no other URL names the project."""
    for name, path in HUB_FILES.items():
        hub = hub_definition(name)
        assert hub["repo"] == "${ORDORO_SINGER_REPO_URL}", f"{path.name}: repo {hub['repo']}"
        assert hub["docs"] == "${ORDORO_SINGER_REPO_URL}#readme", f"{path.name}: docs"
        assert hub["pip_url"] == "git+${ORDORO_SINGER_REPO_URL}.git", f"{path.name}: pip_url"
        text = path.read_text(encoding="utf-8")
        note, _, rest = text.partition("# </publication>")
        assert "ORDORO_SINGER_REPO_URL" in note, f"{path.name}: the variable is not explained"
        # Outside the note (whose example is OWNER/REPO), no URL may name a code host, a
        # package index or the project: those would read as the project's real home.
        urls = re.findall(r"https?://[^\s\"')]+", rest)
        suspicious = [
            url
            for url in urls
            if re.search(r"github|gitlab|bitbucket|pypi|ordoro-singer|ordoro_singer", url)
        ]
        assert not suspicious, f"{path.name}: URLs that read as real: {suspicious}"


def render_hub(tmp_path: Path, repo_url: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "ORDORO_SINGER_REPO_URL"}
    if repo_url is not None:
        env["ORDORO_SINGER_REPO_URL"] = repo_url
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_hub_definitions.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_rendering_fills_in_the_repository_url(tmp_path):
    url = "https://github.com/some-owner/ordoro-singer"
    result = render_hub(tmp_path, url)
    assert result.returncode == 0, result.stderr
    for name, path in HUB_FILES.items():
        rendered_text = (tmp_path / path.parent.name / path.name).read_text(encoding="utf-8")
        assert "${" not in rendered_text
        assert "<publication>" not in rendered_text
        rendered = yaml.safe_load(rendered_text)
        assert rendered["repo"] == url
        assert rendered["docs"] == f"{url}#readme"
        assert rendered["pip_url"] == f"git+{url}.git"
        # Everything else is exactly the definition the other tests check.
        original = hub_definition(name)
        for field in ("repo", "docs", "pip_url"):
            original.pop(field)
            rendered.pop(field)
        assert rendered == original


@pytest.mark.parametrize("repo_url", [None, "", "http://github.com/x/y", "github.com/x/y"])
def test_rendering_refuses_a_missing_or_wrong_url(tmp_path, repo_url):
    result = render_hub(tmp_path, repo_url)
    assert result.returncode != 0
    assert "ORDORO_SINGER_REPO_URL" in result.stderr
    assert not list(tmp_path.rglob("*.yml")), "nothing is written"
