"""Filter values that mean one instant whether a server honours their UTC offset or drops it
(``ordoro_core.timestamps.AccountZone``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ordoro_core.timestamps import AccountZone, parse_instant, to_utc_iso

#: The hour repeated when DST ended in 2024: 06:00-07:00 UTC is 01:00-02:00 CDT, 07:00-08:00
#: UTC is 01:00-02:00 CST again.
REPEATED = (
    datetime(2024, 11, 3, 6, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 8, tzinfo=timezone.utc),
)


def honoured(value: str) -> datetime:
    """The instant a server that honours the offset reads."""
    return parse_instant(value)


def dropped(value: str, zone: str = "America/Chicago") -> datetime:
    """The instant a server that drops the offset reads: the wall time in the account's zone,
    the first occurrence of a repeated one (in UTC: PEP 495 comparisons across zones)."""
    wall = parse_instant(value).replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def every_half_hour_of(year: int) -> list[datetime]:
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    return [start + timedelta(minutes=30 * step, microseconds=7) for step in range(2 * 24 * 366)]


def learnt_zone() -> AccountZone:
    """A zone that saw two records, one in winter and one in summer, as Ordoro sends them."""
    zone = AccountZone()
    zone.observe(parse_instant("2024-01-15T09:00:00.000000-06:00"))
    zone.observe(parse_instant("2024-07-15T09:00:00.000000-05:00"))
    return zone


def test_nothing_observed_values_are_in_the_westmost_and_eastmost_offsets():
    zone = AccountZone()
    moment = datetime(2024, 7, 1, 17, tzinfo=timezone.utc)
    assert zone.lower(moment).endswith("-12:00")
    assert zone.upper(moment).endswith("+14:00")
    for reading in (honoured, dropped):
        assert reading(zone.lower(moment)) <= moment <= reading(zone.upper(moment))
    assert honoured(zone.lower(moment)) == moment == honoured(zone.upper(moment))


def test_after_one_record_values_mean_the_same_instant_under_both_readings_all_year():
    zone = learnt_zone()
    for moment in every_half_hour_of(2024):
        lower, upper = zone.lower(moment), zone.upper(moment)
        assert honoured(lower) == moment == honoured(upper)
        if REPEATED[0] <= moment < REPEATED[1]:
            assert dropped(lower) <= moment <= dropped(upper)  # the safe side, an hour at most
            assert moment - dropped(lower) <= timedelta(hours=1)
            assert dropped(upper) - moment <= timedelta(hours=1)
        else:
            assert dropped(lower) == moment == dropped(upper), moment


def test_a_period_not_observed_yet_is_written_on_the_safe_side():
    """Seen only in winter at -06:00, the account may be in Chicago (-05:00 in summer) or in
    Regina (-06:00 all year): a summer value is right in both, or an hour on the safe side."""
    zone = AccountZone()
    zone.observe(parse_instant("2024-01-15T09:00:00.000000-06:00"))
    moment = datetime(2024, 7, 1, 17, tzinfo=timezone.utc)
    for name in ("America/Chicago", "America/Regina"):
        assert dropped(zone.lower(moment), name) <= moment <= dropped(zone.upper(moment), name)
    assert moment - dropped(zone.lower(moment)) == timedelta(hours=1)
    zone.observe(parse_instant("2024-07-02T09:00:00.000000-05:00"))  # Chicago, not Regina
    assert dropped(zone.lower(moment)) == moment


def test_control_utc_values_are_read_hours_late_when_the_offset_is_dropped():
    moment = datetime(2024, 7, 1, 17, tzinfo=timezone.utc)
    assert dropped(to_utc_iso(moment)) - moment == timedelta(hours=5)


@pytest.mark.parametrize(
    "record",
    ["2024-07-01T12:00:00.000000+05:30", "2024-07-01T12:00:00.000000+00:00"],
    ids=["kolkata", "utc-or-azores"],
)
def test_other_accounts_zones_are_learnt_too(record):
    """An account in India (no DST), and one whose records say +00:00 in July (UTC, or the
    Azores, -01:00 in December): values are exact under an honoured offset and never on the
    wrong side under a dropped one, read in any zone that fits the record."""
    zone = AccountZone()
    zone.observe(parse_instant(record))
    moment = datetime(2024, 12, 1, 3, tzinfo=timezone.utc)
    assert honoured(zone.lower(moment)) == moment == honoured(zone.upper(moment))
    fitting = {"kolkata": ["Asia/Kolkata", "Asia/Colombo"], "utc": ["UTC", "Atlantic/Azores"]}
    for name in fitting["kolkata" if record.endswith("+05:30") else "utc"]:
        assert dropped(zone.lower(moment), name) <= moment <= dropped(zone.upper(moment), name)
    if record.endswith("+05:30"):
        assert zone.lower(moment).endswith("+05:30")


def test_a_server_offset_no_zone_has_is_taken_as_a_fixed_offset():
    zone = AccountZone()
    zone.observe(parse_instant("2024-07-01T12:00:00.000000-03:17"))
    moment = datetime(2024, 12, 1, 3, tzinfo=timezone.utc)
    assert zone.lower(moment).endswith("-03:17")
    assert honoured(zone.lower(moment)) == moment
