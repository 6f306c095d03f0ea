"""The write ledger: what this target last wrote, so that unchanged records are not re-sent.

A "delta" target: for every key it writes (a SKU, a SKU in a warehouse, an order, an order's
tracking) the ledger keeps a fingerprint of what was sent (sha256 of its canonical JSON) and
when. A record whose fingerprint equals the one written for the same key less than
``ledger_max_age_hours`` ago is counted "unchanged" and costs no request. Entries are per
account (``api_url`` + ``username``), so one ledger file can serve several Ordoro accounts.

Why entries expire: the ledger knows what *this target* sent, not what Ordoro holds now.
Ordoro's stock moves with every sale, receipt and manual count, so "I set on_hand to 12
yesterday" does not mean it is still 12: after ``ledger_max_age_hours`` (default 24) the same
record is sent again. ``ledger_max_age_hours: 0`` disables the ledger (every record is sent).

The ledger also remembers which Ordoro order_number each input order was written to
(``order_number:1-1001`` or ``order_id:1001`` -> ``M-1001``), so that a shipment naming the
*source* account's order number (``tap-ordoro | target-ordoro`` between two accounts) is added
to the right order in the destination, in this run or a later one.

The ledger is an optimisation, never a source of truth. When its file is deleted every record
is simply sent again, and the writes are idempotent on their own: an order is looked up by its
order_number before (or instead of) being created again, on_hand is set to an absolute value
rather than adjusted, and tracking is compared with the order's current shipping info before it
is added or changed. The end state in Ordoro is the same with or without the ledger.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from target_ordoro.jsonl import create_private_file, to_jsonable

DEFAULT_LEDGER_PATH = ".target-ordoro/ledger.sqlite3"
DEFAULT_LEDGER_MAX_AGE_HOURS = 24.0

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS writes (
        account TEXT NOT NULL,
        stream TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        written_at REAL NOT NULL,
        PRIMARY KEY (account, stream, key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS order_numbers (
        account TEXT NOT NULL,
        source_key TEXT NOT NULL,
        order_number TEXT NOT NULL,
        written_at REAL NOT NULL,
        PRIMARY KEY (account, source_key)
    )
    """,
)


def fingerprint(payload: Any) -> str:
    """sha256 of the canonical JSON of ``payload`` (sorted keys, no whitespace)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=to_jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Ledger:
    """SQLite-backed ledger for one Ordoro account; safe to share between threads.

    ``path=None`` or ``max_age_hours <= 0`` keeps the ledger in memory for this run only and
    never reports a record unchanged; the order-number mapping still works within the run.
    """

    def __init__(
        self,
        path: str | Path | None,
        account: str,
        max_age_hours: float = DEFAULT_LEDGER_MAX_AGE_HOURS,
        *,
        clock: Any = time.time,
    ) -> None:
        self.account = account
        self.enabled = path is not None and max_age_hours > 0
        self.max_age_seconds = max(0.0, float(max_age_hours)) * 3600.0
        self._clock = clock
        self._lock = threading.Lock()
        #: The SQLite file, or None when the ledger lives in memory for this run only.
        self.path = Path(path).expanduser() if path is not None and self.enabled else None
        if self.path is not None:
            # Owner-only (0600) in an owner-only directory (0700) when created here; SQLite
            # gives its journal files the database file's permissions.
            create_private_file(self.path)
        self._connection = sqlite3.connect(
            str(self.path) if self.path is not None else ":memory:",
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
        )
        with self._lock:
            for statement in _SCHEMA:
                self._connection.execute(statement)

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            self._connection.close()

    def is_unchanged(self, stream: str, key: str, fingerprint_: str) -> bool:
        """True when the same fingerprint was written for this key within the max age."""
        if not self.enabled:
            return False
        with self._lock:
            row = self._connection.execute(
                "SELECT fingerprint, written_at FROM writes "
                "WHERE account = ? AND stream = ? AND key = ?",
                (self.account, stream, key),
            ).fetchone()
        if row is None:
            return False
        stored, written_at = row
        return stored == fingerprint_ and self._clock() - written_at < self.max_age_seconds

    def remember(self, stream: str, key: str, fingerprint_: str) -> None:
        """Record that ``fingerprint_`` is now what Ordoro holds for this key."""
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO writes (account, stream, key, fingerprint, written_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.account, stream, key, fingerprint_, self._clock()),
            )

    def remember_order_number(self, source_keys: Iterable[str], order_number: str) -> None:
        """Map each source key of an input order to the Ordoro order_number it was written to."""
        now = self._clock()
        with self._lock:
            self._connection.executemany(
                "INSERT OR REPLACE INTO order_numbers "
                "(account, source_key, order_number, written_at) VALUES (?, ?, ?, ?)",
                [(self.account, key, order_number, now) for key in source_keys],
            )

    def order_number_for(self, source_key: str) -> str | None:
        """The Ordoro order_number an input order key was written to, if known.

        The mapping does not expire: an order keeps its number.
        """
        with self._lock:
            row = self._connection.execute(
                "SELECT order_number FROM order_numbers WHERE account = ? AND source_key = ?",
                (self.account, source_key),
            ).fetchone()
        return row[0] if row else None
