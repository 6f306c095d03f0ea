"""Keyset-like reading of a list sorted by its replication key (orders, shipments, purchase
orders); the scheme and why is :mod:`tap_ordoro.paging`'s docstring.

* *Bulk actions.* One bulk action stamps hundreds of rows with one instant, so a run of equal
  instants can be longer than a page, and the cursor cannot move past it. Such a run is read as
  its own list: only that instant (``updated_after``/``updated_before`` around it), sorted by
  the unique key, paged by offset, and read again until one pass sees a consistent snapshot
  (the same ``count`` on every page, and that many records read). A member that leaves the run
  while we page (it was updated) shifts the others, so a pass can skip one; the next pass sees
  it. A member that left is emitted again later, at its new instant.
* *Windows in parallel.* With ``concurrency`` > 1 and at least four pages to read, the
  instants are cut into windows, as many as the requests the API client allows in flight
  when the first page is back (``allowance``, which follows the latency), within
  ``concurrency``, of about equal size with one probe per boundary (``offset`` =
  a share of ``count``, ``limit=100``: the probe is also the window's first page), and each
  window is read keyset-like on its own thread, starting as soon as the probes that bound it
  are back. Boundaries fall at multiples of 99 records (a keyset page after a window's first
  brings 99 new ones), so a window's last page is full and its ``count`` says the window is
  complete: the windows together cost what one chain would, not a short page more each.
  Records are emitted as windows deliver them; :attr:`KeysetReader.watermark` is the instant
  below which every record has been emitted (the position of the first window not finished),
  which is what a bookmark may say.
* *Undocumented inclusivity.* Whether ``updated_after`` and ``updated_before`` include their
  instant is not documented. Queries are written to be right either way ("at or after T" is
  ``updated_after = T - 1µs``); the one query that needs "strictly after T" (stepping past a run
  it has read) learns the API's behaviour from the answer.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.timestamps import RESOLUTION, to_utc_iso
from tap_ordoro.paging import Fetch, Page, PagingError, Record

#: A probe past the end of the list: the window it would start is empty.
_END = object()


def _param(instant: datetime) -> str:
    return to_utc_iso(instant)


@dataclass
class _Window:
    """One slice of instants a keyset chain reads: ``lower`` < (or <=) instant <= ``upper``."""

    index: int
    lower: datetime | None
    lower_inclusive: bool
    upper: datetime | None
    #: Where the chain stands: the last instant it emitted (None before its first record).
    cursor: datetime | None = None
    done: bool = False
    first_page: Page | None = None

    def contains(self, instant: datetime) -> bool:
        """Whether ``instant`` belongs to this window."""
        if self.upper is not None and instant > self.upper:
            return False
        if self.lower is None:
            return True
        return instant > self.lower or (instant == self.lower and self.lower_inclusive)


@dataclass(frozen=True)
class _Batch:
    """What a chain hands the consumer: records and where its window stands after them."""

    window: int
    records: list[Record]
    cursor: datetime | None
    done: bool


@dataclass
class KeysetReader:
    """Reads the records with ``instant_of(record) >= since`` keyset-like (see module docstring).

    ``fetch`` gets one page; ``base`` holds the query parameters every request carries (a
    status filter, ...); ``sort_field`` is the API's ascending sort on the instant;
    ``tie_sort`` an ascending sort on a unique field, used inside a run of equal instants.
    """

    fetch: Fetch
    sort_field: str
    tie_sort: str
    instant_of: Callable[[Record], datetime]
    key_of: Callable[[Record], Hashable]
    base: Mapping[str, Any] = field(default_factory=dict)
    #: The most windows read at once (the ceiling on requests in flight).
    concurrency: int = 1
    #: How many requests the client allows in flight now (None: ``concurrency``): the number
    #: of windows is planned with it once the first page is back.
    allowance: Callable[[], int] | None = None
    page_size: int = MAX_PAGE_SIZE
    max_tie_passes: int = 20
    #: Every record with an instant below this one has been emitted (None: nothing yet).
    watermark: datetime | None = None
    #: Learnt from an answer: whether ``updated_after`` includes its own instant.
    after_is_inclusive: bool | None = None

    def batches(self, since: datetime | None) -> Iterator[list[Record]]:
        """Yield the records in batches (one per page read), each record once per instant."""
        self.watermark = since
        first = self.fetch(self._query(since, strictly_after=False))
        whole = _Window(0, since, True, None, first_page=first)
        offsets = self._probe_offsets(first)
        if not offsets:
            yield from self._sequential(whole)
        else:
            yield from self._parallel(whole, self._query(since, strictly_after=False), offsets)

    # -- planning ----------------------------------------------------------------------

    def _probe_offsets(self, first: Page) -> list[int]:
        """Where the windows after the first one start (none: read as one window).

        The windows are of about equal size, and each holds a whole number of pages: a window
        read keyset-like gets ``page_size - 1`` new records a page (the cursor's record comes
        back first), so its boundaries are at multiples of that, and its last page is a full
        one whose ``count`` says the window is complete, with no short page to ask for.
        """
        count = int(first.count or 0)
        pages = math.ceil(count / self.page_size)
        # At least two pages a window: a window's later pages carry its own ``count``; one
        # whose only page is its probe would need a page more to learn that it is complete.
        parallel = self.concurrency if self.allowance is None else self.allowance()
        shares = min(self.concurrency, parallel, pages // 2)
        if shares <= 1 or len(first.records) < self.page_size:
            return []
        step = self.page_size - 1
        # Rounded up: what does not divide evenly goes to the first windows, not the last,
        # which reads to the end of the list and is the one left alone when it runs late.
        aligned = {math.ceil(count * share / shares / step) * step for share in range(1, shares)}
        return sorted(aligned - {0})

    # -- reading -----------------------------------------------------------------------

    def _sequential(self, window: _Window) -> Iterator[list[Record]]:
        for batch in self._chain(window):
            window.cursor = batch.cursor
            if batch.cursor is not None:
                self.watermark = batch.cursor
            yield batch.records

    def _parallel(
        self, whole: _Window, probe_query: Mapping[str, Any], offsets: list[int]
    ) -> Iterator[list[Record]]:
        """Read every window on its own thread; yield batches as they come.

        The probes (one page at each offset, each the first page of its window) are asked for
        in order, and a window starts as soon as the probes that bound it are back, not when
        all of them are: no slot of the rate limit is left unused while the last probes travel.
        """
        if whole.lower is None and whole.first_page is not None and whole.first_page.records:
            # A first sync: the first window starts at the list's first instant, so that the
            # watermark has a position (below it nothing exists) before that window emits.
            whole.lower = self.instant_of(whole.first_page.records[0])
        windows = [whole] + [
            _Window(index, None, False, None) for index in range(1, len(offsets) + 1)
        ]
        handoff: queue.Queue[_Batch | BaseException] = queue.Queue(maxsize=len(windows))
        stop = threading.Event()

        def deliver(item: _Batch | BaseException) -> None:
            """Hand over, unless the consumer has stopped (then the queue may stay full)."""
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def run(window: _Window, probes: list[Future[Page]]) -> None:
            try:
                last = window.index == len(probes)
                lower = self._boundary(probes, window.index) if window.index else window.lower
                upper = None if last else self._boundary(probes, window.index + 1)
                if window.index:
                    window.first_page = probes[window.index - 1].result()
                empty = lower is _END or (
                    window.index > 0 and upper not in (None, _END) and upper <= lower
                )
                if empty:  # the list ended before it, or a run of one instant spans it
                    deliver(_Batch(window.index, [], None, True))
                    return
                window.lower, window.upper = lower, None if upper is _END else upper
                for batch in self._chain(window):
                    if stop.is_set():
                        return
                    deliver(batch)
            except BaseException as error:  # handed to the consumer, which raises it
                deliver(error)

        with (
            ThreadPoolExecutor(len(offsets), thread_name_prefix="ordoro-probe") as probing,
            ThreadPoolExecutor(len(windows), thread_name_prefix="ordoro-window") as reading,
        ):
            probes = [
                probing.submit(self.fetch, {**probe_query, "offset": offset}) for offset in offsets
            ]
            for window in windows:
                reading.submit(run, window, probes)
            try:
                remaining = len(windows)
                while remaining:
                    item = handoff.get()
                    if isinstance(item, BaseException):
                        raise item
                    window = windows[item.window]
                    window.cursor = item.cursor or window.cursor
                    window.done = item.done
                    remaining -= item.done
                    self._advance_watermark(windows)
                    if item.records:
                        yield item.records
            finally:
                stop.set()  # chains waiting to hand over give up (see deliver)

    def _boundary(self, probes: list[Future[Page]], index: int) -> Any:
        """Where window ``index`` starts (and the one before ends): the first instant of its
        probe, or of an earlier one if that is later (a list changing between probes must not
        give overlapping windows); ``_END`` when a probe came back empty (the list is shorter
        than planned: the windows from there on are empty, the one before has no end)."""
        boundary = None
        for probe in probes[:index]:
            page = probe.result()
            if not page.records:
                return _END
            instant = self.instant_of(page.records[0])
            if boundary is None or instant > boundary:
                boundary = instant
        return boundary

    def _advance_watermark(self, windows: list[_Window]) -> None:
        """The watermark stands at the first window not finished."""
        for window in windows:
            if not window.done:
                position = window.cursor or window.lower
                if position is not None:
                    self.watermark = position
                return
        reached = [window.cursor or window.lower for window in windows]
        known = [instant for instant in reached if instant is not None]
        if known:
            self.watermark = max(known)

    def _chain(self, window: _Window) -> Iterator[_Batch]:
        """Read one window keyset-like; the last batch says ``done``."""
        cursor = window.lower
        seen: set[Hashable] = set()  # keys emitted at exactly `cursor`
        strictly_after = not window.lower_inclusive and cursor is not None
        page = window_probe = window.first_page
        window.first_page = None
        while True:
            if page is None:
                page = self.fetch(self._query(cursor, strictly_after, window.upper))
                if strictly_after and self._returned_cursor(page, cursor):
                    continue  # learnt that the API includes the instant: ask again
            before = cursor
            fresh = []
            for record in page.records:
                instant = self.instant_of(record)
                if not window.contains(instant):
                    continue
                if cursor is not None and (
                    instant < cursor
                    or (instant == cursor and (strictly_after or self.key_of(record) in seen))
                ):
                    continue
                fresh.append(record)
            if fresh:
                last_fresh = self.instant_of(fresh[-1])
                if cursor is None or last_fresh > cursor:
                    cursor, seen, strictly_after = last_fresh, set(), False
                seen.update(self.key_of(r) for r in fresh if self.instant_of(r) == cursor)
            records = page.records
            full = len(records) == self.page_size
            last = self.instant_of(records[-1]) if records else None
            beyond = last is not None and window.upper is not None and last > window.upper
            # A page of this window's own query whose ``count`` it holds whole: nothing after it.
            complete = (
                page is not window_probe and page.count is not None and (page.count <= len(records))
            )
            if not full or beyond or complete:
                yield _Batch(window.index, fresh, cursor, True)
                return
            if before is not None and last == before and not strictly_after:
                # A full page made of the cursor's instant only: a run longer than a page.
                yield _Batch(window.index, fresh, cursor, False)
                for tied in self._drain_run(cursor, seen):
                    yield _Batch(window.index, tied, cursor, False)
                strictly_after = True
            else:
                yield _Batch(window.index, fresh, cursor, False)
            page = None

    def _drain_run(self, instant: datetime, seen: set[Hashable]) -> Iterator[list[Record]]:
        """Every record stamped exactly ``instant`` not in ``seen`` (which it fills)."""
        query = {
            **self.base,
            "sort": self.tie_sort,
            "limit": self.page_size,
            "updated_after": _param(instant - RESOLUTION),
            "updated_before": _param(instant + RESOLUTION),
        }
        stalled = 0
        smallest: int | None = None
        while True:
            counts: list[int | None] = []
            read = 0
            while True:
                page = self.fetch({**query, "offset": read})
                counts.append(page.count)
                read += len(page.records)
                fresh = [
                    record
                    for record in page.records
                    if self.instant_of(record) == instant and self.key_of(record) not in seen
                ]
                seen.update(self.key_of(record) for record in fresh)
                if fresh:
                    yield fresh
                if len(page.records) < self.page_size:
                    break
            if None not in counts and len(set(counts)) == 1 and counts[0] == read:
                return  # one consistent snapshot of the run was read whole
            # Members leave a run only once (their new instant is another), so a run that
            # keeps shrinking ends; one that keeps changing without shrinking is given up on.
            low = min(count for count in counts if count is not None) if any(counts) else None
            if low is not None and (smallest is None or low < smallest):
                smallest, stalled = low, 0
            else:
                stalled += 1
            if stalled >= self.max_tie_passes:
                break
        raise PagingError(
            f"the {len(seen)} records stamped {instant.isoformat()} kept changing over "
            f"{self.max_tie_passes} passes; the bookmark stays before them, run again later"
        )

    def _returned_cursor(self, page: Page, cursor: datetime | None) -> bool:
        """After asking for records strictly after ``cursor``: did the API include it?"""
        if cursor is None or self.after_is_inclusive is not None:
            return False
        included = any(self.instant_of(record) <= cursor for record in page.records)
        self.after_is_inclusive = included
        return included

    def _query(
        self,
        since: datetime | None,
        strictly_after: bool,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {
            **self.base,
            "sort": self.sort_field,
            "limit": self.page_size,
            "offset": 0,
        }
        if since is not None:
            if not strictly_after:
                query["updated_after"] = _param(since - RESOLUTION)
            elif self.after_is_inclusive:
                query["updated_after"] = _param(since + RESOLUTION)
            else:
                query["updated_after"] = _param(since)
        if until is not None:
            query["updated_before"] = _param(until + RESOLUTION)
        return query
