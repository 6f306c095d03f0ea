"""What a run remembers of the records it emitted, so that the next run's re-reads are not
emitted again, in a STATE of bounded size.

A run reads again what lies just behind where the previous one stopped: the last
``lookback_seconds`` before its bookmark (rows commit late), and the last ``lookback_seconds``
of each range a killed run had finished (see :attr:`tap_ordoro.keyset.Coverage.ranges`). These
spans of instants are its *zones*. For each zone the STATE keeps what was emitted there, as
64-bit fingerprints of the versions (a version: the key and the instant, or the key and the
whole content where the content changes without the instant, as stock does), 8 bytes each,
:data:`MAX_VALUES` at most per stream, whatever the data:

* while a stream's zones hold at most :data:`MAX_VALUES` versions, each one is kept: a re-read
  whose version is among them is dropped, any other is emitted;
* beyond that, a zone keeps *slots*: the versions are spread over them by a hash of their key,
  and a slot is the sum (modulo 2**64) of its versions' fingerprints. The next run holds back
  the records it reads in the zone until the zone is read whole; a slot whose re-read versions
  add up to the stored sum holds exactly what was emitted there, and its records are dropped;
  any other slot (a row that committed late, stock that moved, a record that left the zone)
  has all its records emitted again. One change then costs about
  ``versions / MAX_VALUES`` records emitted again.

Either way an idle run emits nothing, a record is at least once, never lost, and a key's
version is compared with the last one emitted for that key (a record emitted again replaces
its key's earlier version). What it rests on: two different versions, or sets of versions,
have the same fingerprint or sum with a chance of 2**-64 (then a record would be dropped).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec

from ordoro_core.timestamps import parse_instant, to_utc_iso

#: A closed span of instants ``(start, end)``.
Span = tuple[datetime, datetime]
#: What a :class:`Rereads` holds back: a record, or anything with a version.
Item = TypeVar("Item")

#: Values (versions or slots) of one stream's zones together: the STATE's size bound (8 bytes
#: each, base64).
MAX_VALUES = 256
_MODULUS = 1 << 64


#: Compact JSON with sorted keys (msgspec: a seventh of the standard library's time for a product;
#: every product and inventory row is fingerprinted whole); what JSON cannot hold as it is
#: is written as its text.
_CANONICAL_JSON = msgspec.json.Encoder(order="sorted", enc_hook=str)


def fingerprint(value: Any) -> int:
    """A 64-bit fingerprint of a JSON-like value."""
    text = _CANONICAL_JSON.encode(value)
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Version:
    """One version of a record: its key's fingerprint and the version's."""

    key: int
    value: int


@dataclass(frozen=True)
class Zone:
    """The instants ``start``..``end`` (both included) and what was emitted there: each
    version's fingerprint (``exact``), or slot sums (see the module docstring)."""

    start: datetime
    end: datetime
    values: tuple[int, ...]
    exact: bool = True

    def holds(self, instant: datetime) -> bool:
        """Whether ``instant`` lies in this zone."""
        return self.start <= instant <= self.end

    def slot(self, key: int) -> int:
        """The slot of a key's versions (a zone of slot sums)."""
        return key % len(self.values)

    def to_state(self) -> dict[str, str]:
        """The zone as the STATE keeps it."""
        packed = b"".join(value.to_bytes(8, "big") for value in self.values)
        return {
            "from": to_utc_iso(self.start),
            "to": to_utc_iso(self.end),
            "versions" if self.exact else "sums": base64.b64encode(packed).decode("ascii"),
        }

    @classmethod
    def from_state(cls, value: Any) -> Zone | None:
        """A zone from the STATE; None for anything else (an older STATE's format)."""
        if not isinstance(value, Mapping):
            return None
        exact = "versions" in value
        try:
            packed = base64.b64decode(str(value["versions" if exact else "sums"]), validate=True)
            start, end = parse_instant(str(value["from"])), parse_instant(str(value["to"]))
        except (KeyError, ValueError, binascii.Error):
            return None
        if not packed or len(packed) % 8 or end < start:
            return None
        values = tuple(
            int.from_bytes(packed[at : at + 8], "big") for at in range(0, len(packed), 8)
        )
        return cls(start, end, values, exact)

    def kept(self, versions: Sequence[Version]) -> list[bool]:
        """For versions read again in this zone (each once): whether each was emitted."""
        if self.exact:
            known = set(self.values)
            return [version.value in known for version in versions]
        sums = [0] * len(self.values)
        for version in versions:
            slot = self.slot(version.key)
            sums[slot] = (sums[slot] + version.value) % _MODULUS
        return [
            sums[self.slot(version.key)] == self.values[self.slot(version.key)]
            for version in versions
        ]


def zones_from_state(value: Any) -> list[Zone]:
    """The zones a STATE holds (none from an older STATE, which kept a list of versions)."""
    if not isinstance(value, list):
        return []
    zones = [zone for zone in map(Zone.from_state, value) if zone is not None]
    return sorted(zones, key=lambda zone: zone.start)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Spans sorted, those that overlap or touch joined."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[0] <= span[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _open_span_finder(spans: Sequence[Span]) -> Callable[[datetime], bool]:
    """Whether an instant lies strictly inside one of ``spans`` (open at both ends)."""
    ordered = sorted((low, high) for low, high in spans if low < high)
    if any(before[1] > after[0] for before, after in itertools.pairwise(ordered)):
        return lambda instant: any(low < instant < high for low, high in ordered)
    lows = [low for low, _ in ordered]

    def inside(instant: datetime) -> bool:
        index = bisect.bisect_left(lows, instant) - 1  # the last span starting before it
        return index >= 0 and instant < ordered[index][1]

    return inside


