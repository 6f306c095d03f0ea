"""The plan of a dry run: every write the run would make, one JSON line each (``plan_path``).

Each line holds ``stream`` and ``key`` (the record it is for, as superseding and the
dead-letter log name it), ``action`` (create, update, set, cancel, uncancel, add tracking,
change tracking, add tag, remove tag, create tag, add line, update line, remove line),
``changes`` (field -> ``{"before": ..., "after": ...}``; ``before`` is null for what is new),
and ``method`` and ``path``: the request a real run sends. A write Ordoro would refuse as the
run goes on (e.g. the ``PUT`` of a SKU it does not have, before that SKU is created) is listed
too, with ``refused`` (its status): a real run sends it as well. A record the run would
dead-letter is a line with ``action`` "dead-letter" and its ``reason``, and no request.

Which record a request is for is known from :func:`writing` (a context the writers' thread
enters for each record); requests outside any record's write (none today) are planned under
stream "run".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from target_ordoro.object_store import json_lines_at

DEFAULT_PLAN_PATH = ".target-ordoro/plan.jsonl"
#: The action of a plan line for a record the run would dead-letter (no request).
DEAD_LETTER_ACTION = "dead-letter"

#: The record whose write is running in this thread: (stream, key).
_WRITING: ContextVar[tuple[str, str] | None] = ContextVar("target_ordoro_writing", default=None)


@contextmanager
def writing(stream: str, key: str) -> Iterator[None]:
    """Requests sent inside are for the record ``key`` of ``stream``."""
    token = _WRITING.set((stream, key))
    try:
        yield
    finally:
        _WRITING.reset(token)


def current_record() -> tuple[str, str]:
    """The (stream, key) whose write is running, or ("run", "") outside any."""
    return _WRITING.get() or ("run", "")


def change(before: Any, after: Any) -> dict[str, Any]:
    """One field's change as a plan line writes it."""
    return {"before": before, "after": after}


@dataclass
class PlanCounts:
    """What a dry run counted: plan lines per action, and the requests a real run would send."""

    actions: dict[str, int] = field(default_factory=dict)
    reads: int = 0
    writes: int = 0

    def summary(self) -> dict[str, Any]:
        """As the run summary's ``plan`` shows it."""
        return {
            "actions": dict(sorted(self.actions.items())),
            "requests": {
                "reads": self.reads,
                "writes": self.writes,
                "total": self.reads + self.writes,
            },
        }


class PlanFile:
    """The plan's JSON Lines file (or object-store object), and its counts. Thread-safe."""

    def __init__(self, location: str) -> None:
        self._file = json_lines_at(location)
        self.counts = PlanCounts()
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        """Where the plan goes: an absolute path or a URL."""
        return self._file.location

    def note_read(self) -> None:
        """A read a real run would send too."""
        with self._lock:
            self.counts.reads += 1

    def write(
        self,
        action: str,
        method: str,
        path: str,
        changes: Mapping[str, Any],
        *,
        refused: int | None = None,
    ) -> None:
        """One write request of the record whose write is running."""
        stream, key = current_record()
        line: dict[str, Any] = {
            "stream": stream,
            "key": key,
            "action": action,
            "changes": dict(changes),
            "method": method,
            "path": path,
        }
        if refused is not None:
            line["refused"] = refused
        with self._lock:
            self.counts.writes += 1
            self.counts.actions[action] = self.counts.actions.get(action, 0) + 1
            self._file.append(line)

    def dead_letter(self, stream: str, key: str | None, reason: str) -> None:
        """A record the run would dead-letter (no request)."""
        line = {"stream": stream, "key": key, "action": DEAD_LETTER_ACTION, "changes": {}}
        line["reason"] = reason
        with self._lock:
            self.counts.actions[DEAD_LETTER_ACTION] = (
                self.counts.actions.get(DEAD_LETTER_ACTION, 0) + 1
            )
            self._file.append(line)

    def close(self) -> None:
        """Make every line durable (an object is written now)."""
        self._file.close()
