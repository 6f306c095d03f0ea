"""How tap-ordoro pages through Ordoro's lists without losing a record.

Ordoro's lists page with ``limit`` and ``offset``. Offsets are only safe over an order that does
not change while a client pages. Three orders are used, each where it is safe:

**Keyset-like, on the replication key** (:class:`~tap_ordoro.keyset.KeysetReader`: orders,
shipments, purchase orders). A list sorted by ``updated_date`` is not a stable order: a record
updated after we passed it moves to the end, every record behind it shifts one place towards the
start, and the record at the next page boundary would never be seen. So every request asks for
the records updated at or after the last instant already emitted (``updated_after``), at offset
0. A record updated behind the cursor reappears ahead of it and is emitted again with its new
values; records sharing the cursor's instant come back at the next boundary and are dropped by
key.

Bulk actions, windows read in parallel and the API's undocumented inclusivity are
:mod:`tap_ordoro.keyset`'s.

**Creation order** (:class:`StableOrderReader`: products and inventory). The product list cannot
be sorted by ``updated``; sorted by creation, offsets stay valid while records change (an update
does not move a record), with ``updated_after`` as a server-side filter. Updated records join
the filtered set at their own place, which shifts later ones towards the end: a record can be
read twice, never skipped. Pages after the first are fetched in parallel once its ``count`` is
known.

**Newest first** (:class:`NewestFirstReader`: return orders, whose list has no
``updated_after`` filter). Sorted by ``-updated_date``, an update moves a record to the front,
behind the reader: again a record can be read twice, never skipped. Reading stops at the first
record older than where the sync starts.

Every instant is compared as an instant (see :mod:`ordoro_core.timestamps`), never as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.inflight import spare_capacity

Record = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One answer of a list endpoint: its records and the ``count`` it promised (if any)."""

    records: list[Record]
    count: int | None


#: Pages of a whole list (a first sync, a refresh) asked for before its first page's ``count``
#: is back: the pages that would be read next anyway, at the cost of a few empty answers when
#: the list is shorter.
WHOLE_LIST_FIRST_PAGES = 8

#: Fetches one page for the given query parameters.
Fetch = Callable[[Mapping[str, Any]], Page]


class PagingError(Exception):
    """A list kept changing faster than it could be read consistently."""


@dataclass
class StableOrderReader:
    """Reads a list by offset over an order that updates do not change (creation order).

    Pages after the first are fetched at most ``concurrency`` at a time (fewer when
    ``allowance``, the requests the API client allows in flight now, is lower) once the first
    page's ``count`` says how many there are, and yielded in page order. They use the client's
    spare capacity (:func:`ordoro_core.inflight.spare_capacity`): reads that wait a round trip
    between pages (keyset windows) go first. The set a filter
    selects may grow while we page (updated records join it); reading goes on until a page is
    short and the last ``count`` is covered.
    """

    fetch: Fetch
    query: Mapping[str, Any]
    concurrency: int = 1
    page_size: int = MAX_PAGE_SIZE
    #: How many requests the client allows in flight now (None: ``concurrency``).
    allowance: Callable[[], int] | None = None
    #: How many pages the caller expects (a whole catalog: many). When more than one, that
    #: many pages are asked for at once, before the first page's ``count`` is known; pages
    #: past the end then come back empty.
    expected_pages: int = 1

    def pages(self) -> Iterator[list[Record]]:
        """Yield every page's records, in page order."""
        offset, covered = yield from self._planned()
        while not covered:  # the set grew while we paged: read on until it is covered
            page = self._fetch(self._at(offset))
            yield page.records
            offset += len(page.records)
            covered = len(page.records) < self.page_size and (page.count or 0) <= offset

    def _planned(self) -> Iterator[list[Record]]:
        """The pages the first ``count`` promises, ``concurrency`` in flight at a time.

        Returns where reading on would start, and whether the list is covered: a short page
        came, or the last page's ``count`` ends where it did.
        """
        workers = max(1, self.concurrency)
        speculative = min(self.expected_pages, self._parallel(workers)) if workers > 1 else 1
        offsets = [index * self.page_size for index in range(speculative)]
        planned: int | None = None
        with ThreadPoolExecutor(workers, thread_name_prefix="ordoro-page") as pool:
            pending: list[tuple[int, Future[Page]]] = [
                (offset, pool.submit(self._fetch, self._at(offset))) for offset in offsets
            ]
            submitted = len(offsets)
            while pending:
                offset, future = pending.pop(0)
                page = future.result()
                yield page.records
                if planned is None:
                    planned = max(1, math.ceil((page.count or 0) / self.page_size))
                end = offset + len(page.records)
                if len(page.records) < self.page_size:
                    for _, other in pending:
                        other.cancel()
                    return end, (page.count or 0) <= end
                while submitted < planned and len(pending) < self._parallel(workers):
                    following = submitted * self.page_size
                    pending.append((following, pool.submit(self._fetch, self._at(following))))
                    submitted += 1
                if not pending:
                    return end, (page.count or 0) <= end
        raise AssertionError("unreachable: the loop returns")

    def _fetch(self, query: Mapping[str, Any]) -> Page:
        with spare_capacity():
            return self.fetch(query)

    def _parallel(self, workers: int) -> int:
        """Pages to have asked for at once: the client's allowance, within ``workers``."""
        return workers if self.allowance is None else max(1, min(workers, self.allowance()))

    def _at(self, offset: int) -> dict[str, Any]:
        return {**self.query, "limit": self.page_size, "offset": offset}


@dataclass
class NewestFirstReader:
    """Reads a list sorted newest first, until the records are older than ``since``."""

    fetch: Fetch
    query: Mapping[str, Any]
    instant_of: Callable[[Record], datetime | None]
    page_size: int = MAX_PAGE_SIZE

    def pages(self, since: datetime | None) -> Iterator[list[Record]]:
        """Yield pages while they may hold records updated at or after ``since``."""
        offset = 0
        while True:
            page = self.fetch({**self.query, "limit": self.page_size, "offset": offset})
            yield page.records
            offset += len(page.records)
            if len(page.records) < self.page_size:
                return
            last = self.instant_of(page.records[-1])
            if since is not None and last is not None and last < since:
                return
