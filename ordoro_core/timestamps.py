"""Ordoro timestamps as instants.

Ordoro sends timestamps in the account's local time with its UTC offset
("2024-11-03T01:30:00-05:00"). Across a daylight-saving change the offset changes, so the
strings do not sort in time order: "…01:30:00-05:00" sorts after "…01:10:00-06:00" although it
is 40 minutes earlier. Everything that orders or compares timestamps (bookmarks, the sandbox's
filters and sorts) goes through these functions and compares instants, never strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

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
