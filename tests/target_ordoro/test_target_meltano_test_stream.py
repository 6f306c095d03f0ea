"""Meltano's loader test stream (issue 21, part 4), in-process: exactly the messages Meltano 4
pipes into a loader, answered with a credentials check and no write. (The same with real
Meltano: tests/meltano/test_config_test.py.)"""

from __future__ import annotations

import json

from target_ordoro.errors import UnknownStreamError

#: What Meltano 4.4.1's LoaderTestService sends (meltano/core/plugin_test_service.py).
MELTANO_TEST_MESSAGES = [
    {
        "type": "SCHEMA",
        "stream": "meltano_test_stream",
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "key_properties": ["id"],
    },
    {
        "type": "RECORD",
        "stream": "meltano_test_stream",
        "record": {"id": 1, "name": "Meltano Test Record", "created_at": "2025-09-29T00:00:00Z"},
    },
    {"type": "STATE", "value": {"bookmarks": {"meltano_test_stream": {"last_record": 1}}}},
]


def text_of(messages: list[dict]) -> str:
    return "".join(json.dumps(message) + "\n" for message in messages)


def test_the_test_stream_is_answered_with_one_read_and_no_write(
    own_sandbox, make_config, run_target_cli
):
    config = make_config(api_url=own_sandbox.url)
    result = run_target_cli(config, text_of(MELTANO_TEST_MESSAGES))
    assert result.returncode == 0, result.stderr
    assert [(r.method, r.path) for r in own_sandbox.requests] == [("GET", "/authenticated/")]
    # Meltano fails a loader test on any output line that mentions an error or an exception.
    for line in (result.stdout + result.stderr).splitlines():
        assert "error" not in line.lower(), line
        assert "exception" not in line.lower(), line
    assert result.summary["connection_checked_streams"] == {"meltano_test_stream": 1}
    assert result.summary["streams"] == {}


def test_wrong_credentials_fail_the_test(own_sandbox, make_config, run_target_cli):
    config = make_config(api_url=own_sandbox.url, password="not-the-password")
    result = run_target_cli(config, text_of(MELTANO_TEST_MESSAGES))
    assert result.returncode == 1
    assert "401" in result.stderr


def test_control_any_other_unknown_stream_still_fails(own_sandbox, make_config, run_target):
    messages = [
        dict(m, stream="some_other_stream") if "stream" in m else m for m in MELTANO_TEST_MESSAGES
    ]
    result = run_target(make_config(api_url=own_sandbox.url), text_of(messages))
    assert isinstance(result.error, UnknownStreamError)
