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
  which is what a bookmark may say.
* *Undocumented inclusivity.* Whether ``updated_after`` and ``updated_before`` include their
  instant is not documented. Queries are written to be right either way ("at or after T" is
  ``updated_after = T - 1µs``); the one query that needs "strictly after T" (stepping past a run
  it has read) learns the API's behaviour from the answer.
* *Nothing else assumed either* (see :class:`~tap_ordoro.paging.ListTerms`). The page size,
  window boundaries and "a full page" are the page size the list serves, learnt from its first
  answer; a window is complete when ``count`` says so, never because a page was short. Filter
  values are written by :class:`~ordoro_core.timestamps.AccountZone`, so that they mean the
  same instant whether the API reads their offset or their wall time in the account's zone;
  the first, written before any record was seen, is on the safe side, and if its answer shows
  records before it (the API read it as an earlier instant) it is asked again in the account's
  offset. A probe whose offset the API refuses ends the windows there: the window before it
  reads on to the end, keyset-like, at offset 0. A run of one instant longer than the API
  serves by offset is read from both ends (the tie sort ascending, then descending).
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
from ordoro_core.timestamps import RESOLUTION, AccountZone
from tap_ordoro.narrowing import from_both_ends
from tap_ordoro.paging import Fetch, ListTerms, OffsetRefused, Page, PagingError, Record