@dataclass
class EmittedVersions:
    """The last version of each key a run emitted (or found emitted before) at instants a
    later run may read again; made into :class:`Zone` s for the STATE."""

    _latest: dict[int, tuple[datetime, int]] = field(default_factory=dict)

    def note(self, instant: datetime, version: Version) -> None:
        """A version emitted at ``instant`` (it replaces the key's earlier one)."""
        self._latest[version.key] = (instant, version.value)

    def forget_outside(self, floor: datetime | None, skipped: Sequence[Span] = ()) -> None:
        """Forget versions no later zone can hold: before ``floor``, or inside ``skipped``
        (open spans: the parts of finished ranges a resumed run does not read again).

        Called after every batch of a read, over every version since the bookmark's lookback
        (thousands while windows above a slow first one deliver), so each version is placed
        among the spans by bisection, not by trying each span.
        """
        inside_skipped = _open_span_finder(skipped)
        self._latest = {
            key: (instant, value)
            for key, (instant, value) in self._latest.items()
            if (floor is None or instant >= floor) and not inside_skipped(instant)
        }

    def zones(self, spans: Iterable[Span], max_values: int = MAX_VALUES) -> list[Zone]:
        """The zones over ``spans``: every version while they hold ``max_values`` at most,
        else slot sums, ``max_values`` together (a span where nothing was emitted is left out:
        all its re-reads are new)."""
        merged = merge_spans(spans)
        starts = [start for start, _ in merged]
        buckets: list[list[tuple[int, int]]] = [[] for _ in merged]
        for key, (instant, value) in self._latest.items():
            # Merged spans are disjoint: the only one that can hold ``instant`` is the last
            # one starting at or before it.
            index = bisect.bisect_right(starts, instant) - 1
            if index >= 0 and instant <= merged[index][1]:
                buckets[index].append((key, value))
        members = [(span, inside) for span, inside in zip(merged, buckets, strict=True) if inside]
        total = sum(len(inside) for _, inside in members)
        if total <= max_values:
            return [
                Zone(start, end, tuple(sorted(value for _, value in inside)))
                for (start, end), inside in members
            ]
        zones = []
        spare = max_values - len(members)
        for (start, end), inside in members:
            slots = 1 + len(inside) * spare // total
            sums = [0] * slots
            for key, value in inside:
                sums[key % slots] = (sums[key % slots] + value) % _MODULUS
            zones.append(Zone(start, end, tuple(sums), exact=False))
        return zones


@dataclass
class _Held(Generic[Item]):
    item: Item
    instant: datetime
    version: Version


class Rereads(Generic[Item]):
    """The records a run reads inside the zones of its STATE, held back until each zone is
    read whole; then each slot is compared with what was emitted there (module docstring)."""

    def __init__(self, zones: Sequence[Zone], version_of: Callable[[Item], Version]) -> None:
        self._zones = list(zones)
        self._version_of = version_of
        self._held: dict[int, list[_Held[Item]]] = {}
        self._decided: set[int] = set()
        self._lowest: datetime | None = None

    def zone_of(self, instant: datetime) -> int | None:
        """The index of the zone holding ``instant`` that is still being read (None: none)."""
        for index, zone in enumerate(self._zones):
            if zone.holds(instant) and index not in self._decided:
                return index
        return None

    def hold(self, zone: int, item: Item, instant: datetime) -> None:
        """Hold back a record (or item) read inside zone ``zone``."""
        self._held.setdefault(zone, []).append(_Held(item, instant, self._version_of(item)))
        if self._lowest is None or instant < self._lowest:
            self._lowest = instant

    def undecided(self) -> list[Span]:
        """The spans of zones holding records back (no STATE may say they were delivered)."""
        return [
            (self._zones[index].start, self._zones[index].end)
            for index, held in self._held.items()
            if held
        ]

    def lowest_held(self) -> datetime | None:
        """The earliest instant of a record held back (a bookmark may not pass it)."""
        return self._lowest

    def release(
        self, watermark: datetime | None, *, final: bool = False
    ) -> tuple[list[Item], list[tuple[datetime, Version]]]:
        """Decide the zones read whole (below ``watermark``, or all when ``final``).

        Returns the records to emit (their slot changed) and the versions found emitted
        before (their slot is as it was), each in instant order.
        """
        emit: list[_Held[Item]] = []
        confirmed: list[_Held[Item]] = []
        for index, zone in enumerate(self._zones):
            if index in self._decided:
                continue
            if not final and (watermark is None or watermark <= zone.end):
                continue
            self._decided.add(index)
            held = _unique(self._held.pop(index, []))
            for item, kept in zip(held, zone.kept([item.version for item in held]), strict=True):
                (confirmed if kept else emit).append(item)
        instants = [held.instant for group in self._held.values() for held in group]
        self._lowest = min(instants, default=None)
        emit.sort(key=lambda item: item.instant)
        confirmed.sort(key=lambda item: item.instant)
        return [item.item for item in emit], [(item.instant, item.version) for item in confirmed]


def _unique(held: list[_Held[Item]]) -> list[_Held[Item]]:
    """One of each version (a record read twice in a zone counts once)."""
    seen: dict[tuple[int, int], _Held[Item]] = {}
    for item in held:
        seen.setdefault((item.version.key, item.version.value), item)
    return list(seen.values())


def key_version(key: Hashable, value: Any) -> Version:
    """The :class:`Version` of a record with key ``key`` whose version is ``value``."""
    return Version(fingerprint(key), fingerprint([key, value]))
