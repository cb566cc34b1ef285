"""When a row goes out under a sequence's collections calendar: send days, a send window, holidays.

The one place that answers "when does this row go out" (enroll, bulk enroll, due-date re-plan, preview,
resume). Pure: plain values in, an aware UTC instant and a `schedule_note` out, no ORM.

SPEC's five steps, on top of Part 1 (`enrollments.scheduling`: a wall time read with PEP 495 `fold=0`):
1. the zone is resolved by the caller and given as `tz_name`;
2. the local date is the anchor (`start_date` or the invoice's `due_date`) + `offset_days` (may be < 0);
3. while that date is not a send day, or (with `skip_holidays`) is a public holiday of the calendar,
   take the next day;
4. the time is `offset_time`; with a window [start, end), a time before start becomes start, a time at
   or after end becomes start on the next allowed day (step 3 again);
5. to UTC with `fold=0`.

Decisions where SPEC leaves room (each is a test in tests/enrollments/test_calendar.py):
- Steps 3-4 judge the *local reading of the nominal instant* (Part 1's `scheduled_instant`). The two
  differ only for a wall time inside a DST gap, which Part 1 already moved forward by the gap: 02:30 in
  New York on a spring-forward day is 03:30 EDT, and with a 03:00-09:00 window that row stays at 03:30
  (clamping the unmoved 02:30 to 03:00 would send it *earlier* than Part 1 does). So a plan is never
  before its nominal instant, and with all seven days, no window and no holidays it is that instant.
- After step 5 the local reading must still obey the rules. It can fail only when the planned wall time
  is in a gap and the gap pushes it out of the window or onto a day that is not allowed (a 02:00-03:00
  window on a spring-forward day; Apia's skipped 2011-12-30). Then steps 3-4 run again from the real
  local time, and the note says "02:00 on Sun 2027-03-14 is skipped by a clock change". A DST move that
  keeps the row inside the rules is Part 1 behaviour and gets no note.
- Hence planning is idempotent: a planned instant obeys the rules in local time, so planning it again
  changes nothing. `SendPlanner.settle` (resume with shift) keeps an instant that obeys the rules as it
  is, even the second occurrence of an ambiguous time, and otherwise moves it forward by steps 3-4 with
  its own local time in place of `offset_time`.
- A day that is both not a send day and a holiday is noted once, as not a send day.
- Holiday calendar: the customer's (country, subdivision) when the customer has a country, else the
  company's, else none; the pairs are never mixed (`holiday_calendar`). Codes are the `holidays`
  package's own, exact case: ISO 3166-1 alpha-2 countries ("GB", not "UK" or "gb"), its subdivision codes
  for that country ("ENG", "BY", "NSW"); labels read "GB-ENG", or "FR" without a subdivision.
- Holiday names are asked for in English (the country's default language when that is English, else
  "en_US" when supported), so notes do not depend on the server's LANG. The package's "(observed)"
  suffix is written "(substitute)" as in SPEC's "Boxing Day (substitute)", for every country. Two
  holidays on one date read "A, B".
- Notes: the reasons in the order they moved the row, joined by "; "; more than four become the first
  three and "and N more". Window texts: "07:00 is before the send window 09:00-17:00", "17:00 is at the
  end of the send window 09:00-17:00", "18:30 is after the send window 09:00-17:00".
- The day search stops after 366 days with ValueError (e.g. every allowed weekday a holiday).

Cost: one planner per sequence's rules memoizes each local date's day-skipping result and each
(local date, offset time) plan, and holidays are fetched once per (country, subdivision, year) per
process (`holidays_for_year`, lru_cache). A bulk enroll's rows repeat (one start date x its steps), so
50,000 of them cost less than the plain `scheduled_instant` loop; 50,000 all-distinct rows cost ~2-4x.
"""

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import holidays

from daylit.calendar_codes import ALL_DAYS, WEEKDAYS, is_known_country, is_known_subdivision
from enrollments.scheduling import UTC, scheduled_instant, zone

MAX_SEARCH_DAYS = 366
MAX_NOTE_PARTS = 4
_MAX_ROUNDS = 8  # steps 3-5 again after a clock change; real zones need at most two
_WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not strftime: no locale
_OBSERVED = re.compile(r"\(observed\b")
_ONE_DAY = datetime.timedelta(days=1)

HolidayCalendar = tuple[str, str | None]  # (country, subdivision or None)
Window = tuple[datetime.time, datetime.time]  # [start, end) in local wall time


@dataclass(frozen=True)
class PlannedSend:
    instant: datetime.datetime  # aware, UTC
    note: str | None  # None when nothing moved the row


# --- holiday calendars ------------------------------------------------------------------------------


