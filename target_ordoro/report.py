"""What a run did: counts per stream, the end-of-run summary, and the order map file."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from target_ordoro.jsonl import utc_now_iso
from target_ordoro.object_store import json_lines_at

DEFAULT_ORDER_MAP_PATH = ".target-ordoro/order-map.jsonl"


@dataclass
class StreamCounts:
    """What became of one stream's records.

    The columns after ``received`` are disjoint and add up to it once the run has ended:
    ``written`` (on the first try), ``deferred_then_written`` (what the record referred to was
    missing at first and present later), ``unchanged`` (Ordoro already held it: no write
    request), ``superseded`` (a later record with the same key in the same input replaced it)
    and ``dead_lettered``. ``deferred`` counts records still waiting (0 after a run that ended
    normally). ``actions`` breaks written and dead-lettered records down by what was done
    (created, updated, set, added, changed, cancelled, uncancelled, ...) or why they were
    refused (refused_shipped, line_changes_off, conflict, ...).
    """

    received: int = 0
    written: int = 0
    deferred_then_written: int = 0
    unchanged: int = 0
    superseded: int = 0
    dead_lettered: int = 0
    deferred: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def note_action(self, action: str | None) -> None:
        """Count one written or refused record under its action."""
        if action:
            self.actions[action] = self.actions.get(action, 0) + 1


#: The disjoint count columns of the summary table.
COLUMNS = tuple(f.name for f in dataclasses.fields(StreamCounts) if f.name != "actions")


class RunReport:
    """The counts of one run, per canonical stream, and the streams it skipped."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamCounts] = {}
        self.skipped: dict[str, int] = {}
        #: Streams answered with a connection check (Meltano's loader test): records received.
        self.checked: dict[str, int] = {}
        self._lock = threading.Lock()

    def counts(self, stream: str) -> StreamCounts:
        """The (live) counts of ``stream``."""
        with self._lock:
            return self.streams.setdefault(stream, StreamCounts())

    def note_skipped_stream(self, input_stream: str) -> bool:
        """Register a skipped stream; True the first time it is seen."""
        with self._lock:
            first = input_stream not in self.skipped
            self.skipped.setdefault(input_stream, 0)
            return first

    def count_skipped_record(self, input_stream: str) -> None:
        """One more record of a skipped stream."""
        with self._lock:
            self.skipped[input_stream] = self.skipped.get(input_stream, 0) + 1

    def count_checked_record(self, input_stream: str, records: int = 1) -> None:
        """``records`` more of a stream answered with a connection check (0: register it)."""
        with self._lock:
            self.checked[input_stream] = self.checked.get(input_stream, 0) + records

    def table(self) -> str:
        """The counts as a plain-text table, one row per stream."""
        rows = [("stream", *COLUMNS, "actions")]
        for stream, counts in sorted(self.streams.items()):
            actions = ", ".join(f"{name} {n}" for name, n in sorted(counts.actions.items()))
            rows.append((stream, *(str(getattr(counts, name)) for name in COLUMNS), actions))
        for stream, records in sorted(self.skipped.items()):
            rows.append((f"{stream} (skipped)", str(records), *("-" * len(COLUMNS))))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )

    def summary(
        self,
        *,
        status: str,
        dead_letter_path: str,
        order_map_path: str,
        error: str | None = None,
    ) -> dict[str, Any]:
        """The summary as one JSON-ready object."""
        summary: dict[str, Any] = {
            "type": "target_ordoro_summary",
            "status": status,
            "streams": {
                stream: dataclasses.asdict(counts)
                for stream, counts in sorted(self.streams.items())
            },
            "skipped_streams": dict(sorted(self.skipped.items())),
            "connection_checked_streams": dict(sorted(self.checked.items())),
            "dead_lettered": sum(counts.dead_lettered for counts in self.streams.values()),
            "dead_letter_path": str(dead_letter_path),
            "order_map_path": str(order_map_path),
        }
        if error:
            summary["error"] = error
        return summary


class OrderMapFile:
    """One JSON line per input order: which Ordoro order_number it was written to.

    Keys: ``order_id`` (the Ordoro order's order_id), ``order_number`` (Ordoro's),
    ``action`` (created, updated, cancelled, uncancelled or unchanged), ``stream`` (the input
    stream name), ``source_order_number`` (the input's order_number, when it had one),
    ``record_order_id`` (the input's order_id when it had order_number too: not sent),
    ``changes`` (what an update changed, when it changed something) and ``at`` (UTC).

    A report for people and scripts: the target never reads it (Ordoro itself says which order
    a source order became, see the README's write semantics).
    """

    def __init__(self, path: str | Path) -> None:
        self._file = json_lines_at(str(path))

    @property
    def location(self) -> str:
        """Where the order map goes: an absolute path or a URL."""
        return self._file.location

    def close(self) -> None:
        """Make every line durable (an object is written now)."""
        self._file.close()

    def write(
        self,
        *,
        order_id: str,
        order_number: str | None,
        action: str,
        stream: str,
        source_order_number: str | None = None,
        record_order_id: str | None = None,
        changes: tuple[str, ...] = (),
    ) -> None:
        """Append one order's mapping."""
        entry: dict[str, Any] = {
            "order_id": order_id,
            "order_number": order_number,
            "action": action,
            "stream": stream,
        }
        if source_order_number:
            entry["source_order_number"] = source_order_number
        if record_order_id:
            entry["record_order_id"] = record_order_id
        if changes:
            entry["changes"] = list(changes)
        entry["at"] = utc_now_iso()
        self._file.append(entry)
