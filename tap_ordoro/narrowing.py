"""Reading a filtered list in time ranges small enough to page by offset.

Some list APIs refuse offsets past a result window (a 400 naming ``offset``; many stop at
10,000). A list read by offset in creation order (products) cannot reach its records past the
window. :class:`TimeRanges` reads it again in ranges of ``updated`` (``updated_after`` /
``updated_before``), each holding fewer records than the window, so that every offset stays
below it. It is only used once the API refused an offset: where deep offsets are served, a
list is read as before, at no extra cost.

* *What need not be read again.* The records read before the offset was refused are the
  first ones in creation order; every record past them was created after the last one read,
  at ``created`` = C. Where ``updated`` is never before ``created``, no record updated by C is
  unread: the range up to C is skipped when the API's ``count`` for it is the number of records
  read that fall in it (one request; any other answer reads it too).
* *Where ranges are cut.* A range whose first page's ``count`` is more than 90 % of the window
  is cut: at the quantiles of the ``updated`` instants read so far (the pages read before the
  offset was refused are a large sample), else into equal spans of time. The range below the
  earliest instant seen and the one after the sync started stay open, so a record with any
  ``updated`` falls in one of them.
* *Consistent ranges.* A record updated while a closed range is paged leaves it (its new
  ``updated`` is after the sync started), shifting the rest towards the start: a page could
  then skip one. A closed range is read until one pass sees the same ``count`` on every page
  and that many records (as :mod:`tap_ordoro.keyset` reads a run of one instant). The open
  range after the sync's start only grows (records join it, at their place in creation order),
  which reads a record twice, never skips one.
* *One instant.* Records sharing one instant cannot be cut by time. Where a list has a sort
  on a unique key (a keyset reader's run of one instant), :func:`from_both_ends` reads such a
  query by that key ascending, then descending until the two ends meet: twice the window.
* *Bounds right under every reading.* A range's bounds overlap its neighbours' by a
  microsecond (the API's inclusivity is undocumented), and are written by
  :class:`~ordoro_core.timestamps.AccountZone`; a record read in two ranges, or again in a
  later pass, is yielded once per version.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from ordoro_core.timestamps import RESOLUTION, AccountZone
from tap_ordoro.paging import Fetch, ListTerms, OffsetRefused, Page, PagingError, Record

#: A range holding more than this share of the window is cut. A closed range only loses
#: records while it is read (they move past the sync's start); the margin is for rows that
#: commit late into it.
FILL = 0.9
#: At most this many parts per cut.
MAX_PARTS = 16


@dataclass
class TimeRanges:
    """Reads every record of ``query`` with ``field`` after ``after`` in time ranges that the
    API serves by offset (see the module docstring).

    ``terms.window`` must be known (the API refused an offset). ``seen`` holds the versions
    already yielded (a hash of the record's key and ``field``): those are not yielded again.
    """

    fetch: Fetch
    query: Mapping[str, Any]
    field: str
    instant_of: Callable[[Record], datetime]
    key_of: Callable[[Record], Hashable]
    zone: AccountZone
    terms: ListTerms
    concurrency: int = 1
    max_passes: int = 20
    seen: set[bytes] = field(default_factory=set)
    #: ``field`` instants read so far, sorted (where ranges are cut).
    samples: list[datetime] = field(default_factory=list)
    #: How records are ordered by creation (the last one :meth:`note` saw is where the records
    #: not read yet begin), and how many it saw (the skip check needs them all).
    created_of: Callable[[Record], datetime | None] | None = None
    last_created: datetime | None = None
    noted: int = 0
    #: Requests made, and ranges read (for the log line at the end).
    requests: int = 0
    ranges: int = 0

    def note(self, records: list[Record]) -> None:
        """Records read before the ranges (their versions are not yielded again)."""
        self.seen.update(self._version(record) for record in records)
        self.samples.extend(self.instant_of(r) for r in records if r.get(self.field))
        self.noted += len(records)
        if records and self.created_of is not None:
            self.last_created = self.created_of(records[-1])

    def pages(
        self, after: datetime | None, started: datetime, read_before: int = 0
    ) -> Iterator[list[Record]]:
        """Yield the records updated after ``after`` (None: all), range by range.

        ``read_before``: how many records were read before the offset was refused (all of them
        noted, or the range they fill is read again).
        """
        self.samples.sort()
        pending: list[tuple[datetime | None, datetime | None]] = [(after, started), (started, None)]
        if after is not None and after >= started:
            pending = [(after, None)]
        elif self._read_already(after, started, read_before):
            pending = [(self.last_created, started), (started, None)]
        while pending:
            low, high = pending.pop(0)
            page = self._fetch(self._range_query(low, high), 0)
            if page.count is not None and page.count > self._budget():
                pending[:0] = self._cut(low, high, page, started)
                continue
            self.ranges += 1
            yield from self._read_range(low, high, page)
        self.terms.log.info(
            "%s: read again in %d time ranges (%d requests), the API refusing offsets from %s on",
            self.terms.name,
            self.ranges,
            self.requests,
            self.terms.window,
        )

    def _read_already(self, after: datetime | None, started: datetime, read_before: int) -> bool:
        """Whether every record updated from ``after`` to the last ``created`` noted was read
        already: the API counts as many there as were read (see the module docstring)."""
        created = self.last_created
        if created is None or not read_before or self.noted != read_before or created >= started:
            return False
        if after is not None and created <= after:
            return False
        query = self._range_query(after, created)
        low = None if after is None else after - RESOLUTION
        high = created + RESOLUTION
        read = sum(1 for moment in self.samples if (low is None or moment > low) and moment <= high)
        page = self._fetch({**query}, 0)
        return page.count == read

    # -- cutting -----------------------------------------------------------------------

    def _budget(self) -> int:
        window = self.terms.window or self.terms.size
        return max(1, int(window * FILL))

    def _cut(
        self, low: datetime | None, high: datetime | None, page: Page, started: datetime
    ) -> list[tuple[datetime | None, datetime | None]]:
        """The parts of a range too large to page, in time order."""
        self._sample(page.records)
        count = page.count or 0
        instants = [self.instant_of(record) for record in page.records if record.get(self.field)]
        if high is None:  # the open range after the sync started: cut at the latest seen
            latest = max([started, *instants])
            if low is not None:
                latest = max(latest, low + timedelta(seconds=1))
            return [(low, latest), (latest, None)]
        if low is None:  # below the earliest instant seen stays open
            earliest = min([*self.samples[:1], *instants], default=high - timedelta(days=1))
            if earliest >= high:
                earliest = high - timedelta(days=1)
            low_part: list[tuple[datetime | None, datetime | None]] = [(None, earliest)]
            return low_part + self._cut(earliest, high, page, started)
        if high - low <= 2 * RESOLUTION:
            raise PagingError(
                f"{self.terms.name}: {count} records share one instant ({high.isoformat()}), "
                f"more than the API serves by offset ({self.terms.window}); the bookmark stays "
                "where it was"
            )
        parts = min(MAX_PARTS, max(2, math.ceil(count / self._budget())))
        inside = self.samples[bisect_right(self.samples, low) : bisect_right(self.samples, high)]
        if len(inside) >= parts:
            cuts = sorted({inside[len(inside) * index // parts] for index in range(1, parts)})
        else:
            span = (high - low) / parts
            cuts = [low + span * index for index in range(1, parts)]
        inner = [cut for cut in cuts if low < cut < high]
        if not inner:  # the samples sit at one instant: cut time in halves instead
            inner = [low + (high - low) / 2]
        bounds = [low, *inner, high]
        return list(pairwise(bounds))

    # -- reading -----------------------------------------------------------------------

    def _read_range(
        self, low: datetime | None, high: datetime | None, first: Page
    ) -> Iterator[list[Record]]:
        """Every record of one range: one consistent pass for a closed range, or (the open one
        after the sync started, which only grows) until its ``count`` is covered."""
        query = self._range_query(low, high)
        stalled, smallest = 0, None
        start: Page | None = first
        while True:
            counts: list[int | None] = []
            keys: set[Hashable] = set()
            for page in self._pass(query, start):
                counts.append(page.count)
                keys.update(self.key_of(record) for record in page.records)
                fresh = self._fresh(page.records)
                if fresh:
                    yield fresh
            start = None
            consistent = None not in counts and len(set(counts)) == 1 and counts[0] == len(keys)
            if high is None or consistent:
                return
            low_count = min((c for c in counts if c is not None), default=None)
            if low_count is not None and (smallest is None or low_count < smallest):
                smallest, stalled = low_count, 0
            else:
                stalled += 1
            if stalled >= self.max_passes:
                raise PagingError(
                    f"{self.terms.name}: the records updated between {low} and {high} kept "
                    f"changing over {self.max_passes} passes; the bookmark stays where it was"
                )

    def _pass(self, query: Mapping[str, Any], first: Page | None) -> Iterator[Page]:
        """One pass over a range by offset, each page starting where the one before ended,
        up to ``concurrency`` of them in flight."""
        page = first if first is not None else self._fetch(query, 0)
        yield page
        workers = max(1, self.concurrency)
        with ThreadPoolExecutor(workers, thread_name_prefix="ordoro-range") as pool:
            while self.terms.more_after(page) and page.records:
                position = page.offset + len(page.records)
                offsets = range(position, page.count or position, self.terms.size)
                futures = [pool.submit(self._fetch, query, offset) for offset in offsets[:workers]]
                for future in futures:
                    if future.result().offset != position:
                        break  # a page was shorter than the ones planned after it: plan again
                    page = future.result()
                    yield page
                    position = page.offset + len(page.records)
                    if not self.terms.more_after(page) or not page.records:
                        break
                for future in futures:
                    future.cancel()

    def _fetch(self, query: Mapping[str, Any], offset: int) -> Page:
        self.requests += 1
        try:
            page = self.fetch({**query, "limit": self.terms.asked, "offset": offset})
        except OffsetRefused as refused:
            self.terms.refused(refused.offset)
            raise PagingError(
                f"{self.terms.name}: the API refused offset {refused.offset} inside a range "
                "cut to stay below the offsets it served; the bookmark stays where it was"
            ) from None
        self.terms.learn(page)
        for record in page.records[:1] + page.records[-1:]:
            self.zone.observe(self.instant_of(record))
        return page

    def _range_query(self, low: datetime | None, high: datetime | None) -> dict[str, Any]:
        query = dict(self.query)
        if low is not None:
            query["updated_after"] = self.zone.lower(low - RESOLUTION)
        if high is not None:
            query["updated_before"] = self.zone.upper(high + RESOLUTION)
        return query

    def _fresh(self, records: list[Record]) -> list[Record]:
        fresh = []
        for record in records:
            version = self._version(record)
            if version not in self.seen:
                self.seen.add(version)
                fresh.append(record)
        return fresh

    def _version(self, record: Record) -> bytes:
        text = f"{self.key_of(record)!r}\x00{record.get(self.field)!r}"
        return hashlib.blake2b(text.encode(), digest_size=8).digest()

    def _sample(self, records: list[Record]) -> None:
        """Keep a page's first and last instants as samples (where later cuts land)."""
        for record in records[:1] + records[-1:]:
            if record.get(self.field):
                moment = self.instant_of(record)
                self.samples.insert(bisect_right(self.samples, moment), moment)


def from_both_ends(
    fetch: Fetch,
    query: Mapping[str, Any],
    key_sort: str,
    key_of: Callable[[Record], Hashable],
    terms: ListTerms,
    passed: set[Hashable],
) -> Iterator[Page]:
    """One pass over ``query`` by offset, sorted by the unique ``key_sort`` (keys read go in
    ``passed``): ascending, and where an offset is refused, descending until a page holds a
    key read ascending. More records than both ends reach: :class:`PagingError`."""
    read = 0
    while True:
        try:
            page = fetch({**query, "sort": key_sort, "offset": read})
        except OffsetRefused as refused:
            terms.refused(refused.offset)
            break
        passed.update(key_of(record) for record in page.records)
        read += len(page.records)
        yield page
        if terms.ends(page) or not page.records:
            return
    ascending, read = set(passed), 0
    while True:
        try:
            page = fetch({**query, "sort": "-" + key_sort, "offset": read})
        except OffsetRefused:
            raise PagingError(
                f"{terms.name}: {len(passed)} records share one instant, more than the API "
                "serves by offset from both ends of the list; the bookmark stays before them"
            ) from None
        keys = {key_of(record) for record in page.records}
        passed.update(keys)
        read += len(page.records)
        yield page
        if keys & ascending or terms.ends(page) or not page.records:
            return
