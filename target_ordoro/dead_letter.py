"""The dead-letter file: one JSON line per record that could not be written.

Each line holds ``stream`` (the canonical stream: orders, products, inventory or shipments),
``input_stream`` (the stream name the record arrived under, before ``stream_aliases``),
``record`` (the record as received), ``reason`` (one short sentence), ``at`` (UTC) and, where
Ordoro answered, ``status`` and ``response`` (the HTTP status and the decoded body). No
headers and no settings are ever written, so the file holds no credentials; it holds customer
data, so it is created owner-only (0600, its directory 0700: see ``target_ordoro.jsonl``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordoro_core.errors import clip
from target_ordoro.jsonl import JsonLinesFile, utc_now_iso

DEFAULT_DEAD_LETTER_PATH = ".target-ordoro/dead-letter.jsonl"
#: The longest reason a dead letter carries. Reasons quote keys and values clipped already;
#: this bounds what they add up to (Ordoro's own message is in ``response`` in full).
MAX_REASON_CHARS = 500


def short_reason(reason: str) -> str:
    """``reason`` on one line and at most :data:`MAX_REASON_CHARS` characters.

    >>> len(short_reason("x" * 10_000)) == MAX_REASON_CHARS
    True
    >>> short_reason("two\\nlines")
    'two lines'
    """
    return clip(reason, MAX_REASON_CHARS - 1)


class DeadLetterFile:
    """Appends dead-lettered records to a JSON Lines file (thread-safe)."""

    def __init__(self, path: str | Path) -> None:
        self._file = JsonLinesFile(path)

    @property
    def path(self) -> Path:
        """Where the dead letters go."""
        return self._file.path

    def write(
        self,
        *,
        stream: str,
        input_stream: str,
        record: Any,
        reason: str,
        status: int | None = None,
        response: Any = None,
    ) -> None:
        """Append one dead letter (``reason`` made short: :func:`short_reason`);
        ``status``/``response`` only when Ordoro answered."""
        entry: dict[str, Any] = {
            "stream": stream,
            "input_stream": input_stream,
            "record": record,
            "reason": short_reason(reason),
        }
        if status is not None:
            entry["status"] = status
            entry["response"] = response
        entry["at"] = utc_now_iso()
        self._file.append(entry)
