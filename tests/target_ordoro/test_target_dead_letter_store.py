"""Dead letters a container does not lose (issue 21, part 5): one structured log line each, and
``dead_letter_path`` (and the other report files) in an object store.

The object store is moto's standalone S3 server on 127.0.0.1 (a real HTTP endpoint; the target
reaches it through smart-open and boto3 as it would reach S3, with ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from target_ordoro.errors import SettingsError
from target_ordoro.target import TargetOrdoro

BAD_RECORDS = [
    {"sku": "{P}-NEG", "on_hand": -3, "warehouse_id": "{WH}"},
    {"sku": "{P}-NOWH", "on_hand": 4},
    {"on_hand": 1, "warehouse_id": "{WH}"},
]


def inventory_text(prefix: str, warehouse: int, records: list[dict]) -> str:
    messages = [{"type": "SCHEMA", "stream": "inventory", "schema": {"properties": {}}}]
    for record in records:
        filled = {
            key: value.replace("{P}", prefix) if isinstance(value, str) else value
            for key, value in record.items()
        }
        if filled.get("warehouse_id") == "{WH}":
            filled["warehouse_id"] = warehouse
        messages.append({"type": "RECORD", "stream": "inventory", "record": filled})
    messages.append({"type": "STATE", "value": {"bookmarks": {"inventory": 1}}})
    return "".join(json.dumps(message) + "\n" for message in messages)


STRUCTURED_LOG_CONFIG = """\
version: 1
disable_existing_loggers: false
formatters:
  structured:
    (): singer_sdk.logging.StructuredFormatter
handlers:
  default:
    class: logging.StreamHandler
    formatter: structured
    stream: ext://sys.stderr
root:
  level: INFO
  handlers: [default]
