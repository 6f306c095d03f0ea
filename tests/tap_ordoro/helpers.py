"""Helpers for tap-ordoro's tests: the test credentials and an in-process tap runner."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from ordoro_sandbox import Sandbox
from tap_ordoro.tap import TapOrdoro

TAP_USER = "tap-test-user"
TAP_SECRET = "tap-test-secret-41d2"


@dataclass
class TapRun:
    """What one tap run wrote to stdout, split by message type."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def last_state(self) -> dict[str, Any] | None:
        return self.states[-1] if self.states else None

    def bookmark(self, stream: str) -> str | None:
        state = self.last_state or {}
        return state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")

    def keys(self, stream: str, *names: str) -> list[Any]:
        rows = self.records[stream]
        if len(names) == 1:
            return [row[names[0]] for row in rows]
        return [tuple(row[name] for name in names) for row in rows]


def parse_messages(lines: list[str]) -> TapRun:
    run = TapRun(lines=lines)
    for line in lines:
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


def tap_config(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    """A config for the sandbox. The ceiling is high: the client holds it as an even pace (at
    the default 480, one request per 125 ms), and these tests are about what is read, not how
    fast; the pace has tests of its own."""
    return {
        "username": TAP_USER,
        "password": TAP_SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 60_000,
        **extra,
    }


def select_only(config: dict[str, Any], *streams: str) -> dict[str, Any]:
    """A catalog selecting only ``streams`` (every property of them)."""
    tap = TapOrdoro(config=config, parse_env_config=False, validate_config=True)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = chosen
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    streams: tuple[str, ...] | None = None,
    state: dict[str, Any] | None = None,
) -> TapRun:
    """Run the tap in-process and parse what it wrote to stdout."""
    catalog = select_only(config, *streams) if streams else None
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap = TapOrdoro(config=config, state=state, catalog=catalog, parse_env_config=False)
        tap.sync_all()
    return parse_messages([line for line in buffer.getvalue().splitlines() if line.strip()])
