"""The two names of each credential: username/client_id (Client ID), password/client_secret.

Both plugins accept either pair (or a mix), through their real command lines against a
sandbox over HTTP. Missing credentials, or a Client ID / Client Secret given under both names
with different values, are config errors that name the settings, never show a value, and come
before any request: in a sync, in ``--test``, in ``--discover`` and in the target.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ordoro_core.client import OrdoroClient
from ordoro_core.settings import (
    CredentialsError,
    check_credentials,
    config_errors,
    resolve_credentials,
)
from ordoro_sandbox import Sandbox, SandboxOptions

USER = "credentials-test-user"
SECRET = "cred-secret-3b9f-NEVER-PRINT"
OTHER_SECRET = "cred-other-secret-77aa-NEVER-PRINT"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    options = SandboxOptions(
        seed=21, username=USER, password=SECRET, products=12, orders=15, purchase_orders=3
    )
    with Sandbox(options) as running:
        yield running


def run(
    tmp_path: Path, command: str, config: dict[str, Any], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    path = tmp_path / f"{command}-config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run(
        [str(BIN / command), "--config", str(path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def records(stdout: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            found.setdefault(message["stream"], []).append(message["record"])
    return found


def target_config(sandbox: Sandbox, tmp_path: Path, **credentials: str) -> dict[str, Any]:
    return {
        **credentials,
        "api_url": sandbox.url,
        "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
        "ledger_path": str(tmp_path / "ledger.sqlite3"),
        "order_map_path": str(tmp_path / "order-map.jsonl"),
    }


def inventory_input(sku: str, warehouse_id: int, on_hand: int) -> str:
    schema = {
        "type": "object",
        "properties": {
            "sku": {"type": "string"},
            "warehouse_id": {"type": "integer"},
            "on_hand": {"type": "integer"},
        },
    }
    messages = [
        {"type": "SCHEMA", "stream": "inventory", "schema": schema,
         "key_properties": ["sku", "warehouse_id"]},
        {"type": "RECORD", "stream": "inventory",
         "record": {"sku": sku, "warehouse_id": warehouse_id, "on_hand": on_hand}},
    ]  # fmt: skip
    return "".join(json.dumps(message) + "\n" for message in messages)


# The resolution rules, directly


@pytest.mark.parametrize(
    "config",
    [
        {"username": USER, "password": SECRET},
        {"client_id": USER, "client_secret": SECRET},
        {"username": USER, "client_secret": SECRET},
        {"client_id": USER, "password": SECRET},
        {"username": USER, "client_id": USER, "password": SECRET, "client_secret": SECRET},
        {"username": "", "client_id": USER, "password": None, "client_secret": SECRET},
    ],
    ids=["username-pair", "client-pair", "mix-1", "mix-2", "both-equal", "empty-is-unset"],
)
def test_either_name_gives_the_same_credentials(config):
    credentials = resolve_credentials(config)
    assert (credentials.username, credentials.password) == (USER, SECRET)
    assert SECRET not in repr(credentials)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({}, ["no Client ID", "`username`", "`client_id`", "no Client Secret", "`password`",
              "`client_secret`"]),
        ({"username": USER}, ["no Client Secret", "`password` or `client_secret`"]),
        ({"username": USER, "client_id": "someone-else", "password": SECRET},
         ["`username` and `client_id` are both set and differ"]),
        ({"username": USER, "password": SECRET, "client_secret": OTHER_SECRET},
         ["`password` and `client_secret` are both set and differ"]),
    ],
    ids=["nothing", "no-secret", "two-client-ids", "two-secrets"],
)  # fmt: skip
def test_wrong_credentials_are_a_config_error_naming_the_settings(config, named):
    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(config)
    message = str(raised.value)
    for text in named:
        assert text in message
    assert raised.value.errors, "the SDK's CLI reports one line per error"
    for value in (SECRET, OTHER_SECRET, "someone-else"):
        assert value not in message


def test_only_conflicts_count_where_credentials_are_not_required():
    check_credentials({}, required=False)  # --discover of a static catalog needs none
    with pytest.raises(CredentialsError, match="`password` and `client_secret`"):
        check_credentials({"password": SECRET, "client_secret": OTHER_SECRET}, required=False)


def test_client_from_config_takes_either_pair(sandbox):
    for config in ({"client_id": USER, "client_secret": SECRET}, {"username": USER,
                   "password": SECRET}):  # fmt: skip
        client = OrdoroClient.from_config({**config, "api_url": sandbox.url})
        try:
            client.check_credentials()  # a real request, accepted by the sandbox
            assert client.username == USER
        finally:
            client.close()


# The command lines


def test_about_lists_both_pairs_with_the_secrets_marked():
    for command in ("tap-ordoro", "target-ordoro"):
        about = json.loads(
            subprocess.run(
                [str(BIN / command), "--about", "--format=json"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
        )
        settings = about["settings"]["properties"]
        for name in ("username", "password", "client_id", "client_secret"):
            assert settings[name].get("description"), f"{command}: {name}"
            assert "default" not in settings[name], f"{command}: {name} has a default"
        assert settings["password"].get("secret") is True
        assert settings["client_secret"].get("secret") is True
        assert not settings["username"].get("secret")
        assert not settings["client_id"].get("secret")
        # Neither name of a pair can be JSON-schema required; the plugins check the pair.
        assert not {"username", "password", "client_id", "client_secret"} & set(
            about["settings"].get("required", [])
        )


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": USER, "client_secret": SECRET},
        {"username": USER, "client_secret": SECRET},
    ],
    ids=["client-pair", "mix"],
)
def test_tap_syncs_and_tests_with_client_id_and_secret(sandbox, tmp_path, credentials):
    config = {**credentials, "api_url": sandbox.url}
    synced = run(tmp_path, "tap-ordoro", config)
    assert synced.returncode == 0, synced.stderr
    landed = records(synced.stdout)
    assert len(landed["orders"]) == len(sandbox.store.orders)
    assert len(landed["products"]) == len(sandbox.store.products)

    tested = run(tmp_path, "tap-ordoro", config, "--test")
    assert tested.returncode == 0, tested.stderr
    for output in (synced, tested):
        assert SECRET not in output.stdout + output.stderr


def test_target_writes_with_client_id_and_secret(sandbox, tmp_path):
    sku = sorted(sandbox.store.products)[0]
    warehouse_id = sandbox.store.products[sku]["warehouses"][0]["id"]
    config = target_config(sandbox, tmp_path, client_id=USER, client_secret=SECRET)
    result = run(tmp_path, "target-ordoro", config, stdin=inventory_input(sku, warehouse_id, 4321))
    assert result.returncode == 0, result.stderr
    entry = next(e for e in sandbox.store.products[sku]["warehouses"] if e["id"] == warehouse_id)
    assert entry["on_hand"] == 4321
    assert SECRET not in result.stdout + result.stderr


CONFLICTS = {
    "two-client-ids": (
        {"username": USER, "client_id": "another-client-id", "password": SECRET},
        "`username` and `client_id` are both set and differ",
    ),
    "two-secrets": (
        {"client_id": USER, "password": SECRET, "client_secret": OTHER_SECRET},
        "`password` and `client_secret` are both set and differ",
    ),
    "missing": ({"client_id": USER}, "no Client Secret: set `password` or `client_secret`"),
}
MODES = {
    "tap-sync": ("tap-ordoro", ()),
    "tap-test": ("tap-ordoro", ("--test",)),
    "tap-discover": ("tap-ordoro", ("--discover",)),
    "target": ("target-ordoro", ()),
}


WRONG_RUNS = [
    pytest.param(case, mode, id=f"{case}-{mode}")
    for case in sorted(CONFLICTS)
    for mode in sorted(MODES)
    # --discover sends no request, so it needs no credentials (two that differ still fail)
    if (case, mode) != ("missing", "tap-discover")
]


def test_discover_needs_no_credentials_and_sends_no_request(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path)
    for name in ("username", "password", "client_id", "client_secret"):
        config.pop(name, None)
    sandbox.reset_request_log()
    result = run(tmp_path, "tap-ordoro", config, "--discover", stdin="")
    assert result.returncode == 0, result.stderr
    assert {entry["tap_stream_id"] for entry in json.loads(result.stdout)["streams"]} >= {
        "orders",
        "inventory",
    }
    assert sandbox.requests == []


@pytest.mark.parametrize(("case", "mode"), WRONG_RUNS)
def test_wrong_credentials_fail_before_any_request(sandbox, tmp_path, case, mode):
    credentials, expected = CONFLICTS[case]
    command, args = MODES[mode]
    config = target_config(sandbox, tmp_path, **credentials)
    stdin = inventory_input("ANY-SKU", 1, 1) if command == "target-ordoro" else ""
    sandbox.reset_request_log()

    result = run(tmp_path, command, config, *args, stdin=stdin)

    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.requests == [], "a request went out before the config was checked"
    assert result.stdout.strip() == "", "output was written before the config was checked"
    for value in (SECRET, OTHER_SECRET, "another-client-id"):
        assert value not in result.stdout + result.stderr


def test_the_sdk_still_validates_the_config_through_the_overridden_method():
    """``ChecksCredentials`` overrides singer-sdk's private ``_validate_config``."""
    from singer_sdk.plugin_base import PluginBase

    from ordoro_core.settings import ChecksCredentials

    parameters = inspect.signature(PluginBase._validate_config).parameters
    assert list(parameters) == ["self", "raise_errors"]
    assert parameters["raise_errors"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "self._validate_config(raise_errors=validate_config)" in inspect.getsource(
        PluginBase.__init__
    )
    assert list(inspect.signature(ChecksCredentials._validate_config).parameters) == list(
        parameters
    )


def test_the_sdk_config_errors_still_quote_values_and_reach_the_cli_through_errors():
    """What the override of ``_validate_config`` re-words: the SDK raises a
    ``ConfigValidationError`` whose ``errors`` quote the offending value (a secret's too), and
    its command line prints exactly those ``errors``. Fails when an upgrade changes either."""
    from singer_sdk.exceptions import ConfigValidationError
    from singer_sdk.plugin_base import PluginBase, SingerCommand

    from target_ordoro.target import TargetOrdoro

    assert "for error in exc.errors" in inspect.getsource(SingerCommand.invoke)
    config = {"username": USER, "password": 918273645501928374}
    target = TargetOrdoro(config=config, validate_config=False)
    try:
        with pytest.raises(ConfigValidationError) as sdk:
            PluginBase._validate_config(target)
        assert any("918273645501928374" in error for error in sdk.value.errors)
        assert sdk.value.schema is not None
        with pytest.raises(ConfigValidationError) as ours:
            target._validate_config()
    finally:
        target.close()
    assert ours.value.errors == [
        "a number (not shown: secret) is not of type 'string' or 'null' in config['password']"
    ]
    assert ours.value.__cause__ is None
    assert ours.value.__suppress_context__


SECRET_SCHEMA = {
    "type": "object",
    "properties": {
        "password": {"type": ["string", "null"], "secret": True, "writeOnly": True},
        "token": {"type": "string", "writeOnly": True, "minLength": 8},
        "rate": {"type": "integer"},
    },
}


@pytest.mark.parametrize(
    ("schema", "config", "expected"),
    [
        (SECRET_SCHEMA, {"password": 12345}, [
            "a number (not shown: secret) is not of type 'string' or 'null' in "
            "config['password']"]),
        (SECRET_SCHEMA, {"token": "short"}, [
            "a string (not shown: secret) fails the 'minLength' rule of config['token']"]),
        (SECRET_SCHEMA, {"rate": "fast", "password": SECRET}, [
            "'fast' is not of type 'integer' in config['rate']"]),
        # An error about the whole config would quote it, the secret with it.
        ({**SECRET_SCHEMA, "not": {"required": ["password"]}}, {"password": SECRET}, [
            "the config (not shown: it holds a secret) fails the 'not' rule"]),
    ],
    ids=["secret-type", "secret-rule", "other-setting", "whole-config"],
)  # fmt: skip
def test_config_errors_name_the_setting_and_the_problem_never_a_secret(schema, config, expected):
    assert config_errors(schema, config) == expected


def test_config_errors_mask_secrets_in_the_sdk_messages_when_they_find_nothing_themselves():
    fallback = [f"{SECRET!r} is odd in config['password']", "something else"]
    masked = config_errors(SECRET_SCHEMA, {"password": SECRET}, fallback)
    assert masked == ["(secret, not shown) is odd in config['password']", "something else"]
