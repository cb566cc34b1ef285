"""scheduled_instant: the SPEC's DST rules, pinned by fixed cases and checked by properties over all zones."""

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrollments.scheduling import local_today, scheduled_instant

UTC = datetime.UTC
D = datetime.date
T = datetime.time


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def at(day, hh_mm, tz, offset_days=0):
    return scheduled_instant(start_date=day, offset_days=offset_days, offset_time=hh_mm, tz_name=tz)


# --- fixed cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "when", "tz", "expected"),
    [
        # Chicago: CST (-6) in January, CDT (-5) in July.
        (D(2027, 1, 15), T(9, 0), "America/Chicago", utc(2027, 1, 15, 15, 0)),
        (D(2027, 7, 15), T(9, 0), "America/Chicago", utc(2027, 7, 15, 14, 0)),
        # New York spring forward: 02:30 does not exist, moves forward by the hour gap to 03:30 EDT.
        (D(2027, 3, 14), T(2, 30), "America/New_York", utc(2027, 3, 14, 7, 30)),
        (D(2027, 3, 14), T(3, 30), "America/New_York", utc(2027, 3, 14, 7, 30)),
        (D(2027, 3, 14), T(1, 59), "America/New_York", utc(2027, 3, 14, 6, 59)),
        # New York fall back: 01:30 happens twice; the first (EDT) wins.
        (D(2027, 11, 7), T(1, 30), "America/New_York", utc(2027, 11, 7, 5, 30)),
        (D(2027, 11, 7), T(2, 0), "America/New_York", utc(2027, 11, 7, 7, 0)),
        # Lord Howe: +10:30 standard, +11 in summer, a 30-minute DST. Spring forward 2026-10-04 02:00.
        (D(2026, 7, 1), T(9, 0), "Australia/Lord_Howe", utc(2026, 6, 30, 22, 30)),
        (D(2027, 1, 10), T(9, 0), "Australia/Lord_Howe", utc(2027, 1, 9, 22, 0)),
        (D(2026, 10, 4), T(2, 15), "Australia/Lord_Howe", utc(2026, 10, 3, 15, 45)),  # gap: = 02:45 +11
        # Lord Howe fall back 2027-04-04 02:00 -> 01:30: 01:45 twice, first is +11.
        (D(2027, 4, 4), T(1, 45), "Australia/Lord_Howe", utc(2027, 4, 3, 14, 45)),
        # Kathmandu: +05:45 all year.
        (D(2027, 3, 1), T(9, 0), "Asia/Kathmandu", utc(2027, 3, 1, 3, 15)),
        (D(2027, 3, 1), T(0, 0), "Asia/Kathmandu", utc(2027, 2, 28, 18, 15)),
        # Apia skipped 2011-12-30 (-10 -> +14): 09:00 that day is 09:00 on the 31st, same as the 31st's.
        (D(2011, 12, 29), T(9, 0), "Pacific/Apia", utc(2011, 12, 29, 19, 0)),
        (D(2011, 12, 30), T(9, 0), "Pacific/Apia", utc(2011, 12, 30, 19, 0)),
        (D(2011, 12, 31), T(9, 0), "Pacific/Apia", utc(2011, 12, 30, 19, 0)),
        (D(2011, 12, 31), T(0, 0), "Pacific/Apia", utc(2011, 12, 30, 10, 0)),
        # UTC and a zone with no DST are plain arithmetic.
        (D(2027, 3, 14), T(2, 30), "UTC", utc(2027, 3, 14, 2, 30)),
    ],
)
def test_fixed_cases(day, when, tz, expected):
    instant = at(day, when, tz)
    assert instant == expected
    assert instant.tzinfo is UTC


def test_offset_days_crosses_a_dst_change_at_the_same_wall_time():
    # Enrolled in winter, a step 60 days later lands in summer: still 09:00 local, one hour less in UTC.
    assert at(D(2027, 2, 1), T(9, 0), "America/New_York", offset_days=0) == utc(2027, 2, 1, 14, 0)
    assert at(D(2027, 2, 1), T(9, 0), "America/New_York", offset_days=60) == utc(2027, 4, 2, 13, 0)


def test_apia_skipped_day_does_not_exist_locally():
    instant = at(D(2011, 12, 30), T(12, 0), "Pacific/Apia")
    assert instant.astimezone(zoneinfo.ZoneInfo("Pacific/Apia")).date() == D(2011, 12, 31)


def test_unknown_zone_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown time zone"):
        at(D(2027, 1, 1), T(9, 0), "Mars/Olympus_Mons")


def test_local_today_uses_the_zone():
    now = utc(2027, 1, 1, 3, 0)  # still Dec 31 in Chicago, already Jan 1 in Kathmandu
    assert local_today("America/Chicago", now=now) == D(2026, 12, 31)
    assert local_today("Asia/Kathmandu", now=now) == D(2027, 1, 1)


# --- properties over many zones and dates ----------------------------------------------------------

ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
zones = st.sampled_from(ZONES)
dates = st.dates(min_value=D(1970, 1, 1), max_value=D(2060, 12, 31))
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
offsets = st.integers(min_value=0, max_value=3650)


def _wall(instant: datetime.datetime, tz: str) -> datetime.datetime:
    return instant.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None, fold=0)


def _exists(wall: datetime.datetime, tz: str) -> bool:
    """A wall time exists in `tz` when reading it and writing it back gives it unchanged."""
    return _wall(wall.replace(tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC), tz) == wall


@settings(max_examples=400, deadline=None)
@given(tz=zones, day=dates, when=times, offset=offsets)
def test_round_trip_or_forward_by_the_gap(tz, day, when, offset):
    instant = at(day, when, tz, offset_days=offset)
    requested = datetime.datetime.combine(day + datetime.timedelta(days=offset), when)
    back = _wall(instant, tz)
    if _exists(requested, tz):
        assert back == requested
    else:
        # Moved forward by exactly the gap: the offset after the change minus the offset before it.
        zone = zoneinfo.ZoneInfo(tz)
        before = requested.replace(tzinfo=zone, fold=0).utcoffset()
        after = requested.replace(tzinfo=zone, fold=1).utcoffset()
        assert back - requested == before - after or back - requested == after - before
        assert back > requested


@settings(max_examples=400, deadline=None)
@given(tz=zones, day=dates, when=times, offset=offsets)
def test_never_in_a_gap_and_ambiguous_takes_the_first(tz, day, when, offset):
    instant = at(day, when, tz, offset_days=offset)
    assert instant.tzinfo is UTC
    back = _wall(instant, tz)
    assert _exists(back, tz)
    requested = datetime.datetime.combine(day + datetime.timedelta(days=offset), when)
    if _exists(requested, tz):
        zone = zoneinfo.ZoneInfo(tz)
        both = {requested.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
        assert instant == min(both)


@settings(max_examples=400, deadline=None)
@given(tz=zones, day=dates, when=times, a=offsets, b=offsets)
def test_monotonic_in_offset_days(tz, day, when, a, b):
    low, high = sorted((a, b))
    first, second = at(day, when, tz, offset_days=low), at(day, when, tz, offset_days=high)
    assert first <= second
    # A day apart in local time is a day apart in UTC, give or take the zone's offset changes
    # (Apia once jumped 24 hours, which is why equality is allowed).
    assert second - first <= datetime.timedelta(days=high - low + 1)
    if high - low >= 2:
        assert first < second
