"""One list read shared by a parent stream and its child streams.

Two pairs of streams share one read of one list, as singer-sdk parent and child streams:
orders and shipments read ``/v3/order`` once between them, products and inventory read
``/product/`` once. Selecting just one of a pair reads the list for it alone. A parent hands
each batch of records it read to its selected children, which turn them into their own
records; the parent's reader decides how far the children's bookmarks may go.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from tap_ordoro.client import OrdoroStream
from tap_ordoro.paging import Record

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


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

    def feed(
        self,
        children: list[ChildStream],
        records: list[Record],
        bookmark_limit: datetime | None,
        *,
        refreshed: bool = False,
    ) -> None:
        """Hand a batch of records to the selected children, which emit their own records."""
        for child in children:
            child.bookmark_limit = bookmark_limit
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
        self._batches = 0

    def take(self, records: list[Record], *, refreshed: bool = False) -> None:
        """Emit this stream's records made from a batch of the parent's records."""
        self._batch, self._refreshed = records, refreshed
        self._batches += 1
        try:
            self.sync(context={"batch": self._batches})
        finally:
            self._batch = []

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        start = None if self._refreshed else self.read_start()
        for source in self._batch:
            for record in self.records_from(source):
                if self.is_new(record, start):
                    yield record

    def records_from(self, source: Record) -> Iterable[Record]:
        """This stream's records made from one of the parent's records."""
        raise NotImplementedError
