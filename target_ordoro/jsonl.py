"""Append-only JSON Lines files shared by the target's writer threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Turn what ``json`` cannot write into what it can (``json.dumps(default=...)``).

    Records normally hold plain JSON values only; this covers what a stream map or a Python
    caller may put into them (datetimes, decimals, sets, bytes) so that no line is ever lost to
    a serialisation error.
    """
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def utc_now_iso() -> str:
    """The current instant as a UTC ISO 8601 string (seconds precision)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JsonLinesFile:
    """A JSON Lines file that several threads append to, one complete line per entry.

    The parent directory is created on the first write, and the file is opened and closed for
    every entry: nothing stays open when a run ends, however it ends.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Write ``entry`` as one line at the end of the file."""
        line = json.dumps(entry, default=to_jsonable, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
