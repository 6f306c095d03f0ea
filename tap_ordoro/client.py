"""The base stream of tap-ordoro: one Ordoro list, read through the tap's one API client.

How a stream pages without losing records is :mod:`tap_ordoro.paging`. What this module adds is
what every stream does around it:

* **Where a sync starts.** From the bookmark minus ``lookback_seconds``: a row becomes visible
  when its transaction commits, which can be after the instant it carries, so a row may appear
  behind a bookmark that was already passed. Re-reading the last minutes costs a little and
  catches it. Without a bookmark: ``start_date``, else the whole history.
* **Which re-reads are dropped.** The STATE keeps, per stream, what it emitted in the spans a
  later run reads again (``recently_emitted``: the zones of :mod:`tap_ordoro.rereads`, bounded
  whatever the data). Re-reads found there are not emitted again. It lives in the STATE, so it
  survives a run in a fresh container. (:mod:`tap_ordoro.bookmarks`, a mixin of the stream.)
* **What a bookmark says.** Every record with an earlier instant has been emitted. Streams read
  in time order advance it record by record; streams read in parallel windows advance it to the
  reader's watermark, and keep the ranges finished above it (``covered``), which a resumed run
  does not read again; streams read in another order (creation, newest first) only at the end,
  and never past the instant the sync started (a record updated during the sync may have been
  passed before its update).
* **Instants, not strings.** Ordoro sends local times with the account's UTC offset, which
  changes twice a year; bookmarks are compared and stored as UTC instants.
* **Counting.** Each stream logs the requests it made and the records it emitted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from ordoro_core.catalog import StreamSpec
from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.timestamps import AccountZone
from tap_ordoro.bookmarks import Bookmarks, instant
from tap_ordoro.coverage import Coverage
from tap_ordoro.keyset import KeysetReader
from tap_ordoro.paging import ListTerms, OffsetRefused, Page, Record, StableOrderReader
from tap_ordoro.readahead import ReadAhead
from tap_ordoro.record_messages import PlainRecordMessages

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

#: Log a progress line at most this often (seconds) while a stream pages.
PROGRESS_LOG_INTERVAL = 15.0
#: A batch of a list read: its records, and what the read had delivered with them (None: a
#: read in another order than time, which says nothing until it ends).
Batch = tuple[list[Record], Coverage | None]
#: How many batches a stream's list reading may be ahead of its emitting (see ReadAhead).
READ_AHEAD_BATCHES = 8


@dataclass(frozen=True)
class SyncSettings:
    """The tap settings that shape how streams read."""

    lookback: timedelta = timedelta(minutes=5)
    #: The ceiling on requests in flight (``max_parallel_requests``); 1 reads sequentially.
    concurrency: int = 1
    inventory_refresh: timedelta | None = timedelta(hours=24)


__all__ = ["Batch", "OrdoroStream", "SyncSettings", "instant", "utc_now"]


def _names_offset(error: OrdoroAPIError) -> bool:
    """Whether an error is a 400 about the ``offset`` parameter (its ``param``, or its
    message when it names no parameter)."""
    if error.status != 400:
        return False
    if error.param is not None:
        return str(error.param) == "offset"
    return "offset" in str(error.error_message or "").lower()


class OrdoroStream(PlainRecordMessages, Bookmarks):
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
        self._ahead: ReadAhead[Batch] | None = None
        self._requests_lock = threading.Lock()
        self._terms: dict[str, ListTerms] = {}

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
        this stream's request, and logged now and then).

        A 400 naming ``offset`` (the API serves nothing that deep) is
        :class:`~tap_ordoro.paging.OffsetRefused`, which readers narrow on.
        """
        try:
            body = self.client.get(path or self.path, query) or {}
        except OrdoroAPIError as error:
            self.count_request()
            offset = query.get("offset")
            if isinstance(offset, int) and offset > 0 and _names_offset(error):
                raise OffsetRefused(offset, str(error)) from None
            raise
        self.count_request()
        count, limit = body.get("count"), body.get("limit")
        records = list(body.get(list_key or self.list_key) or [])
        return Page(
            records,
            int(count) if isinstance(count, int) else None,
            offset=int(query.get("offset") or 0),
            limit=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        )

    def list_terms(self, path: str | None = None) -> ListTerms:
        """What this stream learnt of a list it reads (its own by default): the page size it
        serves, the offsets it refuses, the contradictions already logged."""
        path = path or self.path
        with self._requests_lock:
            terms = self._terms.get(path)
            if terms is None:
                terms = self._terms[path] = ListTerms(f"{self.name} ({path})", log=self.logger)
            return terms

    @property
    def account_zone(self) -> AccountZone:
        """The account's time zone as its records show it (one per tap run, shared by every
        stream): filter values are written with it."""
        return self._tap.account_zone  # type: ignore[attr-defined]

    def in_flight_allowance(self) -> int:
        """How many requests the API client allows in flight now (it follows the latency):
        what a reader plans its parallel reads for."""
        return self.client.in_flight.allowance()

    def count_request(self) -> None:
        """Count one request of this stream (pages are read on several threads)."""
        with self._requests_lock:
            self.requests += 1
        self._log_progress()

    def list_batches(self) -> Iterator[Batch]:
        """What this stream reads from its list: batches of records, each with what the read
        had delivered once it is emitted (see :class:`~tap_ordoro.keyset.Coverage`).

        A full table is read whole, an incremental stream keyset-like from :meth:`read_start`
        (around the ranges a killed run finished, :meth:`skip_ranges`). The tap may run this
        ahead of the stream's turn (see :meth:`start_reading`).
        """
        if self.replication_key is None:
            reader = StableOrderReader(self.fetch_page, {}, terms=self.list_terms())
            for page in reader.pages():
                yield page, None
            return
        reader = self.keyset_reader(self.replication_key, tie_sort=self.primary_keys[0])
        for batch in reader.batches(self.read_start(), self.skip_ranges()):
            yield batch, reader.coverage()
        yield [], reader.coverage()  # where the reader ended (see settle_bookmark)

    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield this stream's records: its list's batches, without what it emitted before."""
        start = self.read_start()
        for batch, coverage in self.batches_in_turn():
            self.follow(coverage)
            yield from self.admit(batch, start)
            yield from self.release()
            self.note_delivered()
        yield from self.release(final=True)
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

    def batches_in_turn(self) -> Iterator[Batch]:
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
            terms=self.list_terms(),
            zone=self.account_zone,
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
        self.start_bookmarks()

    def end_sync(self) -> None:
        """After reading: the zones of what this sync emitted into the STATE; log the counts."""
        self.end_bookmarks()
        self._log_progress(final=True)

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
