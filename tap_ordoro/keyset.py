"""Keyset-like reading of a list sorted by its replication key (orders, shipments, purchase
orders); the scheme and why is :mod:`tap_ordoro.paging`'s docstring.

* *Bulk actions.* One bulk action stamps hundreds of rows with one instant, so a run of equal
  instants can be longer than a page, and the cursor cannot move past it. Such a run is read as
  its own list: only that instant (``updated_after``/``updated_before`` around it), sorted by
  the unique key, paged by offset, and read again until one pass sees a consistent snapshot
  (the same ``count`` on every page, and that many records read). A member that leaves the run
  while we page (it was updated) shifts the others, so a pass can skip one; the next pass sees
  it. A member that left is emitted again later, at its new instant.
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

Windows read in parallel, and a resume reading only the gaps, are :mod:`tap_ordoro.windows`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.inflight import when_sent
from ordoro_core.pacing import pace_priority
from ordoro_core.timestamps import RESOLUTION, AccountZone
from tap_ordoro.coverage import Range, usable_ranges
from tap_ordoro.narrowing import from_both_ends
from tap_ordoro.paging import Fetch, ListTerms, Page, PagingError, Record
from tap_ordoro.windows import Batch, ParallelWindows, Window, pages_left


@dataclass
class KeysetReader(ParallelWindows):
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
    #: What the list's answers taught (page size, refused offsets; see ListTerms).
    terms: ListTerms = field(default_factory=ListTerms)
    #: Writes filter values so that both readings of a UTC offset give one instant.
    zone: AccountZone = field(default_factory=AccountZone)
    _windows: list[Window] = field(default_factory=list, init=False, repr=False)

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
        query = self._query(since, strictly_after=False)
        first = self._fetch(query)
        if self._read_earlier(first, since):
            refined = self._query(since, strictly_after=False)
            if refined != query:  # the account's offset is known now: ask again with it
                query, first = refined, self._fetch(refined)
        whole = Window(0, since, True, None, first_page=first)
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

    def _chain(self, window: Window) -> Iterator[Batch]:
        """Read one window keyset-like; the last batch says ``done``."""
        cursor = window.lower
        seen: set[Hashable] = set()  # keys emitted at exactly `cursor`
        strictly_after = not window.lower_inclusive and cursor is not None
        page = window.first_page
        window.first_page = None
        ending = False  # the next page ends the window (its count says so)
        asked: dict[str, Any] | None = None
        gate = window.gate
        # What the next page's ``count`` is if no record leaves the window's unread range
        # meanwhile (None: not known), and whether this page answered after the end page went
        # out (see tap_ordoro.end_page).
        promised: int | None = None
        after_end_page = False
        own_query = False  # the page answers this window's own query (not its probe)
        left = window.planned  # records the window has left to read (None: not known)
        while True:
            if page is None:
                announce = None
                if ending and gate is not None:
                    if window.ends_list:
                        gate.wait_to_send_end_page()
                        announce = gate.end_request
                    else:
                        announce = gate.last_request(window.index)
                query = self._query(cursor, strictly_after, window.upper)
                if query == asked:
                    raise PagingError(
                        f"{self.terms.name}: a full page brought nothing new and the next query "
                        f"would be the same ({query}); the bookmark stays before "
                        f"{cursor.isoformat() if cursor else 'the first record'}"
                    )
                with when_sent(announce), pace_priority(pages_left(left, self.terms.size)):
                    page, asked = self._fetch(query), query
                own_query = True
                after_end_page = gate is not None and gate.end_page_sent()
                if strictly_after and self._returned_cursor(page, cursor):
                    continue  # learnt that the API includes the instant: ask again
                left = promised is None or page.count is None or page.count < promised
                if after_end_page and left and not window.ends_list:
                    gate.departed()
                promised = None
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
            disorder_free = False
            if fresh:
                last_fresh = self.instant_of(fresh[-1])
                if cursor is None or last_fresh > cursor:
                    cursor, seen, strictly_after = last_fresh, set(), False
                in_order = self._not_past_disorder(page, cursor, before)
                disorder_free, cursor = in_order == cursor, in_order
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
                again = window.ends_list and gate is not None and gate.read_again()
                if again:
                    # Records that left another window are past where this one stands now.
                    self.terms.log.info("%s: %s; reading the end once more", self.terms.name, again)
                    yield Batch(window.index, fresh, cursor, False)
                    page, asked, ending = None, None, True
                    continue
                yield Batch(window.index, fresh, cursor, True)
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
            if left is not None:
                left -= len(fresh)
            if page.count is not None:
                remaining = page.count - page.offset - len(records) + len(seen)
                ending = remaining <= self.terms.size
                if own_query or window.upper is None:
                    left = remaining
                # A page of the window's own query (at offset 0, not its probe) whose cursor
                # moved in order: the next one, from the new cursor, counts what is left.
                if own_query and cursor != before and disorder_free and not strictly_after:
                    promised = remaining
            if before is not None and last == before and not strictly_after:
                # A full page made of the cursor's instant only: a run longer than a page.
                yield Batch(window.index, fresh, cursor, False)
                for tied in self._drain_run(cursor, seen):
                    yield Batch(window.index, tied, cursor, False)
                strictly_after = True
            else:
                yield Batch(window.index, fresh, cursor, False)
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