"""


def test_each_dead_letter_is_one_structured_log_line_that_outlives_the_container(
    make_config, run_target_cli, placeholders, prefix, password, tmp_path, monkeypatch
):
    log_config = tmp_path / "logging.yml"
    log_config.write_text(STRUCTURED_LOG_CONFIG)
    monkeypatch.setenv("SINGER_SDK_LOG_CONFIG", str(log_config))
    container = tmp_path / "container"
    config = make_config(dead_letter_path=str(container / "dead-letter.jsonl"))
    result = run_target_cli(config, inventory_text(prefix, placeholders["WH1"], BAD_RECORDS))
    assert result.returncode == 0, result.stderr
    in_file = [(line["stream"], line["reason"]) for line in result.dead_letters]
    assert len(in_file) == 3

    logged = []
    for line in result.stderr.splitlines():
        if line.startswith("{") and '"dead_letter"' in line:
            logged.append(json.loads(line)["extra"]["dead_letter"])
    assert [(entry["stream"], entry["reason"]) for entry in logged] == in_file
    wh = placeholders["WH1"]
    assert [entry["key"] for entry in logged] == [
        json.dumps([f"{prefix}-NEG", wh]),
        json.dumps([f"{prefix}-NOWH", None]),
        json.dumps([None, wh]),
    ]
    assert password not in result.stderr

    # The container goes, and its file with it; the log lines (kept by Meltano) tell the same.
    shutil.rmtree(container)
    assert not (container / "dead-letter.jsonl").exists()
    assert {entry["reason"] for entry in logged} == {reason for _, reason in in_file}


def test_the_console_log_line_carries_the_same_json(
    make_config, run_target, placeholders, prefix, caplog
):
    result = run_target(make_config(), inventory_text(prefix, placeholders["WH1"], BAD_RECORDS))
    assert result.error is None
    lines = [r for r in caplog.records if hasattr(r, "dead_letter")]
    assert len(lines) == 3
    for record in lines:
        text = record.getMessage()
        assert text.startswith("Dead letter: {")
        assert json.loads(text.removeprefix("Dead letter: ")) == record.dead_letter


# Object store


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's standalone S3 server on a free loopback port; its endpoint URL."""
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch) -> Iterator[object]:
    """A bucket of the test's own; the AWS SDK pointed at the loopback server."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-never-logged")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    client = boto3.client("s3")
    client.create_bucket(Bucket="pipeline-reports")
    yield client
    listed = client.list_objects_v2(Bucket="pipeline-reports").get("Contents", [])
    for item in listed:
        client.delete_object(Bucket="pipeline-reports", Key=item["Key"])
    client.delete_bucket(Bucket="pipeline-reports")


def object_lines(client, key: str) -> list[dict]:
    body = client.get_object(Bucket="pipeline-reports", Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_dead_letters_land_in_s3_and_survive_the_container(
    s3, make_config, run_target_cli, placeholders, prefix, tmp_path
):
    url = f"s3://pipeline-reports/{prefix}/dead-letter.jsonl"
    config = make_config(dead_letter_path=url, order_map_path=f"s3://pipeline-reports/{prefix}/map")
    text = inventory_text(prefix, placeholders["WH1"], BAD_RECORDS)
    first = run_target_cli(config, text)
    assert first.returncode == 0, first.stderr
    assert first.summary["dead_letter_path"] == url
    lines = object_lines(s3, f"{prefix}/dead-letter.jsonl")
    assert [line["record"].get("sku") for line in lines] == [
        f"{prefix}-NEG",
        f"{prefix}-NOWH",
        None,
    ]
    assert all(line["stream"] == "inventory" and line["reason"] for line in lines)
    # Nothing local: the container may go.
    assert not list(tmp_path.rglob("dead-letter.jsonl"))
    # A second run appends to the object, as to a local file.
    second = run_target_cli(config, text)
    assert second.returncode == 0, second.stderr
    assert len(object_lines(s3, f"{prefix}/dead-letter.jsonl")) == 6
    assert "testing-secret-never-logged" not in first.stderr + second.stderr
    # No order was written: no order map object.
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="pipeline-reports")["Contents"]}
    assert keys == {f"{prefix}/dead-letter.jsonl"}


def test_control_a_local_dead_letter_file_goes_with_its_container(
    make_config, run_target_cli, placeholders, prefix, tmp_path
):
    container = tmp_path / "container"
    config = make_config(dead_letter_path=str(container / "dead-letter.jsonl"))
    result = run_target_cli(config, inventory_text(prefix, placeholders["WH1"], BAD_RECORDS))
    assert result.returncode == 0, result.stderr
    assert len(result.dead_letters) == 3
    shutil.rmtree(container)
    assert result.dead_letters == []


def test_an_unwritable_object_fails_the_run_and_says_where(
    s3, make_config, run_target_cli, placeholders, prefix
):
    url = "s3://no-such-bucket-here/dead-letter.jsonl"
    result = run_target_cli(
        make_config(dead_letter_path=url), inventory_text(prefix, placeholders["WH1"], BAD_RECORDS)
    )
    assert result.returncode == 1
    assert f"could not write {url}" in result.stderr
    assert result.summary["status"] == "failed"


@pytest.mark.parametrize(
    ("setting", "url", "extra"),
    [
        ("dead_letter_path", "s3://bucket/dead-letter.jsonl", "s3"),
        ("plan_path", "gs://bucket/plan.jsonl", "gcs"),
        ("order_map_path", "az://container/map.jsonl", "azure"),
    ],
)
def test_a_url_without_smart_open_names_the_extra(make_config, monkeypatch, setting, url, extra):
    monkeypatch.setitem(sys.modules, "smart_open", None)  # as if the extra were not installed
    with pytest.raises(SettingsError) as raised:
        TargetOrdoro(config=make_config(**{setting: url}))
    message = str(raised.value)
    assert setting in message
    assert f"ordoro-singer[{extra}]" in message


def test_a_local_path_needs_no_extra(make_config, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "smart_open", None)
    target = TargetOrdoro(config=make_config(dead_letter_path=str(Path(tmp_path) / "dl.jsonl")))
    target.close()


def test_a_dry_run_plan_lands_in_s3(s3, make_config, run_target_cli, placeholders, prefix):
    good = [{"sku": f"{prefix}-NEW", "name": "New"}]
    text = "".join(
        json.dumps(m) + "\n"
        for m in (
            {"type": "SCHEMA", "stream": "products", "schema": {"properties": {}}},
            *({"type": "RECORD", "stream": "products", "record": r} for r in good),
        )
    )
    url = f"s3://pipeline-reports/{prefix}/plan.jsonl"
    result = run_target_cli(make_config(dry_run=True, plan_path=url), text)
    assert result.returncode == 0, result.stderr
    assert result.summary["plan_path"] == url
    # One row is written blind: the PUT Ordoro refuses (a new SKU), then the POST; a real run
    # sends both.
    lines = object_lines(s3, f"{prefix}/plan.jsonl")
    assert [(line["key"], line["action"], line.get("refused")) for line in lines] == [
        (f"{prefix}-NEW", "update", 404),
        (f"{prefix}-NEW", "create", None),
    ]
