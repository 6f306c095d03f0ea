"""Ordoro timestamps as instants.

Ordoro sends timestamps in the account's local time with its UTC offset
("2024-11-03T01:30:00-05:00"). Across a daylight-saving change the offset changes, so the
strings do not sort in time order: "…01:30:00-05:00" sorts after "…01:10:00-06:00" although it
is 40 minutes earlier. Everything that orders or compares timestamps (bookmarks, the sandbox's
filters and sorts) goes through these functions and compares instants, never strings.

Filter values the tap sends are written by :class:`AccountZone`, so that they mean the same
instant whether a server reads their offset or their wall time in the account's zone.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: The time zone the sandbox's account lives in; Ordoro sends local times with their offset.
ACCOUNT_TIMEZONE = ZoneInfo("America/Chicago")

#: One step of Ordoro's timestamp resolution (microseconds).
RESOLUTION = timedelta(microseconds=1)


def parse_instant(
    value: str | datetime, *, naive_tz: timezone | ZoneInfo = timezone.utc
) -> datetime:
    """Parse an ISO 8601 timestamp (or take a datetime) and return an aware datetime.

    A value without an offset is read in ``naive_tz`` (UTC unless the caller says otherwise).
    A bare date ("2024-11-03") is midnight of that day. Raises ``ValueError`` naming the value
    when it is not a timestamp.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed


def to_utc_iso(value: str | datetime) -> str:
    """Return the instant as a UTC ISO 8601 string with microseconds always written.

    In this one fixed format, string order is time order, which is what the Singer SDK's
    bookmark logic relies on when it compares replication-key values.
    """
    instant = parse_instant(value).astimezone(timezone.utc)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def to_account_iso(value: datetime) -> str:
    """Format an instant as Ordoro does: account local time, microseconds, UTC offset."""
    return parse_instant(value).astimezone(ACCOUNT_TIMEZONE).isoformat(timespec="microseconds")


#: The westmost and eastmost UTC offsets in use: a filter value for an account whose zone is
#: not known yet is written in one of them, on the safe side.
_WESTMOST, _EASTMOST = timedelta(hours=-12), timedelta(hours=14)
_HOUR = timedelta(hours=1)


class AccountZone:
    """The account's time zone as far as its records show it, for filter values that mean one
    instant whether a server honours their UTC offset or drops it.

    The spec does not say how ``updated_after``/``updated_before`` are read. A server may take
    the instant the value's offset says, or drop the offset and read the wall time in the
    account's zone (the v3 order list takes an undocumented ``timezone`` parameter: a server
    that reads wall times somewhere). A value written in the offset the account's zone has at
    that instant means the same under both readings.

    Records carry that offset ("…-05:00"). Every instant :meth:`observe` is given narrows the
    zones the account may be in: the IANA zones whose offset at that instant is the observed
    one. :meth:`lower` and :meth:`upper` write an instant with an offset every remaining zone
    reads as that instant; where they disagree (nothing observed yet, an unobserved DST
    period) or cannot (an hour repeated when DST ends), on the safe side: a lower bound no
    later than the instant, an upper bound no earlier. A read with a bound on the safe side
    gets more records than it asked for, never fewer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zones: list[tzinfo] | None = None  # None: not narrowed yet (every zone)
        self._observed: set[tuple[timedelta, datetime]] = set()
        self._offsets: set[timedelta] = set()

    def observe(self, moment: datetime) -> None:
        """Learn from an instant as a record carried it (with the account's offset)."""
        offset = moment.utcoffset()
        if offset is None:
            return
        utc = moment.astimezone(timezone.utc)
        key = (offset, utc.replace(minute=0, second=0, microsecond=0))
        if key in self._observed:  # one observation an hour and offset says all there is
            return
        with self._lock:
            self._observed.add(key)
            self._offsets.add(offset)
            zones = self._zones if self._zones is not None else _every_zone()
            fitting = [zone for zone in zones if utc.astimezone(zone).utcoffset() == offset]
            # No IANA zone fits (a server sending odd offsets): the observed offsets, each as
            # a fixed zone.
            self._zones = fitting or [timezone(o) for o in sorted(self._offsets)]

    @property
    def known(self) -> bool:
        """Whether any record's offset has been observed."""
        return bool(self._offsets)

    def lower(self, moment: datetime) -> str:
        """``moment`` as a lower-bound filter value: read as ``moment`` or earlier."""
        return self._value(moment, lower=True)

    def upper(self, moment: datetime) -> str:
        """``moment`` as an upper-bound filter value: read as ``moment`` or later."""
        return self._value(moment, lower=False)

    def _value(self, moment: datetime, *, lower: bool) -> str:
        moment = moment.astimezone(timezone.utc)
        with self._lock:
            zones = None if self._zones is None else list(self._zones)
        if zones is None:  # nothing observed: the westmost or eastmost offset in use
            extreme = timezone(_WESTMOST if lower else _EASTMOST)
            return moment.astimezone(extreme).isoformat(timespec="microseconds")
        offsets = sorted({moment.astimezone(zone).utcoffset() or timedelta(0) for zone in zones})
        # The offset reading least beyond `moment` first; then an hour or two further out.
        if lower:
            tried = [*reversed(offsets), offsets[0] - _HOUR, offsets[0] - 2 * _HOUR]
        else:
            tried = [*offsets, offsets[-1] + _HOUR, offsets[-1] + 2 * _HOUR]
        for offset in tried:
            wall = moment.astimezone(timezone(offset))
            if all(_safe(wall, zone, moment, lower) for zone in zones):
                return wall.isoformat(timespec="microseconds")
        return moment.astimezone(timezone(_WESTMOST if lower else _EASTMOST)).isoformat(
            timespec="microseconds"
        )


def _safe(wall: datetime, zone: tzinfo, moment: datetime, lower: bool) -> bool:
    """Whether ``wall``'s wall time read in ``zone`` (first occurrence) is on the safe side."""
    read = wall.replace(tzinfo=None).replace(tzinfo=zone).astimezone(timezone.utc)
    return read <= moment if lower else read >= moment


@lru_cache(maxsize=1)
def _every_zone() -> list[tzinfo]:
    """Every IANA zone this machine knows, and UTC's fixed offsets from -12:00 to +14:00 (so
    that a machine without time zone data still writes safe values)."""
    zones: list[tzinfo] = []
    for name in sorted(available_timezones()):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover (a broken entry)
            continue
    quarters = range(
        int(_WESTMOST / timedelta(minutes=15)), int(_EASTMOST / timedelta(minutes=15)) + 1
    )
    zones.extend(timezone(timedelta(minutes=15 * quarter)) for quarter in quarters)
    return zones
