"""What a run did: counts per stream, the end-of-run summary, and the order map file."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from target_ordoro.jsonl import JsonLinesFile, utc_now_iso

DEFAULT_ORDER_MAP_PATH = ".target-ordoro/order-map.jsonl"


@dataclass
class StreamCounts:
    """What became of one stream's records.

    The columns after ``received`` are disjoint and add up to it once the run has ended:
    ``written`` (on the first try), ``deferred_then_written`` (what the record referred to was
    missing at first and present once all input was read), ``unchanged`` (Ordoro already held
    it, or the ledger saw it written recently), ``superseded`` (a later record with the same key
    in the same batch replaced it) and ``dead_lettered``. ``deferred`` counts records still
    waiting for their retry (0 after a run that ended normally).
    """

    received: int = 0
    written: int = 0
    deferred_then_written: int = 0
    unchanged: int = 0
    superseded: int = 0
    dead_lettered: int = 0
    deferred: int = 0


COLUMNS = tuple(f.name for f in dataclasses.fields(StreamCounts))


class RunReport:
    """The counts of one run, per canonical stream, and the streams it skipped."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamCounts] = {}
        self.skipped: dict[str, int] = {}
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

    def table(self) -> str:
        """The counts as a plain-text table, one row per stream."""
        rows = [("stream", *COLUMNS)]
        for stream, counts in sorted(self.streams.items()):
            rows.append((stream, *(str(getattr(counts, name)) for name in COLUMNS)))
        for stream, records in sorted(self.skipped.items()):
            rows.append((f"{stream} (skipped)", str(records), *("-" * (len(COLUMNS) - 1))))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )

    def summary(
        self,
        *,
        status: str,
        dead_letter_path: Path,
        order_map_path: Path,
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
            "dead_lettered": sum(counts.dead_lettered for counts in self.streams.values()),
            "dead_letter_path": str(dead_letter_path),
            "order_map_path": str(order_map_path),
        }
        if error:
            summary["error"] = error
        return summary


class OrderMapFile:
    """One JSON line per input order: which Ordoro order_number it was written to.

    Keys: ``order_id`` (the input's), ``order_number`` (Ordoro's), ``action`` (created,
    updated or unchanged), ``stream`` (the input stream name), ``source_order_number`` (the
    input's order_number, when it had one) and ``at`` (UTC).
    """

    def __init__(self, path: str | Path) -> None:
        self._file = JsonLinesFile(path)

    @property
    def path(self) -> Path:
        """Where the order map goes."""
        return self._file.path

    def write(
        self,
        *,
        order_id: str,
        order_number: str | None,
        action: str,
        stream: str,
        source_order_number: str | None = None,
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
        entry["at"] = utc_now_iso()
        self._file.append(entry)
