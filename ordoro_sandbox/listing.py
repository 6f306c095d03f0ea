"""List endpoints: query parameters, filters, sorts and the count/limit/offset envelope.

Timestamps are compared as instants (``ordoro_core.timestamps.parse_instant``), never as text;
a query value without an offset is account local time. ``updated_after`` is exclusive (>) and
``updated_before`` inclusive (<=): the live API does not document its inclusivity, so clients
should not rely on either. Every sort ends with the record's key as tie-breaker, so the order
is total and stable; a descending sort reverses the whole key.

Where the spec leaves a list's reading open, :class:`ListReading` holds the other plausible
readings, each off by default: a page smaller than ``limit`` asks, filter values whose UTC
offset is dropped, and offsets refused past a result window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.datastructures import MultiDict

from ordoro_core.timestamps import ACCOUNT_TIMEZONE, parse_instant
from ordoro_sandbox.errors import ApiError

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

Record = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SortKey = Callable[[Record], Any]


@lru_cache(maxsize=262144)
def _micros(value: str) -> int:
    """A stored timestamp as microseconds since the epoch, computed once.

    Lists are filtered and sorted on every request, and a large account holds tens of thousands
    of timestamps: comparing aware datetimes (each comparison asks the time zone for its
    offset) made a page of 12,000 orders take a third of a second.
    """
    return _to_micros(parse_instant(value))


def _to_micros(instant: datetime) -> int:
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant_of(field: str, record: Record) -> datetime:
    """A record's timestamp field as an instant."""
    return parse_instant(record[field])


def nullable(value: Any) -> tuple:
    """A sort key that puts nulls first and compares the rest by value."""
    return (0,) if value is None else (1, value)


@dataclass
class ListReading:
    """Readings of a list request that the spec leaves open, each off by default.

    The spec says what ``limit``, ``offset`` and the ``updated_*`` filters are, not how a
    server bounds or reads them. A client must be right under each of these readings:

    * ``page_size_cap`` = N > 0: a page holds at most N records whatever ``limit`` asks, and
      the envelope's ``limit`` says N.
    * ``filter_offsets_ignored``: a timestamp filter value's UTC offset is dropped and its wall
      time read in the account's zone (America/Chicago; on ``/v3/order`` the zone the
      undocumented ``timezone`` parameter names, when given). A wall time that occurs twice
      (the hour repeated when DST ends) is read as its first occurrence.
    * ``result_window`` = N > 0: an ``offset`` at or past N answers 400 naming ``offset``, as
      list APIs with a result window do (many stop at 10,000).
    """

    page_size_cap: int = 0
    filter_offsets_ignored: bool = False
    result_window: int = 0

    def zone(self, args: MultiDict, zone_param: bool) -> ZoneInfo | None:
        """The zone a filter value's wall time is read in (None: its own offset is used)."""
        if not self.filter_offsets_ignored:
            return None
        name = args.get("timezone") if zone_param else None
        if not name:
            return ACCOUNT_TIMEZONE
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"timezone is not a known time zone: {name!r}"
            raise ApiError(400, message, "timezone") from None


@dataclass(frozen=True)
class ListParams:
    """The paging part of a list query."""

    limit: int
    offset: int


def paging(args: MultiDict, reading: ListReading | None = None) -> ListParams:
    """``limit`` (1..100, default 10) and ``offset`` (>= 0, default 0); 400 otherwise.

    Under ``reading``, ``limit`` is capped at its page size cap and an offset at or past its
    result window answers 400.
    """
    limit = _int_arg(args, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}, got {limit}", "limit")
    offset = _int_arg(args, "offset", 0)
    if offset < 0:
        raise ApiError(400, f"offset cannot be negative, got {offset}", "offset")
    if reading is not None and reading.result_window and offset >= reading.result_window:
        raise ApiError(
            400,
            f"offset must be below {reading.result_window} (the result window): narrow the "
            "query instead",
            "offset",
        )
    if reading is not None and reading.page_size_cap:
        limit = min(limit, reading.page_size_cap)
    return ListParams(limit, offset)


