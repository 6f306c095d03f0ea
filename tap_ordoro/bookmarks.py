"""Where a stream's sync starts, what it has emitted, and what its STATE says.

A mixin of :class:`~tap_ordoro.client.OrdoroStream`: the bookmark and the lookback before it,
the ranges a parallel read finished above its bookmark (``covered``: a resumed run reads only
the gaps between them), and the zones of what was emitted where a later run reads again
(``recently_emitted``: :mod:`tap_ordoro.rereads`). Every STATE stays small whatever the data:
at most :data:`COVERED_LIMIT` ranges and :data:`~tap_ordoro.rereads.MAX_VALUES` values of 8
bytes a stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from typing_extensions import override

from ordoro_core.timestamps import parse_instant, to_utc_iso
from tap_ordoro.coverage import Coverage, Range
from tap_ordoro.paging import Record
from tap_ordoro.rereads import EmittedVersions, Rereads, Version, key_version, zones_from_state

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ordoro.client import SyncSettings

#: The STATE key of what a stream emitted where the next run reads again (its zones).
RECENTLY_EMITTED = "recently_emitted"
#: The STATE key of the ranges a parallel read finished above its bookmark.
COVERED = "covered"
#: At most this many covered ranges are kept (the highest go: read again, never lost).
COVERED_LIMIT = 16


@lru_cache(maxsize=4096)
def instant(value: str) -> datetime:
    """An Ordoro timestamp as an instant (cached: a page repeats a few values many times)."""
    return parse_instant(value)


class Bookmarks(Stream):
    """Bookmarks, covered ranges and the zones of what was emitted (module docstring)."""

    #: Whether a record's version is its whole content (stock figures change without the
    #: replication key's instant), rather than its key and instant.
    content_versions: ClassVar[bool] = False
    settings: SyncSettings
    primary_keys: list[str]
    #: How far the bookmark may go: a reader's watermark, or the sync's start.
    bookmark_limit: datetime | None
    #: What the list read had delivered with the last batch (None: it says nothing yet).
    delivered: Coverage | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bookmark_limit = None
        self.delivered = None
        self._captured = False
        self._previous_bookmark: datetime | None = None
        self._new_bookmark: datetime | None = None
        self._newest_emitted: datetime | None = None
        self._covered_before: list[Range] = []
        self._rereads: Rereads[Record] = Rereads([], self.version)
        self._emitted_versions = EmittedVersions()

    def start_bookmarks(self) -> None:
        """At the start of a sync (after :meth:`capture_state`): nothing emitted yet.

        A stream whose versions are contents drops its zones from the STATE until it ends: a
        record it emits after a STATE message and a crash could otherwise make that STATE say
        an older content was the last one emitted for its key.
        """
        self.bookmark_limit = None
        self.delivered = None
        self._new_bookmark = None
        self._newest_emitted = None
        self._emitted_versions = EmittedVersions()
        if self.replication_key is not None and self.content_versions:
            self.stream_state.pop(RECENTLY_EMITTED, None)

    def end_bookmarks(self) -> None:
        """At the end of a sync: the zones of what it emitted into the STATE."""
        if self.replication_key is not None:
            self.note_delivered(final=True)
        self._captured = False

    def stored_state(self) -> Mapping[str, Any]:
        """This stream's STATE, read without creating an entry for it (reading ahead reads it
        before singer-sdk's turn, when an empty entry would become a STATE message)."""
        return self.tap_state.get("bookmarks", {}).get(self.name, {})

    def capture_state(self) -> None:
        """The bookmark this sync starts from, the ranges finished above it, and the zones of
        what was emitted where it reads again.

        Only reads the STATE (reading ahead captures it before singer-sdk's turn), once a sync.
        """
        if self._captured:
            return
        self._captured = True
        state = self.stored_state()
        value = state.get("replication_key_value")
        self._previous_bookmark = instant(value) if value else None
        self._covered_before = _ranges_from_state(state.get(COVERED))
        zones = zones_from_state(state.get(RECENTLY_EMITTED))
        self._rereads = Rereads(zones if self._previous_bookmark else [], self.version)

    def bookmark(self) -> datetime | None:
        """The instant of this stream's bookmark when the sync began (None: first sync)."""
        return self._previous_bookmark

    def read_start(self) -> datetime | None:
        """Where reading starts: the bookmark minus the lookback, else ``start_date``."""
        if self.replication_key is None:
            return None
        bookmark = self.bookmark()
        if bookmark is not None:
            return bookmark - self.settings.lookback
        start_date = self.config.get("start_date")
        return parse_instant(start_date) if start_date else None

    def skip_ranges(self) -> list[Range]:
        """The ranges a killed run finished above the bookmark, less their last
        ``lookback_seconds`` (rows there may have committed after they were read): a resumed
        read need not read them again."""
        lookback = self.settings.lookback
        if self._previous_bookmark is None:
            return []
        return [
            (low, high - lookback) for low, high in self._covered_before if high - lookback > low
        ]

    def record_key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The record's primary key as a tuple."""
        return tuple(record.get(name) for name in self.primary_keys)

    def record_instant(self, record: Mapping[str, Any]) -> datetime | None:
        """The record's replication-key instant (None: it has none)."""
        value = record.get(self.replication_key) if self.replication_key else None
        return instant(value) if value else None

    def version(self, record: Mapping[str, Any]) -> Version:
        """What identifies this version of a record: its key and instant (or whole content,
        see :attr:`content_versions`), fingerprinted."""
        key = list(self.record_key(record))
        if self.content_versions:
            return key_version(key, record)
        return key_version(key, record.get(self.replication_key or ""))

    def admit(self, records: Iterable[Record], start: datetime | None) -> Iterator[Record]:
        """The records to emit now, of records read from ``start`` on: those older than it, or
        inside a range finished before, are left out; those inside a zone of the STATE are held
        back until :meth:`release` (compared with what was emitted there)."""
        skipped = self.skip_ranges()
        for record in records:
            moment = self.record_instant(record)
            if moment is None:
                yield record  # it cannot be placed in time: emit it rather than lose it
                continue
            if start is not None and moment < start:
                continue
            if any(low < moment < high for low, high in skipped):
                continue
            zone = self._rereads.zone_of(moment)
            if zone is None:
                yield record
            else:
                self._rereads.hold(zone, record, moment)

    def release(self, *, final: bool = False) -> list[Record]:
        """The held records of zones the read has passed (all when ``final``) whose slot
        changed; those found emitted before are noted as this run's."""
        watermark = self.delivered.watermark if self.delivered is not None else None
        emit, confirmed = self._rereads.release(watermark, final=final)
        for moment, version in confirmed:
            self.remember(moment, version)
        return emit

    def remember(self, moment: datetime, version: Version) -> None:
        """A version this run emitted, or found emitted before (for the STATE's zones)."""
        self._emitted_versions.note(moment, version)

    def follow(self, coverage: Coverage | None) -> None:
        """A batch comes with what the read had delivered: the bookmark may go up to its
        watermark (a read in another order keeps the limit it has)."""
        if coverage is not None:
            self.bookmark_limit = coverage.watermark
        self.delivered = coverage

    def note_delivered(self, *, final: bool = False) -> None:
        """Once a batch is emitted: the ranges finished above the bookmark, and the zones of
        what was emitted where a resumed or later run reads again, into the STATE.

        Streams read in time order note them after every batch; the others, and streams whose
        versions are contents, only at the end (``final``).
        """
        if self.replication_key is None:
            return
        if not final and (not self.is_sorted or self.content_versions):
            return
        bookmark = self._new_bookmark or self._previous_bookmark
        covered = [] if final or self.delivered is None else list(self.delivered.ranges)
        held = self._rereads.undecided()
        delivered = [
            (low, high)
            for low, high in covered
            if (bookmark is None or high > bookmark)
            and not any(start < high and low < end for start, end in held)
        ]
        covered = delivered[:COVERED_LIMIT]
        lookback = self.settings.lookback
        spans = [(high - lookback, high) for _, high in covered]
        if bookmark is not None:
            spans.append((bookmark - lookback, bookmark))
        floor = None if bookmark is None else bookmark - lookback
        # Below a delivered range's last ``lookback`` no zone will ask for a version, whether
        # or not the range is among the ones the STATE names now (a range past the limit that
        # is named later is named with its last ``lookback`` only): forgotten, so that the
        # versions kept stay few while more windows are open than the STATE names.
        self._emitted_versions.forget_outside(
            floor, [(low, high - lookback) for low, high in delivered]
        )
        state = self.stream_state
        state[RECENTLY_EMITTED] = [zone.to_state() for zone in self._emitted_versions.zones(spans)]
        if covered:
            state[COVERED] = [[to_utc_iso(low), to_utc_iso(high)] for low, high in covered]
        else:
            state.pop(COVERED, None)

    def effective_limit(self) -> datetime | None:
        """How far the bookmark may go now: the limit, and never past a record held back."""
        held = self._rereads.lowest_held()
        limit = self.bookmark_limit
        if held is not None and (limit is None or held < limit):
            return held
        return limit

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        """Advance the bookmark to the record's instant, within :meth:`effective_limit`.

        The SDK compares replication-key values as strings, so "2024-11-03T01:30:00-05:00" would
        beat the later "2024-11-03T01:10:00-06:00". It is handed the instant in UTC, in one
        fixed format where string order is time order; the record itself is emitted as Ordoro
        sent it. The value is capped at the reader's watermark (parallel windows) or the
        sync's start (streams not read in time order), and at the first record held back. The
        record's version is noted for the STATE's ``recently_emitted``.

        A private SDK method: singer-sdk has no public hook for how replication-key values are
        compared (meltano/sdk#2753). Checked against singer-sdk 0.54.x;
        ``tests/tap_ordoro/test_sdk_hooks.py`` fails if an upgrade renames it or changes its
        signature.
        """
        moment = self.record_instant(latest_record)
        if moment is None:
            return
        bookmark = moment
        limit = self.effective_limit()
        if limit is not None and bookmark > limit:
            bookmark = limit
        if self._previous_bookmark is not None and bookmark < self._previous_bookmark:
            bookmark = self._previous_bookmark  # a lookback re-read never moves it back
        if self._new_bookmark is None or bookmark > self._new_bookmark:
            self._new_bookmark = bookmark
        if self._newest_emitted is None or moment > self._newest_emitted:
            self._newest_emitted = moment
        self.remember(moment, self.version(latest_record))
        key = str(self.replication_key)
        super()._increment_stream_state({key: to_utc_iso(bookmark)}, context=context)

    def settle_bookmark(self) -> None:
        """After the last batch: the bookmark moves up to the newest instant emitted, within
        :attr:`bookmark_limit` as the reader left it.

        Each record moves the bookmark only as far as the limit that held when it came. With
        windows read in parallel the window that finishes last may bring no new record, so
        what its end allows would otherwise go unsaid, and the next sync would emit again the
        records between the last limit and the newest instant.
        """
        target = self._newest_emitted
        if target is None:
            return
        if self.bookmark_limit is not None and target > self.bookmark_limit:
            target = self.bookmark_limit
        if self._new_bookmark is not None and target <= self._new_bookmark:
            return
        if self._previous_bookmark is not None and target <= self._previous_bookmark:
            return
        self._new_bookmark = target
        key = str(self.replication_key)
        super()._increment_stream_state({key: to_utc_iso(target)}, context=None)


def _ranges_from_state(value: Any) -> list[Range]:
    """The covered ranges a STATE holds (none if unreadable: they are read again)."""
    ranges: list[Range] = []
    for item in value if isinstance(value, list) else []:
        try:
            low, high = (instant(str(part)) for part in item)
        except (TypeError, ValueError):
            return []
        ranges.append((low, high))
    return ranges
