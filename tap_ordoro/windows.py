"""Windows of a keyset read, read in parallel, and a resume that reads only the gaps.

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
  which is what a bookmark may say, and :meth:`KeysetReader.coverage` what else has been
  delivered above it (windows finished or partly read). The page that ends the list goes out
  after every other window's last request, and is read again if one shows records leaving it
  in between (:mod:`tap_ordoro.end_page`).
* *Resuming.* Given the ranges a killed run had delivered above its bookmark
  (``batches(since, skip=...)``), only the gaps between them are read, each as a window of its
  own, in parallel: a resume reads again what was in flight, not every window past the first
  unfinished one.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ordoro_core.pacing import pace_priority
from tap_ordoro.coverage import Coverage, Piece, Range, join_pieces
from tap_ordoro.end_page import EndGate
from tap_ordoro.paging import OffsetRefused, Page, Record

if TYPE_CHECKING:
    from tap_ordoro.paging import ListTerms

#: Probes take their turn of the pace before every window's pages (see :func:`pages_left`).
PROBE_PRIORITY = 1_000_000

#: A probe past the end of the list (or past the offsets it serves): the window it would
#: start is empty.
_END = object()


@dataclass
class Window:
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
    #: Shared by the windows of a parallel read: when the page that ends the list may go out,
    #: and whether it must be read again (:mod:`tap_ordoro.end_page`).
    gate: EndGate | None = None
    #: The window with no end, whose last page is the one that ends the list.
    ends_list: bool = False
    #: How many records the plan gave it (None: not known; the window with no end reads on
    #: to the end of the list, whose ``count`` says how many are left).
    planned: int | None = None

    def contains(self, instant: datetime) -> bool:
        """Whether ``instant`` belongs to this window."""
        if self.upper is not None and instant > self.upper:
            return False
        if self.lower is None:
            return True
        return instant > self.lower or (instant == self.lower and self.lower_inclusive)


@dataclass(frozen=True)
class Batch:
    """What a chain hands the consumer: records and where its window stands after them."""

    window: int
    records: list[Record]
    cursor: datetime | None
    done: bool


class ParallelWindows:
    """The window half of :class:`~tap_ordoro.keyset.KeysetReader`: planning the windows,
    reading them on threads of their own, the watermark and what was delivered above it.

    It uses the reader's ``concurrency``, ``terms``, ``watermark``, ``instant_of``, ``_fetch``
    and ``_chain`` (one window read keyset-like).
    """

    concurrency: int
    allowance: Callable[[], int] | None
    terms: ListTerms
    watermark: datetime | None
    instant_of: Callable[[Record], datetime]
    _windows: list[Window]

    def _fetch(self, query: Mapping[str, Any]) -> Page:
        raise NotImplementedError

    def _chain(self, window: Window) -> Iterator[Batch]:
        raise NotImplementedError

    def coverage(self) -> Coverage:
        """What has been delivered so far, as of the last batch yielded (a snapshot for the
        STATE: call it between batches, on the thread that reads them)."""
        windows = self._windows
        first_open = next((i for i, window in enumerate(windows) if not window.done), None)
        if first_open is None:
            return Coverage(self.watermark)
        pieces = (delivered(window) for window in windows[first_open + 1 :])
        return Coverage(self.watermark, join_pieces(piece for piece in pieces if piece))

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
        parallel = self.concurrency if self.allowance is None else self.allowance()
        shares = min(self.concurrency, parallel, pages // 2)
        if shares <= 1 or not self.terms.full(first):
            return []
        step = size - 1
        # Rounded up: what does not divide evenly goes to the first windows, not the last,
        # which reads to the end of the list and is the one left alone when it runs late.
        aligned = {math.ceil(count * share / shares / step) * step for share in range(1, shares)}
        offsets = sorted(offset for offset in aligned - {0} if self.terms.serves_offset(offset))
        # The last window holds at least two pages: the page that ends the list then goes out
        # after the other windows' last requests, not as a probe with the first pages (which
        # would cost a page more; see tap_ordoro.end_page).
        while offsets and count - offsets[-1] <= size:
            offsets.pop()
        return offsets

    def _gaps_around(self, since: datetime | None, skipped: list[Range]) -> list[Window]:
        """The windows of a resumed read: each gap between the ranges delivered before (both
        ends included), and those ranges as windows already done."""
        windows: list[Window] = []
        lower = since
        for low, high in skipped:
            windows.append(Window(len(windows), lower, True, low))
            windows.append(
                Window(len(windows), low, False, high, cursor=high, done=True, skipped=True)
            )
            lower = high
        windows.append(Window(len(windows), lower, True, None))
        return windows

    # -- reading -----------------------------------------------------------------------

    def _sequential(self, window: Window) -> Iterator[list[Record]]:
        self._windows = [window]
        for batch in self._chain(window):
            window.cursor = batch.cursor
            window.done = batch.done
            if batch.cursor is not None:
                self.watermark = batch.cursor
            yield batch.records

    def _parallel(
        self, whole: Window, probe_query: Mapping[str, Any], offsets: list[int]
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
            Window(index, None, False, None) for index in range(1, len(offsets) + 1)
        ]
        starts = [0, *offsets]
        for window, start, end in zip(windows, starts, [*offsets, None], strict=True):
            window.planned = None if end is None else end - start
        with ThreadPoolExecutor(len(offsets), thread_name_prefix="ordoro-probe") as probing:
            probes = [
                probing.submit(self._probe, {**probe_query, "offset": offset}) for offset in offsets
            ]

            def bound(window: Window) -> bool:
                """Place a window between the probes that bound it; False when it is empty
                (the list ended before it, a refused offset ended the windows there, or a run of
                one instant spans it)."""
                last = window.index == len(probes)
                lower = self._boundary(probes, window.index) if window.index else window.lower
                upper = None if last else self._boundary(probes, window.index + 1)
                empty = lower is _END or (
                    window.index > 0 and upper not in (None, _END) and upper <= lower
                )
                if empty:
                    return False
                if window.index:
                    window.first_page = probes[window.index - 1].result()
                window.lower, window.upper = lower, None if upper is _END else upper
                return True

            yield from self._read_windows(windows, bound)

    def _read_windows(
        self, windows: list[Window], bound: Callable[[Window], bool]
    ) -> Iterator[list[Record]]:
        """Read each window not done on a thread of its own (``bound`` places it first, or
        says it is empty); yield batches as they come, the watermark kept up to date."""
        self._windows = windows
        reading = [window for window in windows if not window.done]
        handoff: queue.Queue[Batch | BaseException] = queue.Queue(maxsize=len(windows))
        stop = threading.Event()
        open_end = windows[-1]
        others = [window for window in reading if window is not open_end]
        gate = EndGate(others, stop)
        if others and open_end.upper is None and not open_end.done:
            open_end.ends_list = True
            for window in reading:
                window.gate = gate

        def deliver(item: Batch | BaseException) -> None:
            """Hand over, unless the consumer has stopped (then the queue may stay full)."""
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def run(window: Window) -> None:
            try:
                if not bound(window):
                    deliver(Batch(window.index, [], None, True))
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
                    if item.done:
                        gate.changed()
                    self._advance_watermark(windows)
                    if item.records:
                        yield item.records
            finally:
                stop.set()  # chains waiting to hand over (or at the end gate) give up
                gate.changed()

    def _probe(self, query: Mapping[str, Any]) -> Page:
        """A probe goes before every window's page at the pace: windows wait on it to start."""
        with pace_priority(PROBE_PRIORITY):
            return self._fetch(query)

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

    def _advance_watermark(self, windows: list[Window]) -> None:
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


def delivered(window: Window) -> Piece | None:
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


def pages_left(records: int | None, page_size: int) -> int:
    """A window's turn at the pace (:func:`ordoro_core.pacing.pace_priority`): the pages it has
    left to read, so that the windows furthest from their end go first and all of them end
    together (1: not known)."""
    if records is None:
        return 1
    return 1 + math.ceil(max(0, records) / max(1, page_size - 1))
