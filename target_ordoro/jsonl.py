"""Append-only JSON Lines files shared by the target's writer threads, and owner-only files.

Every file the target writes (dead letters, the order map) may hold customer data,
so it is created owner-only (0600), and the directories the target creates for them 0700.
"""

from __future__ import annotations

import json
import os
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


#: Permissions of the files the target creates: read and write for the owner only.
PRIVATE_FILE_MODE = 0o600
#: Permissions of the directories the target creates for them.
PRIVATE_DIRECTORY_MODE = 0o700


def make_private_directory(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each owner-only (0700).

    Directories that exist already are left as they are.
    """
    missing = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIRECTORY_MODE)
        except FileExistsError:
            continue


def create_private_file(path: Path) -> None:
    """Create ``path`` owner-only (0600) unless it exists; its directory too (0700)."""
    make_private_directory(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE))


class JsonLinesFile:
    """A JSON Lines file that several threads append to, one complete line per entry.

    The file (0600) and its directory (0700) are created owner-only on the first write, and the
    file is opened and closed for every entry: nothing stays open when a run ends, however it
    ends.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Write ``entry`` as one line at the end of the file."""
        line = json.dumps(entry, default=to_jsonable, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate ("\ud800") has no UTF-8 form: write every non-ASCII character
            # as a JSON escape instead, so the line is still written and still valid JSON.
            line = json.dumps(entry, default=to_jsonable, ensure_ascii=True)
        with self._lock:
            make_private_directory(self.path.parent)
            descriptor = os.open(
                self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE
            )
            with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
