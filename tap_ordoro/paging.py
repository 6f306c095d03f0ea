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

**Nothing assumed that an answer can contradict.** Every reader pages by what came back, not
by what it asked for: :class:`ListTerms` learns the page size a list serves (its envelope's
``limit``, or a page shorter than ``limit`` while ``count`` says more), and a page shorter than
``limit`` ends a list only when ``count`` agrees. An offset the API refuses (a 400 naming
``offset``: a result window) is :class:`OffsetRefused`; keyset windows merge, products are read
again in time ranges small enough to page (:mod:`tap_ordoro.narrowing`), and what cannot be
narrowed (return orders, which have no time filter) fails loudly. An answer that contradicts an
assumption is logged once per stream as a warning, and the reader takes the safe path.

Every instant is compared as an instant (see :mod:`ordoro_core.timestamps`), never as text;
filter values are written by :class:`~ordoro_core.timestamps.AccountZone`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.inflight import spare_capacity

Record = dict[str, Any]

logger = logging.getLogger("tap_ordoro.paging")


@dataclass(frozen=True)
class Page:
    """One answer of a list endpoint: its records, the ``count`` it promised (if any), the
    offset it was asked for and the ``limit`` its envelope says it served (if it says)."""

    records: list[Record]
    count: int | None
    offset: int = 0
    limit: int | None = None


#: Pages of a whole list (a first sync, a refresh) asked for before its first page's ``count``
#: is back: the pages that would be read next anyway, at the cost of a few empty answers when
#: the list is shorter.
WHOLE_LIST_FIRST_PAGES = 8

#: Fetches one page for the given query parameters.
Fetch = Callable[[Mapping[str, Any]], Page]


class PagingError(Exception):
    """A list kept changing faster than it could be read consistently, or could not be read
    without loss at all (the message says which)."""