#: A probe past the end of the list (or past the offsets it serves): the window it would
#: start is empty.
_END = object()


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
    concurrency: int = 1
    page_size: int = MAX_PAGE_SIZE
    max_tie_passes: int = 20
    #: Every record with an instant below this one has been emitted (None: nothing yet).
    watermark: datetime | None = None
    #: Learnt from an answer: whether ``updated_after`` includes its own instant.
    after_is_inclusive: bool | None = None
    #: What the list's answers taught (page size, refused offsets; see ListTerms).
    terms: ListTerms = field(default_factory=ListTerms)
    #: Writes filter values so that both readings of a UTC offset give one instant.
    zone: AccountZone = field(default_factory=AccountZone)

    def batches(self, since: datetime | None) -> Iterator[list[Record]]:
        """Yield the records in batches (one per page read), each record once per instant."""
        self.watermark = since
        query = self._query(since, strictly_after=False)
        first = self._fetch(query)
        if self._read_earlier(first, since):
            refined = self._query(since, strictly_after=False)
            if refined != query:  # the account's offset is known now: ask again with it
                query, first = refined, self._fetch(refined)
        whole = _Window(0, since, True, None, first_page=first)
        offsets = self._probe_offsets(first)
        if not offsets:
            yield from self._sequential(whole)
        else:
            yield from self._parallel(whole, query, offsets)

    def _fetch(self, query: Mapping[str, Any]) -> Page:
        """One page; what it says of the list's page size and the account's zone is learnt."""
        page = self.fetch(query)
        self.terms.learn(page)
        if page.records:
            self.zone.observe(self.instant_of(page.records[0]))
            self.zone.observe(self.instant_of(page.records[-1]))
        return page

    def _read_earlier(self, page: Page, since: datetime | None) -> bool:
        """Whether an answer to "at or after ``since``" holds records from before it: the API
        read the filter value as an earlier instant than it says (see AccountZone)."""
        if since is None or not page.records:
            return False
        earliest = self.instant_of(page.records[0])
        if earliest >= since - RESOLUTION:
            return False
        self.terms.contradiction(
            "filter reading",
            f"{self.terms.name}: asked for records updated at or after {since.isoformat()}, "
            f"got some from {earliest.isoformat()}: the API reads a filter value's wall time, "
            "not its UTC offset; filter values are written in the account's own offset",
        )
        return True

    # -- planning ----------------------------------------------------------------------

    def _probe_offsets(self, first: Page) -> list[int]:
        """Where the windows after the first one start (none: read as one window).

        The windows are of about equal size, and each holds a whole number of pages: a window
        read keyset-like gets ``page_size - 1`` new records a page (the cursor's record comes
        back first), so its boundaries are at multiples of that, and its last page is a full
        one whose ``count`` says the window is complete, with no short page to ask for.
        """
        size = self.terms.size
        count = int(first.count or 0)
        pages = math.ceil(count / size)
        # At least two pages a window: a window's later pages carry its own ``count``; one
        # whose only page is its probe would need a page more to learn that it is complete.
        shares = min(self.concurrency, pages // 2)
        if shares <= 1 or not self.terms.full(first):
            return []
        step = size - 1
        aligned = {round(count * share / shares / step) * step for share in range(1, shares)}
        return sorted(offset for offset in aligned - {0} if self.terms.serves_offset(offset))

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
                empty = lower is _END or (
                    window.index > 0 and upper not in (None, _END) and upper <= lower
                )
                if empty:  # the list ended before it, or a run of one instant spans it
                    deliver(_Batch(window.index, [], None, True))
                    return
                if window.index:
                    window.first_page = probes[window.index - 1].result()
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
                probing.submit(self._fetch, {**probe_query, "offset": offset}) for offset in offsets
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
            try:
                page = probe.result()
            except OffsetRefused as refused:
                self.terms.refused(refused.offset)
                return _END
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
        page = window.first_page
        window.first_page = None
        asked: dict[str, Any] | None = None
        while True:
            if page is None:
                query = self._query(cursor, strictly_after, window.upper)
                if query == asked:
                    raise PagingError(
                        f"{self.terms.name}: a full page brought nothing new and the next query "
                        f"would be the same ({query}); the bookmark stays before "
                        f"{cursor.isoformat() if cursor else 'the first record'}"
                    )
                page, asked = self._fetch(query), query
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
                cursor = self._not_past_disorder(page, cursor, before)
                seen.update(self.key_of(r) for r in fresh if self.instant_of(r) == cursor)
            if cursor != before:
                asked = None  # the cursor moved: the next query is a new one
            records = page.records
            full = self.terms.full(page)
            last = self.instant_of(records[-1]) if records else None
            beyond = last is not None and window.upper is not None and last > window.upper
            # ``count`` says nothing follows this page: for a page of this window's own query
            # (at offset 0) the window is complete; for its probe (a share of the whole list's
            # query) the list ended in it.
            complete = page.count is not None and page.count <= page.offset + len(records)
            if complete or beyond or (not full and page.count is None):
                yield _Batch(window.index, fresh, cursor, True)
                return
            if not records:
                raise PagingError(
                    f"{self.terms.name}: an empty page where count says {page.count}; the "
                    f"bookmark stays before {cursor.isoformat() if cursor else 'the first record'}"
                )
            if not full:
                self.terms.contradiction(
                    "short page",
                    f"{self.terms.name}: a page of {len(records)} records where count says "
                    f"{page.count}; reading on from the last record rather than ending there",
                )
            if before is not None and last == before and not strictly_after:
                # A full page made of the cursor's instant only: a run longer than a page.
                yield _Batch(window.index, fresh, cursor, False)
                for tied in self._drain_run(cursor, seen):
                    yield _Batch(window.index, tied, cursor, False)
                strictly_after = True
            else:
                yield _Batch(window.index, fresh, cursor, False)
            page = None

    def _not_past_disorder(self, page: Page, cursor: datetime, before: datetime | None) -> datetime:
        """The cursor, or an earlier instant (not before ``before``, where it stood) when the
        page is not in the requested order.

        Records after the first one out of order may be followed, on later pages, by records
        earlier than the page's last: the cursor moves no further than the earliest record
        from there on (what is read again is emitted again, never lost).
        """
        instants = [self.instant_of(record) for record in page.records]
        disorder = next(
            (index for index in range(1, len(instants)) if instants[index] < instants[index - 1]),
            None,
        )
        if disorder is None:
            return cursor
        self.terms.contradiction(
            "sort order",
            f"{self.terms.name}: records out of the requested order ({self.sort_field}); the "
            "cursor stays at the earliest record after the first one out of order",
        )
        earliest = min(cursor, min(instants[disorder:]))
        return earliest if before is None else max(before, earliest)

    def _drain_run(self, instant: datetime, seen: set[Hashable]) -> Iterator[list[Record]]:
        """Every record stamped exactly ``instant`` not in ``seen`` (which it fills).

        Read by offset over the tie sort; where the API refuses an offset (a result window),
        the rest of the pass is read from the other end (the tie sort descending) until the
        two ends meet.
        """
        query = {
            **self.base,
            "sort": self.tie_sort,
            "limit": self.page_size,
            "updated_after": self.zone.lower(instant - RESOLUTION),
            "updated_before": self.zone.upper(instant + RESOLUTION),
        }
        stalled = 0
        smallest: int | None = None
        while True:
            counts: list[int | None] = []
            passed: set[Hashable] = set()  # the keys this pass read
            ends = from_both_ends(
                self._fetch, query, self.tie_sort, self.key_of, self.terms, passed
            )
            for page in ends:
                counts.append(page.count)
                fresh = [
                    record
                    for record in page.records
                    if self.instant_of(record) == instant and self.key_of(record) not in seen
                ]
                seen.update(self.key_of(record) for record in fresh)
                if fresh:
                    yield fresh
            if None not in counts and len(set(counts)) == 1 and counts[0] == len(passed):
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
                query["updated_after"] = self.zone.lower(since - RESOLUTION)
            elif self.after_is_inclusive:
                query["updated_after"] = self.zone.lower(since + RESOLUTION)
            else:
                query["updated_after"] = self.zone.lower(since)
        if until is not None:
            query["updated_before"] = self.zone.upper(until + RESOLUTION)
        return query
