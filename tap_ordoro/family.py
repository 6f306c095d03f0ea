"""One list read shared by a parent stream and its child streams.

Two pairs of streams share one read of one list, as singer-sdk parent and child streams:
orders and shipments read ``/v3/order`` once between them, products and inventory read
``/product/`` once. Selecting just one of a pair reads the list for it alone. A parent hands
each batch of records it read to its selected children, which turn them into their own
records; the parent's reader decides how far the children's bookmarks may go.

Children are made from each record as Ordoro answered it, before the parent's own record goes
out: singer-sdk drops the parent's deselected properties from the record in place (a user who
lands ``shipments`` deselects ``orders.shipping_info``, which they duplicate), and children
must not see that. As singer-sdk does for a child of a filtered parent, a record the parent's
stream map filters out (``__filter__``) gives no child records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from tap_ordoro.client import OrdoroStream
from tap_ordoro.coverage import Coverage, Range
from tap_ordoro.paging import Record

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


#: Each selected child with its records made from one batch of the parent's.
Prepared = list[tuple["ChildStream", list[Record]]]


class ParentStream(OrdoroStream):
    """A stream whose list read also serves child streams (see the module docstring)."""

    @override
    def start_reading(self) -> None:
        self.plan_family_read()
        super().start_reading()

    def plan_family_read(self) -> None:
        """Where the one shared read starts, for this stream and its selected children."""
        raise NotImplementedError

    def selected_children(self) -> list[ChildStream]:
        """The child streams that are selected."""
        return [
            child
            for child in self.child_streams
            if isinstance(child, ChildStream) and child.selected
        ]

    def family_start(self, children: list[ChildStream]) -> datetime | None:
        """Where the shared read starts: the earliest start of the selected members."""
        members: list[OrdoroStream] = [*children, *([self] if self.selected else [])]
        starts = [member.read_start() for member in members]
        if any(start is None for start in starts) or not starts:
            return None
        return min(start for start in starts if start is not None)

    def family_skip(self, children: list[ChildStream]) -> list[Range]:
        """The ranges the shared read need not read: those no selected member needs (before
        its start, or finished by a killed run, see ``skip_ranges``), above the family start."""
        members: list[OrdoroStream] = [*children, *([self] if self.selected else [])]
        common: list[Range] | None = None
        for member in members:
            start = member.read_start()
            unneeded = list(member.skip_ranges())
            if start is not None:
                unneeded.append((_EARLIEST, start))
            common = unneeded if common is None else _intersect(common, unneeded)
        begin = self.family_start(children)
        return [(low, high) for low, high in common or [] if begin is not None and low >= begin]

    def prepare(self, children: list[ChildStream], records: list[Record]) -> Prepared:
        """Each child's records made from a batch as Ordoro answered it (call it before this
        stream emits the batch), from the records this stream's stream map keeps."""
        if not children:
            return []
        kept = [record for record in records if self.stream_maps[0].get_filter_result(record)]
        return [
            (child, [made for source in kept for made in child.records_from(source)])
            for child in children
        ]

    def feed(
        self,
        prepared: Prepared,
        coverage: Coverage | None,
        bookmark_limit: datetime | None,
        *,
        refreshed: bool = False,
    ) -> None:
        """Hand each child its records made from a batch (:meth:`prepare`); they emit them."""
        for child, records in prepared:
            child.bookmark_limit = bookmark_limit
            child.delivered = coverage
            child.take(records, refreshed=refreshed)

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        # Children are fed a batch at a time by `feed`, not once per record.
        return ()


class ChildStream(OrdoroStream):
    """A stream made from the records its parent read: no requests of its own."""

    #: One state for the stream, whatever batch it is fed.
    state_partitioning_keys: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: list[Record] = []
        self._refreshed = False
        self._final = False
        self._batches = 0

    def take(self, records: list[Record], *, refreshed: bool = False) -> None:
        """Emit this stream's records (made from a batch of the parent's by :meth:`records_from`).

        ``refreshed``: read again whatever their instant (a whole-catalog read, or products
        whose stock moved), not only from where this stream's sync starts.
        """
        self._batch, self._refreshed = records, refreshed
        self._batches += 1
        try:
            self.sync(context={"batch": self._batches})
        finally:
            self._batch, self._final = [], False

    def finish_reading(self) -> None:
        """The parent's read is over: emit what was held back for comparison (see
        :meth:`~tap_ordoro.client.OrdoroStream.admit`)."""
        self._final = True
        self.take([])

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        start = None if self._refreshed else self.read_start()
        yield from self.admit(self._batch, start)
        yield from self.release(final=self._final)
        self.note_delivered()

    def records_from(self, source: Record) -> Iterable[Record]:
        """This stream's records made from one of the parent's records."""
        raise NotImplementedError


_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


def _intersect(first: list[Range], second: list[Range]) -> list[Range]:
    """The open ranges inside one of ``first`` and one of ``second``."""
    return [
        (max(low_a, low_b), min(high_a, high_b))
        for low_a, high_a in first
        for low_b, high_b in second
        if max(low_a, low_b) < min(high_a, high_b)
    ]
