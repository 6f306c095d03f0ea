"""``tap-ordoro --test``: sync the first record of every stream, and nothing logged as an error.

The SDK's dry run (``Tap.run_sync_dry_run``, what ``--test`` runs) caps each stream with
``ABORT_AT_RECORD_COUNT`` and enforces it by raising ``MaxRecordsLimitException`` when a stream
yields one record more than the cap. That exception passes through ``Stream.sync()``, whose
blanket ``except Exception`` logs "An unhandled error occurred while syncing '<stream>'" at
ERROR level before re-raising, and only then does ``run_sync_dry_run`` swallow it as the
expected end of the dry run. So a passing ``--test`` printed one ERROR line per stream (and
fetched a record, sometimes a page, more than it needed).

Here every stream ends by itself once it has yielded the cap, so the SDK's abort never fires:
the dry run is the SDK's own (same selection, same messages), only without the false alarm. A
real error still propagates and is still logged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singer_sdk import Stream, Tap
    from singer_sdk.helpers.types import Context

#: Records per stream that ``--test`` syncs (the SDK's own default for a connection test).
CONNECTION_TEST_RECORDS = 1

GetRecords = Callable[["Context | None"], Iterable[dict[str, Any]]]


def first_records(get_records: GetRecords, limit: int) -> GetRecords:
    """``get_records`` ending after ``limit`` records, closing the reader it stops early."""

    def limited(context: Context | None) -> Iterator[dict[str, Any]]:
        records = iter(get_records(context))
        try:
            yield from itertools.islice(records, limit)
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()  # ends the stream's pager (and its read-ahead request) now

    return limited


def end_streams_at(streams: Iterable[Stream], limit: int) -> None:
    """Make each stream's ``get_records`` stop after ``limit`` records (this run only)."""
    for stream in streams:
        # An instance attribute shadows the class's method for this one object.
        stream.get_records = first_records(stream.get_records, limit)  # type: ignore[method-assign]


def sync_first_records(tap: Tap, limit: int = CONNECTION_TEST_RECORDS) -> bool:
    """The SDK's dry run over every stream, each ending by itself after ``limit`` records."""
    streams = list(tap.streams.values())
    end_streams_at(streams, limit)
    return tap.run_sync_dry_run(dry_run_record_limit=limit, streams=streams)