class OffsetRefused(PagingError):
    """The API answered 400 naming ``offset``: it serves no record this deep (a result window).

    Raised by a stream's page fetcher; readers narrow their query (or fail loudly where a list
    cannot be narrowed).
    """

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class ListTerms:
    """What one list's answers taught a reader, and which of its assumptions they contradicted.

    * The page size it serves (:attr:`size`): the envelope's ``limit`` when smaller than the
      one asked, or a page shorter than ``limit`` while ``count`` says more records follow.
    * The offsets it serves (:attr:`window`): the smallest offset it refused.
    * Contradictions (a page shorter than its envelope says, a ``count`` that changes between
      pages of one query, records out of the requested order, records outside the requested
      filter): each logged once as a warning (:meth:`contradiction`).

    Thread-safe: windows and pages read in parallel share one.
    """

    name: str = "list"
    asked: int = MAX_PAGE_SIZE
    served: int | None = None
    window: int | None = None
    log: logging.Logger = field(default=logger, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def size(self) -> int:
        """The page size the list serves (what is asked until an answer says otherwise)."""
        return self.served or self.asked

    def learn(self, page: Page) -> None:
        """Learn the page size from an answer, and note what in it contradicts the envelope."""
        held = len(page.records)
        if page.limit is not None and 0 < page.limit < self.asked:
            self._serves(page.limit, f"its envelope's limit says {page.limit}")
        elif page.limit is None and 0 < held < self.asked and self.more_after(page):
            self._serves(held, f"a page held {held} while count says {page.count}")
        promised = None
        if page.limit is not None and page.count is not None:
            promised = max(0, min(page.limit, page.count - page.offset))
        if promised is not None and held < promised:
            self.contradiction(
                "short page",
                f"{self.name}: a page at offset {page.offset} held {held} records where its "
                f"envelope (count {page.count}, limit {page.limit}) promises {promised}; "
                "reading on past it rather than ending the list",
            )

    def _serves(self, size: int, why: str) -> None:
        with self._lock:
            if self.served is not None and self.served <= size:
                return
            self.served = size
        self.contradiction(
            "page size",
            f"{self.name} serves {size} records a page where limit asks {self.asked} ({why}); "
            "paging by what comes back",
        )

    def full(self, page: Page) -> bool:
        """Whether a page holds as many records as the list serves a page."""
        return len(page.records) >= self.size

    @staticmethod
    def more_after(page: Page) -> bool:
        """Whether ``count`` says records follow this page."""
        return page.count is not None and page.offset + len(page.records) < page.count

    def ends(self, page: Page) -> bool:
        """Whether nothing follows this page: ``count`` agrees, or (without a ``count``) the
        page is shorter than the list serves."""
        if page.count is not None:
            return not self.more_after(page)
        return not self.full(page)

    def refused(self, offset: int) -> None:
        """The list refused ``offset``: no deeper offset is asked for again."""
        with self._lock:
            if self.window is not None and self.window <= offset:
                return
            self.window = offset
        self.contradiction(
            "offset refused",
            f"{self.name} refuses offsets from {offset} on (400 naming offset); narrowing "
            "the query instead",
        )

    def serves_offset(self, offset: int) -> bool:
        """Whether ``offset`` is below every offset the list refused."""
        return self.window is None or offset < self.window

    def contradiction(self, kind: str, message: str) -> None:
        """Log one warning line the first time an answer contradicts ``kind``."""
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        self.log.warning("%s", message)


@dataclass
class StableOrderReader:
    """Reads a list by offset over an order that updates do not change (creation order).

    Pages are yielded in page order, each starting where the one before ended (by what it
    held, whatever was asked). Once an answer says how many records match and how many a page
    holds, the pages up to ``count`` are fetched at most ``concurrency`` at a time (fewer when
    ``allowance``, the requests the API client allows in flight now, is lower), on the client's
    spare capacity (:func:`ordoro_core.inflight.spare_capacity`: reads that wait a round trip
    between pages, keyset windows, go first). The set a filter
    selects may change while we page: reading goes on until the last ``count`` is covered, and
    where ``count`` changed between two pages the records around their boundary are read
    again (a record that joined or left before it shifts the rest by one; see
    :meth:`_boundary`).
    """

    fetch: Fetch
    query: Mapping[str, Any]
    concurrency: int = 1
    page_size: int = MAX_PAGE_SIZE
    #: How many pages the caller expects (a whole catalog: many). When more than one, that
    #: many pages are asked for at once, before the first page's ``count`` is known; those
    #: past the end come back empty, those the answers' page size does not line up with are
    #: dropped.
    expected_pages: int = 1
    terms: ListTerms = field(default_factory=ListTerms)
    #: Called with the first page: a better query to start again with, or None.
    refine: Callable[[Page], Mapping[str, Any] | None] | None = None
    #: How many requests the client allows in flight now (None: ``concurrency``).
    allowance: Callable[[], int] | None = None

    def pages(self) -> Iterator[list[Record]]:
        """Yield every page's records, in page order."""
        terms = self.terms
        workers = max(1, self.concurrency)
        with ThreadPoolExecutor(workers, thread_name_prefix="ordoro-page") as pool:
            pending: dict[int, Future[Page]] = {}
            try:
                yield from self._read(pool, pending)
            except OffsetRefused as refused:
                terms.refused(refused.offset)
                raise
            finally:
                for future in pending.values():
                    future.cancel()

    def _read(
        self, pool: ThreadPoolExecutor, pending: dict[int, Future[Page]]
    ) -> Iterator[list[Record]]:
        terms = self.terms
        speculative = min(self.expected_pages, self._parallel()) if self.concurrency > 1 else 1
        for index in range(speculative):
            if terms.serves_offset(index * self.page_size):
                offset = index * self.page_size
                pending[offset] = pool.submit(self._fetch_spare, self._at(offset))
        page = self._take(pool, pending, 0)
        if self.refine is not None:
            better = self.refine(page)
            if better is not None and dict(better) != dict(self.query):
                for future in pending.values():
                    future.cancel()
                pending.clear()
                self.query = better
                page = self._take(pool, pending, 0)
        previous: Page | None = None
        while True:
            if previous is not None and page.count != previous.count:
                yield from self._boundary(previous, page)
            yield page.records
            position = page.offset + len(page.records)
            if terms.ends(page):
                return
            if not page.records:
                raise PagingError(
                    f"{terms.name}: an empty page at offset {page.offset} where count says "
                    f"{page.count}: the list cannot be read on"
                )
            for stale in [offset for offset in pending if offset < position]:
                pending.pop(stale).cancel()
            self._plan(pool, pending, position, page)
            previous, page = page, self._take(pool, pending, position)

    def _take(
        self, pool: ThreadPoolExecutor, pending: dict[int, Future[Page]], offset: int
    ) -> Page:
        """The page at ``offset``: the one in flight, else asked for now."""
        future = pending.pop(offset, None)
        if future is None:
            future = pool.submit(self._fetch_spare, self._at(offset))
        page = future.result()
        self.terms.learn(page)
        return page

    def _plan(
        self, pool: ThreadPoolExecutor, pending: dict[int, Future[Page]], position: int, page: Page
    ) -> None:
        """Keep up to ``concurrency`` pages in flight, up to what ``count`` promises."""
        size = self.terms.size
        end = page.count if page.count is not None else position + size
        planned = [
            offset
            for offset in range(position, max(end, position + 1), size)
            if self.terms.serves_offset(offset)
        ][: self._parallel()]
        for offset in planned:
            if offset not in pending and len(pending) < self._parallel():
                pending[offset] = pool.submit(self._fetch_spare, self._at(offset))

    def _fetch_spare(self, query: Mapping[str, Any]) -> Page:
        """A page, asked for on the client's spare capacity."""
        with spare_capacity():
            return self.fetch(query)

    def _parallel(self) -> int:
        """Pages to have asked for at once: the client's allowance, within ``concurrency``."""
        workers = max(1, self.concurrency)
        return workers if self.allowance is None else max(1, min(workers, self.allowance()))

    def _boundary(self, before: Page, after: Page) -> Iterator[list[Record]]:
        """The records around the boundary of two pages whose ``count`` differs, read now.

        If d records joined or left the set before the boundary between the two answers, the
        second page's records are shifted by d against the first's: records are read twice,
        or d records at the boundary are not read. Reading the d records on each side of the
        boundary again covers them.
        """
        shift = abs((after.count or 0) - (before.count or 0))
        boundary = after.offset
        self.terms.contradiction(
            "count changed",
            f"{self.terms.name}: count changed from {before.count} to {after.count} between "
            f"two pages; reading the records around offset {boundary} again",
        )
        start = max(0, boundary - shift)
        end = boundary + shift
        while start < end:
            page = self.fetch({**self.query, "limit": min(self.page_size, end - start),
                               "offset": start})  # fmt: skip
            if not page.records:
                return
            yield page.records
            start += len(page.records)

    def _at(self, offset: int) -> dict[str, Any]:
        return {**self.query, "limit": self.page_size, "offset": offset}


@dataclass
class NewestFirstReader:
    """Reads a list sorted newest first, until the records are older than ``since``.

    It pages by offset: a list with more records newer than ``since`` than the API serves by
    offset (a result window) cannot be read whole, and it fails loudly (the list has no time
    filter to narrow by).
    """

    fetch: Fetch
    query: Mapping[str, Any]
    instant_of: Callable[[Record], datetime | None]
    page_size: int = MAX_PAGE_SIZE
    terms: ListTerms = field(default_factory=ListTerms)

    def pages(self, since: datetime | None) -> Iterator[list[Record]]:
        """Yield pages while they may hold records updated at or after ``since``."""
        terms = self.terms
        offset, previous = 0, None
        while True:
            try:
                page = self.fetch({**self.query, "limit": self.page_size, "offset": offset})
            except OffsetRefused as refused:
                terms.refused(refused.offset)
                raise PagingError(
                    f"{terms.name}: the API serves no record past offset {refused.offset}, and "
                    f"more records than that changed since {since or 'the start'}; this list "
                    "has no time filter to read it in parts. The bookmark stays where it was"
                ) from None
            terms.learn(page)
            fell = _fall(previous, page)
            if fell:
                # Records left before us: the rest shifted towards the start. Step back.
                terms.contradiction(
                    "count changed",
                    f"{terms.name}: count fell from {page.count + fell} to {page.count} "
                    "between two pages; reading the records before this page again",
                )
                offset, previous = max(0, offset - fell), None
                continue
            yield page.records
            offset += len(page.records)
            if terms.ends(page) or not page.records:
                return
            previous = page
            last = self.instant_of(page.records[-1])
            if since is not None and last is not None and last < since:
                return


def _fall(previous: Page | None, page: Page) -> int:
    """By how much ``count`` fell from ``previous`` to ``page`` (0: it did not, or unknown)."""
    if previous is None or previous.count is None or page.count is None:
        return 0
    return max(0, previous.count - page.count)