def holiday_calendar(
    *,
    customer_country: str | None,
    customer_subdivision: str | None,
    company_country: str | None,
    company_subdivision: str | None,
) -> HolidayCalendar | None:
    """The customer's calendar when the customer has a country, else the company's, else None.

    The pair is taken whole: a customer in "GB" with no subdivision does not borrow the company's.
    """
    if customer_country:
        return (customer_country, customer_subdivision or None)
    if company_country:
        return (company_country, company_subdivision or None)
    return None


def calendar_label(calendar: HolidayCalendar) -> str:
    """How notes name a calendar: "GB-ENG" for ("GB", "ENG"), "FR" for ("FR", None)."""
    country, subdivision = calendar
    return f"{country}-{subdivision}" if subdivision else country


def _english(country: str) -> str | None:
    entity = getattr(holidays, country)
    if (entity.default_language or "").startswith("en"):
        return entity.default_language
    if "en_US" in entity.supported_languages:
        return "en_US"
    english = [language for language in entity.supported_languages if language.startswith("en")]
    # With no English translation the names are the package's source strings (English when the entity
    # has no translations at all).
    return english[0] if english else entity.default_language


@lru_cache(maxsize=4096)
def holidays_for_year(country: str, subdivision: str | None, year: int) -> Mapping[datetime.date, str]:
    """Public holidays of one (country, subdivision) in one year, date -> English name.

    Asks the `holidays` package once per key per process (planning 50,000 rows costs one call per
    calendar and year). Raises ValueError for codes the package does not know.
    """
    if not is_known_country(country) or (
        subdivision is not None and not is_known_subdivision(country, subdivision)
    ):
        raise ValueError(f"Unknown holiday calendar: {country!r}, {subdivision!r}")
    found = holidays.country_holidays(country, subdiv=subdivision, years=year, language=_english(country))
    names = {day: _OBSERVED.sub("(substitute", name).replace("; ", ", ") for day, name in found.items()}
    return MappingProxyType(names)


def holiday_name(calendar: HolidayCalendar, day: datetime.date) -> str | None:
    """The holiday's name on `day` in `calendar`, or None when it is not a public holiday."""
    country, subdivision = calendar
    return holidays_for_year(country, subdivision, day.year).get(day)


# --- planning ---------------------------------------------------------------------------------------


def _clock(t: datetime.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}" + (f":{t.second:02d}" if t.second or t.microsecond else "")


def _day(day: datetime.date) -> str:
    return f"{_WEEKDAY_LABELS[day.weekday()]} {day.isoformat()}"


def _join(parts: list[str]) -> str | None:
    if not parts:
        return None
    if len(parts) > MAX_NOTE_PARTS:
        shown = MAX_NOTE_PARTS - 1
        parts = [*parts[:shown], f"and {len(parts) - shown} more"]
    return "; ".join(parts)


