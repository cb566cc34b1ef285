"""When a step of an enrollment is due: local wall-clock time in the sequence's zone, stored as UTC.

The DST rules of SPEC are exactly PEP 495's `fold=0` reading of a wall time:
- a local time inside a gap (spring forward, Apia's skipped 2011-12-30) is read with the offset in force
  *before* the gap, which lands the instant as far past the gap's start as the time was: 02:30 in New
  York on a spring-forward day becomes 03:30 EDT (07:30Z), i.e. it moves forward by the gap;
- a local time that happens twice (fall back) is read with the first offset: its first occurrence.
So the whole rule is "attach the zone with fold=0, convert to UTC"; no branching of our own.
"""

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = datetime.UTC


@lru_cache(maxsize=512)
def zone(tz_name: str) -> ZoneInfo:
    """A cached ZoneInfo; raises ValueError for a name that is not an IANA zone."""
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone: {tz_name!r}") from exc


def scheduled_instant(
    *, start_date: datetime.date, offset_days: int, offset_time: datetime.time, tz_name: str
) -> datetime.datetime:
    """The aware UTC instant of local `start_date + offset_days` at `offset_time` in `tz_name`.

    Pure. Seconds and microseconds of `offset_time` are kept (steps use whole minutes). Raises
    ValueError for an unknown zone and OverflowError for dates outside datetime's range.
    """
    local_day = start_date + datetime.timedelta(days=offset_days)
    wall = datetime.datetime.combine(local_day, offset_time.replace(tzinfo=None), tzinfo=zone(tz_name))
    return wall.replace(fold=0).astimezone(UTC)


def local_today(tz_name: str, *, now: datetime.datetime | None = None) -> datetime.date:
    """Today's date in `tz_name` (the default enrollment start)."""
    now = now or datetime.datetime.now(UTC)
    return now.astimezone(zone(tz_name)).date()
