"""The base stream of tap-ordoro: one Ordoro list, read through the tap's one API client.

How a stream pages without losing records is :mod:`tap_ordoro.paging`. What this module adds is
what every stream does around it:

* **Where a sync starts.** From the bookmark minus ``lookback_seconds``: a row becomes visible
  when its transaction commits, which can be after the instant it carries, so a row may appear
  behind a bookmark that was already passed. Re-reading the last minutes costs a little and
  catches it. Without a bookmark: ``start_date``, else the whole history.
* **Which re-reads are dropped.** The STATE keeps, per stream, a short list of the versions it
  emitted within the lookback (``recently_emitted``: a hash of the record's key and instant, or
  of its content where the content changes without the instant, with the instant). A re-read
  matching one is not emitted again. It lives in the STATE, so it survives a run in a fresh
  container.
* **What a bookmark says.** Every record with an earlier instant has been emitted. Streams read
  in time order advance it record by record; streams read in parallel windows advance it to the
  reader's watermark; streams read in another order (creation, newest first) only at the end,
  and never past the instant the sync started (a record updated during the sync may have been
  passed before its update).
* **Instants, not strings.** Ordoro sends local times with the account's UTC offset, which
  changes twice a year; bookmarks are compared and stored as UTC instants.
* **Counting.** Each stream logs the requests it made and the records it emitted.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from ordoro_core.catalog import StreamSpec
from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.timestamps import parse_instant, to_utc_iso
from tap_ordoro.keyset import KeysetReader
from tap_ordoro.paging import Page, Record, StableOrderReader
from tap_ordoro.readahead import ReadAhead
from tap_ordoro.record_messages import PlainRecordMessages

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

#: Log a progress line at most this often (seconds) while a stream pages.
PROGRESS_LOG_INTERVAL = 15.0
#: The STATE key of a stream's recently emitted versions.
RECENTLY_EMITTED = "recently_emitted"
#: How many batches a stream's list reading may be ahead of its emitting (see ReadAhead).
READ_AHEAD_BATCHES = 8
#: At most this many versions are kept in the STATE per stream; beyond it, the oldest go (a
#: re-read of those may then be emitted again: at least once, never lost).
RECENTLY_EMITTED_LIMIT = 2000


@dataclass(frozen=True)
class SyncSettings:
    """The tap settings that shape how streams read."""

    lookback: timedelta = timedelta(minutes=5)
    #: The ceiling on requests in flight (``max_parallel_requests``); 1 reads sequentially.
    concurrency: int = 1
    inventory_refresh: timedelta | None = timedelta(hours=24)


@lru_cache(maxsize=4096)
def instant(value: str) -> datetime:
    """An Ordoro timestamp as an instant (cached: a page repeats a few values many times)."""
    return parse_instant(value)


def _as_utc_text(value: datetime) -> str:
    return to_utc_iso(value)


class OrdoroStream(PlainRecordMessages, Stream):
    """A stream of one Ordoro list, read through the tap's one API client.

    Everything that names the stream (name, path, list key, keys, replication key, schema)
    comes from its :class:`~ordoro_core.catalog.StreamSpec`. A stream with no class of its
    own is an instance of this class: a full table is read whole, an incremental stream
    keyset-like on its replication key. Classes in ``tap_ordoro.streams`` override
    :meth:`read` where the paging or the record shape differs.
    """

    #: Emit a STATE message every page, so an interrupted sorted stream loses at most a page.
    STATE_MSG_FREQUENCY = MAX_PAGE_SIZE
    #: Keyset-like paging emits in bookmark order; streams read in another order say False.
    is_sorted = True
    #: Records are Ordoro's JSON as parsed: nested values need no conforming, which would cost
    #: more CPU than the rest of a record's way out. Top-level fields the schema lacks are
    #: still dropped (the SCHEMA message must describe every field a target receives).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(
        self,
        tap: Tap,
        spec: StreamSpec,
        client: Callable[[], OrdoroClient],
        settings: SyncSettings,
    ) -> None:
        self.spec = spec
        self.path = spec.path
        self.list_key = spec.list_key
        self._client = client
        self.settings = settings
        super().__init__(tap, schema=spec.schema(), name=spec.name)
        self.primary_keys = list(spec.key_properties)
        self.replication_key = spec.replication_key
        self.requests = 0
        self.emitted = 0
        self._last_progress_log = time.monotonic()
        #: How far the bookmark may go: a reader's watermark, or the sync's start.
        self.bookmark_limit: datetime | None = None
        self._previous_bookmark: datetime | None = None
        self._new_bookmark: datetime | None = None
        self._newest_emitted: datetime | None = None
        self._recent: dict[str, str | None] = {}
        self._ahead: ReadAhead[tuple[list[Record], datetime | None]] | None = None
        self._requests_lock = threading.Lock()

    @property
    def client(self) -> OrdoroClient:
        """The tap's API client (one per process, shared by every stream; made on first use,
        so ``--discover`` needs no credentials)."""
        return self._client()

    # Reading

    def fetch_page(
        self,
        query: Mapping[str, Any],
        *,
        path: str | None = None,
        list_key: str | None = None,
    ) -> Page:
        """One page of this stream's list endpoint, or of another list it reads (counted as
        this stream's request, and logged now and then)."""
        body = self.client.get(path or self.path, query) or {}
        self.count_request()
        count = body.get("count")
        records = list(body.get(list_key or self.list_key) or [])
        return Page(records, int(count) if count is not None else None)

    def in_flight_allowance(self) -> int:
        """How many requests the API client allows in flight now (it follows the latency):
        what a reader plans its parallel reads for."""
        return self.client.in_flight.allowance()

    def count_request(self) -> None:
        """Count one request of this stream (pages are read on several threads)."""
        with self._requests_lock:
            self.requests += 1
        self._log_progress()

    def list_batches(self) -> Iterator[tuple[list[Record], datetime | None]]:
        """What this stream reads from its list: batches of records, each with how far the
        bookmark may go once it is emitted (None: no limit).

        A full table is read whole, an incremental stream keyset-like from :meth:`read_start`.
        The tap may run this ahead of the stream's turn (see :meth:`start_reading`).
        """
        if self.replication_key is None:
            for page in StableOrderReader(self.fetch_page, {}).pages():
                yield page, None
            return
        reader = self.keyset_reader(self.replication_key, tie_sort=self.primary_keys[0])
        for batch in reader.batches(self.read_start()):
            yield batch, reader.watermark
        yield [], reader.watermark  # where the reader ended (see settle_bookmark)

    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield this stream's records: its list's batches, without what it emitted before."""
        start = self.read_start()
        for batch, limit in self.batches_in_turn():
            self.bookmark_limit = limit
            yield from (record for record in batch if self.is_new(record, start))
        self.settle_bookmark()

    # Reading ahead of the stream's turn

    def start_reading(self) -> None:
        """Start reading this stream's list now, on a thread, ahead of its turn to emit.

        singer-sdk syncs streams one after the other; reading every selected stream's list from
        the start overlaps their latency under the one shared rate limiter. What is read waits
        in a bounded queue (:class:`~tap_ordoro.readahead.ReadAhead`).
        """
        self.capture_state()
        self.requests = 0
        self._ahead = ReadAhead(self.list_batches, READ_AHEAD_BATCHES, self.name)

    def stop_reading(self) -> None:
        """Stop reading ahead (at the end of the sync, or when it fails)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.stop()

    def batches_in_turn(self) -> Iterator[tuple[list[Record], datetime | None]]:
        """This stream's list batches: those read ahead, else read now."""
        ahead, self._ahead = self._ahead, None
        return iter(ahead) if ahead is not None else self.list_batches()

    def keyset_reader(
        self, sort_field: str, *, tie_sort: str, base: Mapping[str, Any] | None = None
    ) -> KeysetReader:
        """A :class:`~tap_ordoro.keyset.KeysetReader` over this stream's list."""
        field = self.replication_key or sort_field
        return KeysetReader(
            fetch=self.fetch_page,
            sort_field=sort_field,
            tie_sort=tie_sort,
            instant_of=lambda record: instant(record[field]),
            key_of=self.record_key,
            base=dict(base or {}),
            concurrency=self.settings.concurrency,
            allowance=self.in_flight_allowance,
        )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:
            self.begin_sync()
        for record in self.read(context):
            self.emitted += 1
            yield record
        if context is None:
            self.end_sync()

    def begin_sync(self) -> None:
        """Before emitting: counters, and the STATE this sync starts from (unless reading
        ahead captured it already)."""
        if self._ahead is None:
            self.capture_state()
            self.requests = 0
        self.emitted = 0
        self.bookmark_limit = None
        self._new_bookmark = None
        self._newest_emitted = None
        if self.replication_key is not None:
            self.stream_state[RECENTLY_EMITTED] = self._recent  # kept up to date in place

    def stored_state(self) -> Mapping[str, Any]:
        """This stream's STATE, read without creating an entry for it (reading ahead reads it
        before singer-sdk's turn, when an empty entry would become a STATE message)."""
        return self.tap_state.get("bookmarks", {}).get(self.name, {})

    def capture_state(self) -> None:
        """The bookmark this sync starts from, and the versions emitted within its lookback.

        Only reads the STATE (reading ahead captures it before singer-sdk's turn).
        """
        state = self.stored_state()
        value = state.get("replication_key_value")
        self._previous_bookmark = instant(value) if value else None
        stored = state.get(RECENTLY_EMITTED)
        self._recent = dict(stored) if isinstance(stored, dict) else {}

    def end_sync(self) -> None:
        """After reading: drop the versions the lookback no longer reaches; log the counts."""
        bookmark = self._new_bookmark or self._previous_bookmark
        if bookmark is not None:
            self._prune(bookmark)
        self._log_progress(final=True)

    # Where a sync starts, and what is new

    def bookmark(self) -> datetime | None:
        """The instant of this stream's bookmark when the sync began (None: first sync)."""
        return self._previous_bookmark

    def read_start(self) -> datetime | None:
        """Where reading starts: the bookmark minus the lookback, else ``start_date``."""
        if self.replication_key is None:
            return None
        bookmark = self.bookmark()
        if bookmark is not None:
            return bookmark - self.settings.lookback
        start_date = self.config.get("start_date")
        return parse_instant(start_date) if start_date else None

    def record_key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The record's primary key as a tuple."""
        return tuple(record.get(name) for name in self.primary_keys)

    def record_instant(self, record: Mapping[str, Any]) -> datetime | None:
        """The record's replication-key instant (None: it has none)."""
        value = record.get(self.replication_key) if self.replication_key else None
        return instant(value) if value else None

    def version(self, record: Mapping[str, Any]) -> str:
        """What identifies this version of a record: its key and instant, hashed."""
        text = json.dumps([self.record_key(record), record.get(self.replication_key)])
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]

    def is_new(self, record: Mapping[str, Any], start: datetime | None) -> bool:
        """Whether to emit a record read from ``start`` on: not older, not emitted already."""
        moment = self.record_instant(record)
        if moment is None:
            return True  # it cannot be placed in time: emit it rather than lose it
        if start is not None and moment < start:
            return False
        bookmark = self.bookmark()
        if bookmark is None or moment > bookmark:
            return True
        return self.version(record) not in self._recent

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        """Advance the bookmark to the record's instant, within :attr:`bookmark_limit`.

        The SDK compares replication-key values as strings, so "2024-11-03T01:30:00-05:00" would
        beat the later "2024-11-03T01:10:00-06:00". It is handed the instant in UTC, in one
        fixed format where string order is time order; the record itself is emitted as Ordoro
        sent it. The value is capped at the reader's watermark (parallel windows) or the
        sync's start (streams not read in time order). The record's version joins the STATE's
        ``recently_emitted``.

        A private SDK method: singer-sdk has no public hook for how replication-key values are
        compared (meltano/sdk#2753). Checked against singer-sdk 0.54.x;
        ``tests/tap_ordoro/test_sdk_hooks.py`` fails if an upgrade renames it or changes its
        signature.
        """
        moment = self.record_instant(latest_record)
        if moment is None:
            return
        bookmark = moment
        if self.bookmark_limit is not None and bookmark > self.bookmark_limit:
            bookmark = self.bookmark_limit
        if self._previous_bookmark is not None and bookmark < self._previous_bookmark:
            bookmark = self._previous_bookmark  # a lookback re-read never moves it back
        if self._new_bookmark is None or bookmark > self._new_bookmark:
            self._new_bookmark = bookmark
        if self._newest_emitted is None or moment > self._newest_emitted:
            self._newest_emitted = moment
        self._remember(latest_record, moment)
        key = str(self.replication_key)
        super()._increment_stream_state({key: _as_utc_text(bookmark)}, context=context)

    def settle_bookmark(self) -> None:
        """After the last batch: the bookmark moves up to the newest instant emitted, within
        :attr:`bookmark_limit` as the reader left it.

        Each record moves the bookmark only as far as the limit that held when it came. With
        windows read in parallel the window that finishes last may bring no new record, so
        what its end allows would otherwise go unsaid, and the next sync would emit again the
        records between the last limit and the newest instant.
        """
        target = self._newest_emitted
        if target is None:
            return
        if self.bookmark_limit is not None and target > self.bookmark_limit:
            target = self.bookmark_limit
        if self._new_bookmark is not None and target <= self._new_bookmark:
            return
        if self._previous_bookmark is not None and target <= self._previous_bookmark:
            return
        self._new_bookmark = target
        key = str(self.replication_key)
        super()._increment_stream_state({key: _as_utc_text(target)}, context=None)

    # The STATE's recently emitted versions

    def _remember(self, record: Mapping[str, Any], moment: datetime) -> None:
        """Keep the version of an emitted record while the lookback from the bookmark reaches
        it (the next sync re-reads from there)."""
        newest = self._new_bookmark or moment
        oldest = newest - self.settings.lookback
        if moment < oldest:
            return
        recent = self._recent
        recent[self.version(record)] = _as_utc_text(moment)
        # Versions are mostly added in time order: drop the expired ones at the front now, so
        # every STATE message stays small (it is serialised every page). Those this run may
        # still re-read (from the previous bookmark's lookback on) stay until it ends.
        if self._previous_bookmark is not None:
            oldest = min(oldest, self._previous_bookmark - self.settings.lookback)
        expired = _as_utc_text(oldest)
        while recent:
            first = next(iter(recent))
            at = recent[first]
            if at is not None and at >= expired:
                break
            del recent[first]
        if len(recent) > RECENTLY_EMITTED_LIMIT + MAX_PAGE_SIZE:
            self._prune(oldest + self.settings.lookback)

    def _prune(self, newest: datetime) -> None:
        """Drop versions older than the lookback, then the oldest beyond the limit.

        The dict is changed in place: it is the one the STATE holds.
        """
        oldest = _as_utc_text(newest - self.settings.lookback)
        kept = sorted(
            ((at, version) for version, at in self._recent.items() if at and at >= oldest),
            reverse=True,
        )[:RECENTLY_EMITTED_LIMIT]
        self._recent.clear()
        self._recent.update((version, at) for at, version in kept)

    # Logging

    def _log_progress(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last_progress_log >= PROGRESS_LOG_INTERVAL:
            self._last_progress_log = now
            self.logger.info(
                "%s: %d pages read, %d records emitted%s",
                self.name,
                self.requests,
                self.emitted,
                " (done)" if final else " so far",
            )


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)
