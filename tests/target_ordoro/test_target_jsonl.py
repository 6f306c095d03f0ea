"""The target's JSON Lines files: one complete, valid line per entry, whatever the entry."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from target_ordoro.jsonl import JsonLinesFile


def test_entries_json_cannot_write_as_they_are_still_become_valid_lines(tmp_path):
    path = tmp_path / "lines.jsonl"
    lines = JsonLinesFile(path)
    lines.append({"sku": "CAFÉ-Ж", "record": {"n": Decimal("2.50"), "set": {1}}})
    lines.append({"sku": "lone-\ud800-surrogate"})  # no UTF-8 form
    lines.append({"at": datetime(2024, 1, 2, tzinfo=timezone.utc), "bytes": b"\xff"})
    text = path.read_text(encoding="utf-8")
    assert "CAFÉ-Ж" in text  # unicode kept readable where it can be
    parsed = [json.loads(line) for line in text.splitlines()]
    assert [entry.get("sku") for entry in parsed] == ["CAFÉ-Ж", "lone-\ud800-surrogate", None]
    assert parsed[0]["record"] == {"n": 2.5, "set": [1]}
    assert parsed[2]["at"] == "2024-01-02T00:00:00+00:00"