class SendPlanner:
    """One sequence's calendar rules in one zone; plans any number of rows under them.

    Validates the rules once (ValueError: unknown zone, empty or unknown send days, a window whose start
    is not before its end, an unknown holiday calendar with `skip_holidays`). Not thread-safe (its
    memos are plain dicts); make one per request or task.
    """

    def __init__(
        self,
        *,
        tz_name: str,
        send_days: Iterable[str] = ALL_DAYS,
        window: Window | None = None,
        skip_holidays: bool = False,
        calendar: HolidayCalendar | None = None,
    ) -> None:
        self.tz_name = tz_name
        self._zone = zone(tz_name)
        days = frozenset(send_days)
        if not days or not days <= ALL_DAYS:
            raise ValueError(f"send_days must be a non-empty subset of {WEEKDAYS}: {sorted(days)!r}")
        self.send_days = days
        self._weekdays = frozenset(WEEKDAYS.index(d) for d in days)
        if window is not None:
            start, end = (t.replace(tzinfo=None) for t in window)
            if not start < end:
                raise ValueError(f"Send window start must be before its end: {start}-{end}")
            window = (start, end)
            self._span = f"the send window {_clock(start)}-{_clock(end)}"
        self.window = window
        self.calendar = calendar if skip_holidays else None
        if self.calendar is not None:
            country, subdivision = self.calendar
            if not is_known_country(country) or (
                subdivision is not None and not is_known_subdivision(country, subdivision)
            ):
                raise ValueError(f"Unknown holiday calendar: {calendar!r}")
            self._label = calendar_label(self.calendar)
        self._days: dict[datetime.date, tuple[datetime.date, tuple[str, ...]]] = {}
        self._plans: dict[tuple[datetime.date, datetime.time], PlannedSend] = {}

    # Public -----------------------------------------------------------------------------------------

    def plan(
        self, *, anchor_date: datetime.date, offset_days: int, offset_time: datetime.time
    ) -> PlannedSend:
        """The row for local `anchor_date + offset_days` at `offset_time`, moved by the rules.

        Raises ValueError when no allowed day comes within MAX_SEARCH_DAYS, OverflowError for dates
        outside datetime's range.
        """
        if offset_time.tzinfo is not None:
            offset_time = offset_time.replace(tzinfo=None)
        key = (anchor_date + datetime.timedelta(days=offset_days), offset_time)
        planned = self._plans.get(key)
        if planned is None:
            nominal = scheduled_instant(
                start_date=key[0], offset_days=0, offset_time=key[1], tz_name=self.tz_name
            )
            planned = self._plans[key] = self.settle(nominal)
        return planned

    def plan_many(self, rows: Iterable[tuple[datetime.date, int, datetime.time]]) -> list[PlannedSend]:
        """`plan` for each (anchor_date, offset_days, offset_time), in order (bulk enroll, re-plan)."""
        plan, seen = self.plan, {}
        planned = []
        for row in rows:  # rows of a bulk repeat: one dict lookup for a row seen before
            found = seen.get(row)
            if found is None:
                anchor_date, offset_days, offset_time = row
                found = seen[row] = plan(
                    anchor_date=anchor_date, offset_days=offset_days, offset_time=offset_time
                )
            planned.append(found)
        return planned

    def settle(self, instant: datetime.datetime) -> PlannedSend:
        """`instant` unchanged when its local time obeys the rules, else moved forward by steps 3-4
        (its local time standing in for `offset_time`). Resume with shift uses this directly."""
        wall = instant.astimezone(self._zone).replace(tzinfo=None)
        if self._fits(wall):
            return PlannedSend(instant.astimezone(UTC), None)
        parts: list[str] = []
        quiet_window = False
        for _ in range(_MAX_ROUNDS):
            planned = self._apply_rules(wall, parts, quiet_window=quiet_window)
            instant = planned.replace(tzinfo=self._zone).astimezone(UTC)  # fold=0, as Part 1
            wall = instant.astimezone(self._zone).replace(tzinfo=None)
            if wall == planned or self._fits(wall):
                return PlannedSend(instant, _join(parts))
            # The planned wall time is in a DST gap that pushed it out of the rules: say so, not why
            # the pushed time is outside the window.
            parts.append(f"{_clock(planned.time())} on {_day(planned.date())} is skipped by a clock change")
            quiet_window = True
        raise ValueError(f"No send time found in {self.tz_name} after {_MAX_ROUNDS} clock changes")

    # Steps 3-4 ----------------------------------------------------------------------------------------

    def _fits(self, wall: datetime.datetime) -> bool:
        day = wall.date()
        if self._next_allowed(day)[0] != day:
            return False
        return self.window is None or self.window[0] <= wall.time() < self.window[1]

    def _apply_rules(
        self, wall: datetime.datetime, parts: list[str], *, quiet_window: bool
    ) -> datetime.datetime:
        day, skipped = self._next_allowed(wall.date())
        parts.extend(skipped)
        when = wall.time()
        if when.fold:  # the day may have moved: fold=0 as Part 1
            when = when.replace(fold=0)
        if self.window is not None:
            start, end = self.window
            span = self._span
            if when < start:
                if not quiet_window:
                    parts.append(f"{_clock(when)} is before {span}")
                when = start
            elif when >= end:
                if not quiet_window:
                    where = "at the end of" if when == end else "after"
                    parts.append(f"{_clock(when)} is {where} {span}")
                day, skipped = self._next_allowed(day + _ONE_DAY)
                parts.extend(skipped)
                when = start
        return datetime.datetime.combine(day, when)

    def _next_allowed(self, day: datetime.date) -> tuple[datetime.date, tuple[str, ...]]:
        """Step 3 from `day`: the first allowed day and why each day before it was not. Memoized."""
        found = self._days.get(day)
        if found is not None:
            return found
        reasons: list[str] = []
        candidate = day
        for _ in range(MAX_SEARCH_DAYS + 1):
            if candidate.weekday() not in self._weekdays:
                reasons.append(f"{_day(candidate)} is not a send day")
            elif self.calendar is not None and (name := holiday_name(self.calendar, candidate)) is not None:
                reasons.append(f"{candidate.isoformat()} is a holiday in {self._label}: {name}")
            else:
                found = self._days[day] = (candidate, tuple(reasons))
                return found
            candidate += _ONE_DAY
        raise ValueError(f"No send day within {MAX_SEARCH_DAYS} days of {day.isoformat()}")


def plan_send(
    *,
    anchor_date: datetime.date,
    offset_days: int,
    offset_time: datetime.time,
    tz_name: str,
    send_days: Iterable[str] = ALL_DAYS,
    window: Window | None = None,
    skip_holidays: bool = False,
    calendar: HolidayCalendar | None = None,
) -> PlannedSend:
    """One row (`SendPlanner(...).plan(...)`); for many rows under the same rules, keep one planner."""
    planner = SendPlanner(
        tz_name=tz_name, send_days=send_days, window=window, skip_holidays=skip_holidays, calendar=calendar
    )
    return planner.plan(anchor_date=anchor_date, offset_days=offset_days, offset_time=offset_time)
