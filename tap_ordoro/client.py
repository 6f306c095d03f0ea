"""The base stream of tap-ordoro and the two ways it pages through Ordoro's lists.

Ordoro's lists page with ``limit`` and ``offset``. Offsets are only safe over an order that does
not change while we page. A list sorted by ``updated_date`` is not such an order: a record that
is updated after we passed it moves to the end, every record behind it shifts one place towards
the start, and the record at the next page boundary is never seen. So:

* Streams the API can sort by their replication key (orders, shipments, purchase orders) page
  **keyset-like** (:meth:`OrdoroStream.iter_by_cursor`): every request asks for records updated
  after the last instant already emitted (``updated_after``, sorted ascending), at offset 0.
  A record updated behind the cursor reappears ahead of it and is emitted again with its new
  value; none is skipped. Records sharing the cursor's instant are fetched again at the next
  boundary and dropped by key (the only repeats the scheme makes); a page made entirely of one
  instant falls back to an offset within that instant so paging always advances. These streams
  are sorted, so every STATE message is a safe place to resume.
* Streams the API cannot sort by their replication key (products, inventory, return orders)
  page by offset over **creation order**, which updates do not change, with ``updated_after``
  as a server-side filter where the API has it (:meth:`OrdoroStream.iter_in_stable_order`).
  Their bookmark is the greatest instant seen and is only final at the end of the sync; an
  interrupted sync resumes from the previous complete one.

Ordoro sends local times with the account's UTC offset, which changes twice a year. Bookmarks
are therefore compared as instants and stored in UTC (see :mod:`ordoro_core.timestamps`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from singer_sdk import Stream
from typing_extensions import override

from ordoro_core.catalog import StreamSpec
from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.timestamps import RESOLUTION, parse_instant, to_utc_iso

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

#: Log a progress line at most this often (seconds) while a stream pages.
PROGRESS_LOG_INTERVAL = 15.0

#: Where a pager stands between two pages (an offset, or a keyset position).
Position = TypeVar("Position")


@dataclass(frozen=True)
class KeysetPosition:
    """Where keyset-like paging stands between two pages.

    ``instant`` is the last instant emitted (None before the first page), ``keys`` the records
    already emitted at exactly that instant (the next page starts at it again), and ``offset``
    the step over a run of records sharing that instant longer than a page.
    """

    instant: datetime | None
    offset: int = 0
    keys: frozenset[tuple[Any, ...]] = frozenset()


class OrdoroStream(Stream):
    """A stream of one Ordoro list, read through the tap's one API client.

    Everything that names the stream (name, path, list key, keys, replication key, schema)
    comes from its :class:`~ordoro_core.catalog.StreamSpec`. A stream with no class of its
    own is an instance of this class: a full table is read with :meth:`iter_all`, an
    incremental stream keyset-like on its replication key (:meth:`iter_by_cursor`). Classes
    in ``tap_ordoro.streams`` override :meth:`read` where the paging or the record shape
    differs.
    """

    #: Emit a STATE message every page, so an interrupted sorted stream loses at most a page.
    STATE_MSG_FREQUENCY = MAX_PAGE_SIZE
    #: Keyset-like paging emits in replication-key order; stable-order streams say False.
    is_sorted = True

    def __init__(self, tap: Tap, spec: StreamSpec, client: OrdoroClient) -> None:
        self.spec = spec
        self.path = spec.path
        self.list_key = spec.list_key
        #: The tap's API client (one per process, shared by every stream).
        self.client = client
        super().__init__(tap, schema=spec.schema(), name=spec.name)
        self.primary_keys = list(spec.key_properties)
        self.replication_key = spec.replication_key
        self._pages = 0
        self._records = 0
        self._last_progress_log = time.monotonic()

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        """Advance the bookmark, comparing timestamps as instants.

        The SDK compares replication-key values as strings, so "2024-11-03T01:30:00-05:00" would
        beat the later "2024-11-03T01:10:00-06:00". It is handed the value as a UTC instant in
        one fixed format, where string order is time order; the record itself is emitted as
        Ordoro sent it.

        A private SDK method: singer-sdk has no public hook for how replication-key values are
        compared (meltano/sdk#2753). Checked against singer-sdk 0.54.x;
        ``tests/tap_ordoro/test_sdk_hooks.py`` fails if an upgrade renames it or changes its
        signature.
        """
        key = self.replication_key
        if key and latest_record.get(key):
            latest_record = {**latest_record, key: to_utc_iso(latest_record[key])}
        super()._increment_stream_state(latest_record, context=context)

    def starting_instant(self, context: Context | None) -> datetime | None:
        """Where this sync starts: the bookmark, else ``start_date``, else the beginning."""
        if not self.replication_key:
            return None
        start = self.get_starting_timestamp(context)
        return parse_instant(start) if start else None

    def record_key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The record's primary key as a tuple."""
        return tuple(record.get(name) for name in self.primary_keys)

    # Pagers

    def iter_by_cursor(
        self,
        sort: str,
        since: datetime | None,
        params: Mapping[str, Any] | None = None,
        *,
        cursor_field: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the list's records updated at or after ``since``, in time order, keyset-like.

        ``sort`` is the API's ascending sort on ``cursor_field`` (default: the replication key).
        ``updated_after`` is sent one microsecond before the cursor so the cursor's own instant is
        included whether the API treats the filter as inclusive or exclusive (undocumented).
        """
        field = cursor_field or self.replication_key
        assert field, "iter_by_cursor needs a cursor field"
        base = {**(params or {}), "sort": sort, "limit": MAX_PAGE_SIZE}

        def query_at(position: KeysetPosition) -> dict[str, Any]:
            query = {**base, "offset": position.offset}
            if position.instant is not None:
                query["updated_after"] = to_utc_iso(position.instant - RESOLUTION)
            return query

        def after(position: KeysetPosition, page: list[dict[str, Any]]) -> KeysetPosition | None:
            if len(page) < MAX_PAGE_SIZE:
                return None
            last = parse_instant(page[-1][field])
            if position.instant is None or last > position.instant:
                instant, offset, keys = last, 0, set()
            else:  # the whole page shares the cursor's instant: step over it by offset
                instant, offset, keys = (
                    position.instant,
                    position.offset + len(page),
                    set(position.keys),
                )
            keys.update(self.record_key(r) for r in page if parse_instant(r[field]) == instant)
            return KeysetPosition(instant, offset, frozenset(keys))

        for position, page in self._read_ahead(KeysetPosition(since), query_at, after):
            for record in page:
                if position.instant is not None:
                    instant = parse_instant(record[field])
                    if instant < position.instant:
                        continue  # older than what we asked for: never move backwards
                    if instant == position.instant and self.record_key(record) in position.keys:
                        continue  # a boundary repeat: emitted from the previous page
                yield record

    def iter_in_stable_order(
        self,
        sort: str,
        since: datetime | None,
        params: Mapping[str, Any] | None = None,
        *,
        server_filter: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Yield the list's records updated at or after ``since``, paging by offset over ``sort``.

        ``sort`` must be an order that updates do not change (creation order), so offsets stay
        valid while records change. With ``server_filter`` the API filters on ``updated_after``;
        the replication key is checked here as well, so an API without the filter is safe too.
        """
        query = {**(params or {}), "sort": sort}
        if since is not None and server_filter:
            query["updated_after"] = to_utc_iso(since - RESOLUTION)
        for page in self._pages_by_offset(query):
            for record in page:
                updated = record.get(self.replication_key)
                # A record without the timestamp cannot be placed: emit it rather than lose it.
                if since is None or updated is None or parse_instant(updated) >= since:
                    yield record

    def iter_all(self, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every record of a small full-table list."""
        for page in self._pages_by_offset(params or {}):
            yield from page

    def _pages_by_offset(self, query: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        def query_at(offset: int) -> dict[str, Any]:
            return {**query, "limit": MAX_PAGE_SIZE, "offset": offset}

        def after(offset: int, page: list[dict[str, Any]]) -> int | None:
            return offset + len(page) if len(page) == MAX_PAGE_SIZE else None

        for _, page in self._read_ahead(0, query_at, after):
            yield page

    def _read_ahead(
        self,
        start: Position,
        query_at: Callable[[Position], Mapping[str, Any]],
        after: Callable[[Position, list[dict[str, Any]]], Position | None],
    ) -> Iterator[tuple[Position, list[dict[str, Any]]]]:
        """Yield ``(position, page)`` pairs, requesting the next page while this one is used.

        One request ahead overlaps Ordoro's latency with the SDK's work on the records. A page
        is only requested once the one before it came back full, so no request is wasted;
        ``after`` says where the next page starts, or None at the end.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-page") as pool:
            position = start
            pending = pool.submit(self._get_page, query_at(position))
            while True:
                page = pending.result()
                following = after(position, page)
                if following is not None:
                    pending = pool.submit(self._get_page, query_at(following))
                yield position, page
                if following is None:
                    return
                position = following

    def _get_page(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        body = self.client.get(self.path, query)
        self._note_page()
        return list((body or {}).get(self.list_key) or [])

    def _note_page(self) -> None:
        self._pages += 1
        self._log_progress()

    def _log_progress(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last_progress_log >= PROGRESS_LOG_INTERVAL:
            self._last_progress_log = now
            self.logger.info(
                "%s: %d pages read, %d records emitted%s",
                self.name,
                self._pages,
                self._records,
                " (done)" if final else " so far",
            )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self._pages = self._records = 0
        for record in self.read(context):
            self._records += 1
            yield record
        self._log_progress(final=True)

    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield this stream's records: the whole table, or keyset-like on the replication key."""
        if self.replication_key is None:
            return self.iter_all()
        return self.iter_by_cursor(self.replication_key, self.starting_instant(context))
