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
  instants are cut into windows of about equal size with one probe per boundary (``offset`` =
  a share of ``count``, ``limit=100``: the probe is also the window's first page), and each
  window is read keyset-like on its own thread, starting as soon as the probes that bound it
  are back. Boundaries fall at multiples of 99 records (a keyset page after a window's first
  brings 99 new ones), so a window's last page is full and its ``count`` says the window is
  complete: the windows together cost what one chain would, not a short page more each.
  Records are emitted as windows deliver them; :attr:`KeysetReader.watermark` is the instant
  below which every record has been emitted (the position of the first window not finished),
  which is what a bookmark may say, and :meth:`KeysetReader.coverage` what else has been
  delivered above it (windows finished or partly read).
* *Resuming.* Given the ranges a killed run had delivered above its bookmark
  (``batches(since, skip=...)``), only the gaps between them are read, each as a window of its
  own, in parallel: a resume reads again what was in flight, not every window past the first
  unfinished one.
* *Undocumented inclusivity.* Whether ``updated_after`` and ``updated_before`` include their
  instant is not documented. Queries are written to be right either way ("at or after T" is
  ``updated_after = T - 1µs``); the one query that needs "strictly after T" (stepping past a run
  it has read) learns the API's behaviour from the answer.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.timestamps import RESOLUTION, to_utc_iso
from tap_ordoro.coverage import Coverage, Piece, Range, join_pieces, usable_ranges
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
    #: Delivered by an earlier run (``batches(skip=...)``): not read, done from the start.
    skipped: bool = False
    #: Where the window's first page (a probe) starts in the whole list.
    first_offset: int = 0
    #: The window with no end waits here before the page that ends the list, until every
    #: other window is done (see :meth:`KeysetReader._read_windows`).
    hold_end: Callable[[], None] | None = None

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
    concurrency: int = 1
    page_size: int = MAX_PAGE_SIZE
    max_tie_passes: int = 20
    #: Every record with an instant below this one has been emitted (None: nothing yet).
    watermark: datetime | None = None
    #: Learnt from an answer: whether ``updated_after`` includes its own instant.
    after_is_inclusive: bool | None = None
    _windows: list[_Window] = field(default_factory=list, init=False, repr=False)

    def batches(self, since: datetime | None, skip: Sequence[Range] = ()) -> Iterator[list[Record]]:
        """Yield the records in batches (one per page read), each record once per instant.

        ``skip``: open ranges of instants above ``since`` that an earlier run delivered whole
        (its :meth:`coverage`); only the gaps between them are read.
        """
        self.watermark = since
        skipped = usable_ranges(skip, since)
        if skipped:
            yield from self._read_windows(self._gaps_around(since, skipped), lambda _: True)
            return
        first = self.fetch(self._query(since, strictly_after=False))
        whole = _Window(0, since, True, None, first_page=first)
        offsets = self._probe_offsets(first)
        if not offsets:
            yield from self._sequential(whole)
        else:
            yield from self._parallel(whole, self._query(since, strictly_after=False), offsets)

    def coverage(self) -> Coverage:
        """What has been delivered so far, as of the last batch yielded (a snapshot for the
        STATE: call it between batches, on the thread that reads them)."""
        windows = self._windows
        first_open = next((i for i, window in enumerate(windows) if not window.done), None)
        if first_open is None:
            return Coverage(self.watermark)
        pieces = (_delivered(window) for window in windows[first_open + 1 :])
        return Coverage(self.watermark, join_pieces(piece for piece in pieces if piece))

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
        shares = min(self.concurrency, pages // 2)
        if shares <= 1 or len(first.records) < self.page_size:
            return []
        step = self.page_size - 1
        aligned = {round(count * share / shares / step) * step for share in range(1, shares)}
        return sorted(aligned - {0})

    def _gaps_around(self, since: datetime | None, skipped: list[Range]) -> list[_Window]:
        """The windows of a resumed read: each gap between the ranges delivered before (both
        ends included), and those ranges as windows already done."""
        windows: list[_Window] = []
        lower = since
        for low, high in skipped:
            windows.append(_Window(len(windows), lower, True, low))
            windows.append(
                _Window(len(windows), low, False, high, cursor=high, done=True, skipped=True)
            )
            lower = high
        windows.append(_Window(len(windows), lower, True, None))
        return windows

    # -- reading -----------------------------------------------------------------------

    def _sequential(self, window: _Window) -> Iterator[list[Record]]:
        self._windows = [window]
        for batch in self._chain(window):
            window.cursor = batch.cursor
            window.done = batch.done
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
        with ThreadPoolExecutor(len(offsets), thread_name_prefix="ordoro-probe") as probing:
            probes = [
                probing.submit(self.fetch, {**probe_query, "offset": offset}) for offset in offsets
            ]

            def bound(window: _Window) -> bool:
                """Place a window between the probes that bound it; False when it is empty."""
                last = window.index == len(probes)
                lower = self._boundary(probes, window.index) if window.index else window.lower
                upper = None if last else self._boundary(probes, window.index + 1)
                if window.index:
                    window.first_page = probes[window.index - 1].result()
                    window.first_offset = offsets[window.index - 1]
                empty = lower is _END or (
                    window.index > 0 and upper not in (None, _END) and upper <= lower
                )
                if empty:  # the list ended before it, or a run of one instant spans it
                    return False
                window.lower, window.upper = lower, None if upper is _END else upper
                return True

            yield from self._read_windows(windows, bound)

    def _read_windows(
        self, windows: list[_Window], bound: Callable[[_Window], bool]
    ) -> Iterator[list[Record]]:
        """Read each window not done on a thread of its own (``bound`` places it first, or
        says it is empty); yield batches as they come, the watermark kept up to date."""
        self._windows = windows
        reading = [window for window in windows if not window.done]
        handoff: queue.Queue[_Batch | BaseException] = queue.Queue(maxsize=len(windows))
        stop = threading.Event()
        others_done = threading.Event()

        def hold_end() -> None:
            """Records the other windows have not read yet may move to the end of the list
            while they read (they were updated): the page that ends the list is asked for once
            the other windows are done, so that it holds them. No request is added."""
            while not (others_done.wait(0.1) or stop.is_set()):
                continue

        open_end = windows[-1]
        if len(reading) > 1 and open_end.upper is None:
            open_end.hold_end = hold_end

        def deliver(item: _Batch | BaseException) -> None:
            """Hand over, unless the consumer has stopped (then the queue may stay full)."""
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def run(window: _Window) -> None:
            try:
                if not bound(window):
                    deliver(_Batch(window.index, [], None, True))
                    return
                for batch in self._chain(window):
                    if stop.is_set():
                        return
                    deliver(batch)
            except BaseException as error:  # handed to the consumer, which raises it
                deliver(error)

        workers = max(1, len(reading))
        with ThreadPoolExecutor(workers, thread_name_prefix="ordoro-window") as pool:
            for window in reading:
                pool.submit(run, window)
            try:
                remaining = len(reading)
                while remaining:
                    item = handoff.get()
                    if isinstance(item, BaseException):
                        raise item
                    window = windows[item.window]
                    window.cursor = item.cursor or window.cursor
                    window.done = item.done
                    remaining -= item.done
                    if all(other.done for other in windows if other is not open_end):
                        others_done.set()
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
        ending = False  # the next page ends the list (its count says so)
        while True:
            if page is None:
                if ending and window.hold_end is not None:
                    window.hold_end()
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
            if page.count is not None:
                offset = window.first_offset if page is window_probe else 0
                ending = page.count - offset - len(records) + len(seen) <= self.page_size
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


def _delivered(window: _Window) -> Piece | None:
    """What a window has delivered: ``(low, low included, high, high included)``."""
    if window.lower is None or window.lower is _END:
        return None
    if window.skipped and window.upper is not None:
        return window.lower, False, window.upper, False
    if window.done:
        high = window.upper if window.upper is not None else window.cursor
        if high is None:
            return None
        return window.lower, window.lower_inclusive, high, True
    if window.cursor is None:
        return None
    return window.lower, window.lower_inclusive, window.cursor, False