def envelope(list_key: str, matching: list[Record], params: ListParams) -> dict[str, Any]:
    """Ordoro's list envelope with the singular model name as list key."""
    return {
        "count": len(matching),
        "limit": params.limit,
        "offset": params.offset,
        list_key: matching[params.offset : params.offset + params.limit],
    }


def check_sort(sort: str, sort_keys: dict[str, SortKey]) -> tuple[str, bool]:
    """The field and direction ``sort`` names; 400 when the field is not sortable."""
    descending = sort.startswith("-")
    field = sort[1:] if descending else sort
    if field not in sort_keys:
        names = ", ".join(sorted(sort_keys))
        raise ApiError(400, f"sort must be one of {names} (or their negation): {sort!r}", "sort")
    return field, descending


def updated_window(
    args: MultiDict, field: str, zone: ZoneInfo | None = None
) -> Callable[[Record], bool]:
    """The updated_after (exclusive) / updated_before (inclusive) filter on ``field``.

    With ``zone`` (see :meth:`ListReading.zone`), a value's offset is dropped and its wall time
    read in that zone.
    """
    after = instant_arg(args, "updated_after", zone)
    before = instant_arg(args, "updated_before", zone)

    low = None if after is None else _to_micros(after)
    high = None if before is None else _to_micros(before)

    def inside(record: Record) -> bool:
        moment = _micros(record[field])
        return (low is None or moment > low) and (high is None or moment <= high)

    return inside


def instant_arg(args: MultiDict, name: str, zone: ZoneInfo | None = None) -> datetime | None:
    """A timestamp query parameter; without an offset it is account local time.

    With ``zone``, its offset is dropped and its wall time read in ``zone`` (the first
    occurrence of a wall time that occurs twice).
    """
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        parsed = parse_instant(value, naive_tz=ACCOUNT_TIMEZONE)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 timestamp: {value!r}", name) from None
    if zone is not None:
        return parsed.replace(tzinfo=None).replace(tzinfo=zone)
    return parsed


def bool_arg(args: MultiDict, name: str) -> bool | None:
    """A true/false query parameter (also 1/0); None when absent."""
    value = args.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false: {value!r}", name)


def int_list_arg(args: MultiDict, name: str) -> set[int] | None:
    """A repeatable integer query parameter (``?warehouse_id=1&warehouse_id=2``)."""
    values = args.getlist(name)
    if not values:
        return None
    try:
        return {int(v) for v in values}
    except ValueError:
        raise ApiError(400, f"{name} takes whole numbers: {values!r}", name) from None


def choice_arg(args: MultiDict, name: str, choices: Iterable[str], default: str) -> str:
    """A query parameter limited to ``choices``."""
    value = args.get(name, default)
    allowed = tuple(choices)
    if value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}: {value!r}", name)
    return value


def _int_arg(args: MultiDict, name: str, default: int) -> int:
    value = args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number: {value!r}", name) from None


def contains(needle: str, *haystacks: Any) -> bool:
    """Case-insensitive substring search over the non-null haystacks."""
    lowered = needle.lower()
    return any(lowered in str(h).lower() for h in haystacks if h is not None)


class FieldKey:
    """A sort key on one top-level field of a record: what a kept sorted order can check
    (:class:`ordoro_sandbox.sorted_views.SortedViews`)."""

    def __init__(self, field: str, convert: Callable[[Any], tuple]) -> None:
        self.field = field
        self._convert = convert

    def __call__(self, record: Record) -> tuple:
        return self._convert(record.get(self.field))


def by(field: str) -> FieldKey:
    """Sort key on a plain field (nulls first)."""
    return FieldKey(field, nullable)


def by_instant(field: str) -> FieldKey:
    """Sort key on a timestamp field, by instant; nulls sort after every instant.

    Nulls are greater than any value, as in PostgreSQL: last in an ascending sort, first in a
    descending one.
    """
    return FieldKey(field, _instant_or_null)


def _instant_or_null(value: Any) -> tuple:
    return (1,) if value is None else (0, _micros(value))
