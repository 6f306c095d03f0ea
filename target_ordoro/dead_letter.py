"""The dead-letter file: one JSON line per record that could not be written.

Each line holds ``stream`` (the canonical stream: orders, products, inventory or shipments),
``input_stream`` (the stream name the record arrived under, before ``stream_aliases``),
``record`` (the record as received), ``reason`` (one short sentence), ``at`` (UTC) and, where
Ordoro answered, ``status`` and ``response`` (the HTTP status and the decoded body). No
headers and no settings are ever written, so the file holds no credentials; it holds customer
data, so it is created owner-only (0600, its directory 0700: see ``target_ordoro.jsonl``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ordoro_core.errors import clip
from target_ordoro.jsonl import utc_now_iso
from target_ordoro.object_store import json_lines_at

DEFAULT_DEAD_LETTER_PATH = ".target-ordoro/dead-letter.jsonl"
#: The longest reason a dead letter carries. Reasons quote keys and values clipped already;
#: this bounds what they add up to (Ordoro's own message is in ``response`` in full).
MAX_REASON_CHARS = 500


def log_dead_letter(
    logger: logging.Logger,
    stream: str,
    input_stream: str,
    key: str | None,
    reason: str,
    status: int | None = None,
) -> None:
    """One log line per dead letter, structured: its JSON object in the message (any log
    format) and as ``extra["dead_letter"]`` (singer-sdk's structured format). It holds the
    stream, the record's key and the reason, never the record nor any setting."""
    entry: dict[str, Any] = {"stream": stream, "key": key, "reason": reason}
    if input_stream != stream:
        entry["input_stream"] = input_stream
    if status is not None:
        entry["status"] = status
    logger.warning(
        "Dead letter: %s", json.dumps(entry, ensure_ascii=False), extra={"dead_letter": entry}
    )


def short_reason(reason: str) -> str:
    """``reason`` on one line and at most :data:`MAX_REASON_CHARS` characters.

    >>> len(short_reason("x" * 10_000)) == MAX_REASON_CHARS
    True
    >>> short_reason("two\\nlines")
    'two lines'
    """
    return clip(reason, MAX_REASON_CHARS - 1)


class DeadLetterFile:
    """Appends dead-lettered records to a JSON Lines file or object-store object (thread-safe;
    see :mod:`target_ordoro.object_store`)."""

    def __init__(self, path: str | Path) -> None:
        self._file = json_lines_at(str(path))

    @property
    def location(self) -> str:
        """Where the dead letters go: an absolute path or a URL."""
        return self._file.location

    def close(self) -> None:
        """Make every dead letter durable (an object is written now)."""
        self._file.close()

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
