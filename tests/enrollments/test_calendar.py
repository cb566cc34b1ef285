"""The collections calendar (enrollments/calendar.py): fixed cases with concrete instants and notes, and
properties over every zone, send-day set, window and date. Pure: no database."""

import datetime
import zoneinfo
from functools import lru_cache

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrollments.calendar import (
    ALL_DAYS,
    WEEKDAYS,
    PlannedSend,
    SendPlanner,
    calendar_label,
    holiday_calendar,
    holiday_name,
    holidays_for_year,
    is_known_country,
    is_known_subdivision,
    plan_send,
)
from enrollments.scheduling import scheduled_instant

UTC = datetime.UTC
D = datetime.date
T = datetime.time
WORKDAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})
NINE_TO_FIVE = (T(9, 0), T(17, 0))


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def plan(day, when, tz, *, offset_days=0, send_days=ALL_DAYS, window=None, calendar=None):
    return plan_send(
        anchor_date=day,
        offset_days=offset_days,
        offset_time=when,
        tz_name=tz,
        send_days=send_days,
        window=window,
        skip_holidays=calendar is not None,
        calendar=calendar,
    )


@pytest.fixture
def package_calls(monkeypatch):
    """Counts calls into the `holidays` package (the real one answers), with our cache emptied."""
    calls = []
    real = holidays.country_holidays

    def counting(country, *args, **kwargs):
        calls.append((country, kwargs.get("subdiv"), kwargs.get("years")))
        return real(country, *args, **kwargs)

    holidays_for_year.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting)
    yield calls
    holidays_for_year.cache_clear()


# --- holidays by country ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "tz", "calendar", "expected", "note"),
    [
        # US: Thanksgiving (Thu) -> Fri.
        (
            D(2026, 11, 26),
            "America/New_York",
            ("US", None),
            utc(2026, 11, 27, 14, 0),
            "2026-11-26 is a holiday in US: Thanksgiving Day",
        ),
        # DE-BY: Epiphany is a Bavarian holiday...
        (
            D(2027, 1, 6),
            "Europe/Berlin",
            ("DE", "BY"),
            utc(2027, 1, 7, 8, 0),
            "2027-01-06 is a holiday in DE-BY: Epiphany",
        ),
        # ... and not a Berlin one.
        (D(2027, 1, 6), "Europe/Berlin", ("DE", "BE"), utc(2027, 1, 6, 8, 0), None),
        # FR: le 14 juillet (Tue) -> Wed, CEST.
        (
            D(2026, 7, 14),
            "Europe/Paris",
            ("FR", None),
            utc(2026, 7, 15, 7, 0),
            "2026-07-14 is a holiday in FR: National Day",
        ),
        # AU-NSW: Australia Day (Tue), AEDT (+11).
        (
            D(2027, 1, 26),
            "Australia/Sydney",
            ("AU", "NSW"),
            utc(2027, 1, 26, 22, 0),
            "2027-01-26 is a holiday in AU-NSW: Australia Day",
        ),
        # AU-NSW only: Labour Day is the first Monday of October in NSW, in March in Victoria, and not
        # a national holiday. (Sydney is on AEDT since 2026-10-04.)
        (
            D(2026, 10, 5),
            "Australia/Sydney",
            ("AU", "NSW"),
            utc(2026, 10, 5, 22, 0),
            "2026-10-05 is a holiday in AU-NSW: Labour Day",
        ),
        (D(2026, 10, 5), "Australia/Melbourne", ("AU", "VIC"), utc(2026, 10, 4, 22, 0), None),
        (D(2026, 10, 5), "Australia/Sydney", ("AU", None), utc(2026, 10, 4, 22, 0), None),
    ],
)
def test_a_public_holiday_moves_the_row_to_the_next_workday(day, tz, calendar, expected, note):
    assert plan(day, T(9, 0), tz, send_days=WORKDAYS, calendar=calendar) == PlannedSend(expected, note)


def test_gb_eng_boxing_day_substitute_is_the_specs_example():
    # Sat and Sun are not send days, Mon 28 is Boxing Day's substitute: Tue 29, 09:00 GMT.
    assert plan(D(2026, 12, 26), T(9, 0), "Europe/London", send_days=WORKDAYS, calendar=("GB", "ENG")) == (
        PlannedSend(
            utc(2026, 12, 29, 9, 0),
            "Sat 2026-12-26 is not a send day; Sun 2026-12-27 is not a send day; "
            "2026-12-28 is a holiday in GB-ENG: Boxing Day (substitute)",
        )
    )
    # With every day a send day only the holidays move it: Sat 26 is Boxing Day itself.
    assert plan(D(2026, 12, 28), T(9, 0), "Europe/London", calendar=("GB", "ENG")) == PlannedSend(
        utc(2026, 12, 29, 9, 0), "2026-12-28 is a holiday in GB-ENG: Boxing Day (substitute)"
    )
    # Sat 26 is Boxing Day itself; Sun 27 is no holiday (Christmas fell on a Friday, no substitute).
    assert plan(D(2026, 12, 26), T(9, 0), "Europe/London", calendar=("GB", "ENG")) == PlannedSend(
        utc(2026, 12, 27, 9, 0), "2026-12-26 is a holiday in GB-ENG: Boxing Day"
    )


def test_us_independence_day_observed_then_the_weekend_lands_on_monday():
    # July 4th 2026 is a Saturday, observed Fri 3rd; then Sat and Sun are not send days.
    assert plan(D(2026, 7, 3), T(9, 0), "America/New_York", send_days=WORKDAYS, calendar=("US", None)) == (
        PlannedSend(
            utc(2026, 7, 6, 13, 0),
            "2026-07-03 is a holiday in US: Independence Day (substitute); "
            "Sat 2026-07-04 is not a send day; Sun 2026-07-05 is not a send day",
        )
    )


def test_a_day_that_is_both_weekend_and_holiday_is_noted_once_as_not_a_send_day():
    # Sat 2026-07-04 is Independence Day too.
    planned = plan(D(2026, 7, 4), T(9, 0), "America/New_York", send_days=WORKDAYS, calendar=("US", None))
    assert planned == PlannedSend(
        utc(2026, 7, 6, 13, 0), "Sat 2026-07-04 is not a send day; Sun 2026-07-05 is not a send day"
    )


def test_christmas_chain_in_gb_eng_names_every_reason_in_order():
    planned = plan(
        D(2026, 12, 24), T(9, 0), "Europe/London", offset_days=1, send_days=WORKDAYS, calendar=("GB", "ENG")
    )
    assert planned == PlannedSend(
        utc(2026, 12, 29, 9, 0),
        "2026-12-25 is a holiday in GB-ENG: Christmas Day; Sat 2026-12-26 is not a send day; "
        "Sun 2026-12-27 is not a send day; 2026-12-28 is a holiday in GB-ENG: Boxing Day (substitute)",
    )


def test_japanese_golden_week():
    # Mon 4 Greenery Day, Tue 5 Children's Day, Wed 6 the substitute for Sun 3 (Constitution Day).
    assert plan(D(2026, 5, 4), T(10, 0), "Asia/Tokyo", calendar=("JP", None)) == PlannedSend(
        utc(2026, 5, 7, 1, 0),
        "2026-05-04 is a holiday in JP: Greenery Day; 2026-05-05 is a holiday in JP: Children's Day; "
        "2026-05-06 is a holiday in JP: Substitute Holiday",
    )
    # From Saturday on workdays: five reasons, so the note keeps three and counts the rest.
    assert plan(D(2026, 5, 2), T(10, 0), "Asia/Tokyo", send_days=WORKDAYS, calendar=("JP", None)) == (
        PlannedSend(
            utc(2026, 5, 7, 1, 0),
            "Sat 2026-05-02 is not a send day; Sun 2026-05-03 is not a send day; "
            "2026-05-04 is a holiday in JP: Greenery Day; and 2 more",
        )
    )


def test_holidays_are_ignored_without_skip_holidays():
    planned = plan_send(
        anchor_date=D(2026, 12, 28),
        offset_days=0,
        offset_time=T(9, 0),
        tz_name="Europe/London",
        skip_holidays=False,
        calendar=("GB", "ENG"),
    )
    assert planned == PlannedSend(utc(2026, 12, 28, 9, 0), None)


def test_skip_holidays_without_a_calendar_skips_none():
    planned = plan_send(
        anchor_date=D(2026, 12, 25),
        offset_days=0,
        offset_time=T(9, 0),
        tz_name="Europe/London",
        skip_holidays=True,
        calendar=None,
    )
    assert planned == PlannedSend(utc(2026, 12, 25, 9, 0), None)


# --- offsets, windows, DST ---------------------------------------------------------------------------


def test_negative_offset_before_an_invoice_due_date():
    # Due Mon 2027-03-15, two days before is Sat: Mon again, EDT since the 14th.
    planned = plan(D(2027, 3, 15), T(9, 0), "America/New_York", offset_days=-2, send_days=WORKDAYS)
    assert planned == PlannedSend(
        utc(2027, 3, 15, 13, 0), "Sat 2027-03-13 is not a send day; Sun 2027-03-14 is not a send day"
    )
    # Three days before a Monday due date over Christmas lands after the due date: the rule moves forward.
    planned = plan(
        D(2026, 12, 28), T(9, 0), "Europe/London", offset_days=-3, send_days=WORKDAYS, calendar=("GB", "ENG")
    )
    assert planned.instant == utc(2026, 12, 29, 9, 0)
    assert planned.note.startswith("2026-12-25 is a holiday in GB-ENG: Christmas Day; ")
    # Nothing in the way: a week before a Wednesday is a Wednesday.
    assert plan(D(2027, 3, 10), T(9, 0), "America/New_York", offset_days=-7, send_days=WORKDAYS) == (
        PlannedSend(utc(2027, 3, 3, 14, 0), None)
    )


@pytest.mark.parametrize(
    ("day", "when", "expected", "note"),
    [
        # Inside the window: untouched.
        (D(2027, 1, 14), T(9, 0), utc(2027, 1, 14, 14, 0), None),
        (D(2027, 1, 14), T(16, 59), utc(2027, 1, 14, 21, 59), None),
        # Before it: its start, the same day.
        (D(2027, 1, 14), T(7, 0), utc(2027, 1, 14, 14, 0), "07:00 is before the send window 09:00-17:00"),
        # Exactly at its end: the next allowed day at the start.
        (
            D(2027, 1, 14),
            T(17, 0),
            utc(2027, 1, 15, 14, 0),
            "17:00 is at the end of the send window 09:00-17:00",
        ),
        (D(2027, 1, 14), T(18, 30), utc(2027, 1, 15, 14, 0), "18:30 is after the send window 09:00-17:00"),
        # Friday after the window: Monday, the weekend in between said too.
        (
            D(2027, 1, 15),
            T(17, 0),
            utc(2027, 1, 18, 14, 0),
            "17:00 is at the end of the send window 09:00-17:00; "
            "Sat 2027-01-16 is not a send day; Sun 2027-01-17 is not a send day",
        ),
        # A weekend day and a time before the window: both, in the order the rules applied.
        (
            D(2027, 1, 16),
            T(7, 0),
            utc(2027, 1, 18, 14, 0),
            "Sat 2027-01-16 is not a send day; Sun 2027-01-17 is not a send day; "
            "07:00 is before the send window 09:00-17:00",
        ),
    ],
)
def test_send_window(day, when, expected, note):
    planned = plan(day, when, "America/New_York", send_days=WORKDAYS, window=NINE_TO_FIVE)
    assert planned == PlannedSend(expected, note)


def test_window_start_inside_a_spring_forward_gap_moves_forward_by_the_gap():
    # New York 2027-03-14: 02:00 -> 03:00. The window opens at 02:30, which reads as 03:30 EDT (Part 1).
    planned = plan(D(2027, 3, 14), T(1, 0), "America/New_York", window=(T(2, 30), T(9, 0)))
    assert planned == PlannedSend(utc(2027, 3, 14, 7, 30), "01:00 is before the send window 02:30-09:00")


def test_a_nominal_time_inside_the_gap_is_judged_where_part_1_puts_it():
    # 02:30 reads as 03:30 EDT, inside 03:00-09:00: unchanged, never pulled back to 03:00 (07:00Z).
    nominal = scheduled_instant(
        start_date=D(2027, 3, 14), offset_days=0, offset_time=T(2, 30), tz_name="America/New_York"
    )
    assert nominal == utc(2027, 3, 14, 7, 30)
    assert plan(D(2027, 3, 14), T(2, 30), "America/New_York", window=(T(3, 0), T(9, 0))) == PlannedSend(
        nominal, None
    )


def test_a_window_wholly_inside_the_gap_goes_to_the_next_day():
    # 02:00-03:00 does not exist on 2027-03-14; 02:00 would read 03:00, the window's end.
    planned = plan(D(2027, 3, 14), T(1, 0), "America/New_York", window=(T(2, 0), T(3, 0)))
    assert planned == PlannedSend(
        utc(2027, 3, 15, 6, 0),
        "01:00 is before the send window 02:00-03:00; 02:00 on Sun 2027-03-14 is skipped by a clock change",
    )


def test_apia_skipped_day_is_judged_as_the_day_it_becomes():
    # 2011-12-30 did not exist in Apia; 09:00 that day is Sat 09:00, and only Fridays are send days.
    planned = plan(D(2011, 12, 30), T(9, 0), "Pacific/Apia", send_days={"fri"})
    assert planned.instant == utc(2012, 1, 5, 19, 0)  # Fri 2012-01-06 09:00 +14
    assert planned.note.startswith("Sat 2011-12-31 is not a send day; ")


def test_ambiguous_fall_back_time_takes_the_first_occurrence():
    # New York 2027-11-07: 01:00-02:00 happens twice (EDT, then EST).
    planned = plan(D(2027, 11, 7), T(0, 30), "America/New_York", window=(T(1, 30), T(8, 0)))
    assert planned == PlannedSend(utc(2027, 11, 7, 5, 30), "00:30 is before the send window 01:30-08:00")
    assert plan(D(2027, 11, 7), T(1, 45), "America/New_York", window=(T(1, 30), T(8, 0))) == PlannedSend(
        utc(2027, 11, 7, 5, 45), None
    )


def test_settle_keeps_an_allowed_instant_even_the_second_occurrence():
    planner = SendPlanner(tz_name="America/New_York", window=(T(1, 30), T(8, 0)))
    second = utc(2027, 11, 7, 6, 45)  # 01:45 EST, the second 01:45
    assert planner.settle(second) == PlannedSend(second, None)


def test_settle_moves_a_shifted_instant_forward_by_steps_3_and_4():
    # Resume with shift put a row on Sat 07:00 EST: Mon, at the window's start.
    planner = SendPlanner(tz_name="America/New_York", send_days=WORKDAYS, window=NINE_TO_FIVE)
    assert planner.settle(utc(2027, 1, 16, 12, 0)) == PlannedSend(
        utc(2027, 1, 18, 14, 0),
        "Sat 2027-01-16 is not a send day; Sun 2027-01-17 is not a send day; "
        "07:00 is before the send window 09:00-17:00",
    )
    # Without a window its own local time is kept on the next allowed day.
    planner = SendPlanner(tz_name="America/New_York", send_days=WORKDAYS)
    assert planner.settle(utc(2027, 1, 16, 12, 0)) == PlannedSend(
        utc(2027, 1, 18, 12, 0), "Sat 2027-01-16 is not a send day; Sun 2027-01-17 is not a send day"
    )


def test_an_endless_search_is_a_value_error(monkeypatch):
    # A country where every day is a holiday (a fake at the package's edge).
    def every_day(country, *, subdiv, years, language):
        days = (D(years, 1, 1) + datetime.timedelta(days=n) for n in range(366))
        return {day: "Holiday" for day in days if day.year == years}

    holidays_for_year.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", every_day)
    try:
        with pytest.raises(ValueError, match="No send day within 366 days of 2027-01-04"):
            plan(D(2027, 1, 4), T(9, 0), "Europe/Paris", send_days=WORKDAYS, calendar=("FR", None))
    finally:
        holidays_for_year.cache_clear()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"send_days": frozenset()},
        {"send_days": {"mon", "funday"}},
        {"window": (T(17, 0), T(9, 0))},
        {"window": (T(9, 0), T(9, 0))},
        {"skip_holidays": True, "calendar": ("XX", None)},
        {"skip_holidays": True, "calendar": ("GB", "BY")},
        {"tz_name": "Mars/Olympus_Mons"},
    ],
)
def test_bad_rules_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        SendPlanner(**{"tz_name": "UTC", **kwargs})


# --- calendars: codes, labels, resolution, cache ----------------------------------------------------


def test_known_countries_and_subdivisions_are_the_packages_codes():
    assert is_known_country("GB") and is_known_country("US") and is_known_country("JP")
    assert not is_known_country("UK")  # the package's alias, not ISO 3166-1
    assert not is_known_country("GBR") and not is_known_country("gb") and not is_known_country("XX")
    assert is_known_subdivision("GB", "ENG") and is_known_subdivision("DE", "BY")
    assert is_known_subdivision("AU", "NSW") and is_known_subdivision("US", "CA")
    assert not is_known_subdivision("GB", "BY")
    assert not is_known_subdivision("GB", "England")  # an alias, not a code
    assert not is_known_subdivision("JP", "13")  # the package has no Japanese subdivisions
    assert not is_known_subdivision("XX", "ENG")


def test_calendar_label():
    assert calendar_label(("GB", "ENG")) == "GB-ENG"
    assert calendar_label(("FR", None)) == "FR"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("GB", "ENG", "DE", "BY"), ("GB", "ENG")),
        (("GB", None, "GB", "SCT"), ("GB", None)),  # the customer's pair is taken whole
        ((None, None, "DE", "BY"), ("DE", "BY")),
        ((None, "ENG", "FR", None), ("FR", None)),  # a subdivision without its country means nothing
        ((None, None, None, None), None),
        (("", "", "", ""), None),
    ],
)
def test_holiday_calendar_is_the_customers_else_the_companys(codes, expected):
    customer_country, customer_subdivision, company_country, company_subdivision = codes
    assert (
        holiday_calendar(
            customer_country=customer_country,
            customer_subdivision=customer_subdivision,
            company_country=company_country,
            company_subdivision=company_subdivision,
        )
        == expected
    )


def test_the_package_is_asked_once_per_calendar_and_year(package_calls):
    planner = SendPlanner(
        tz_name="Europe/London",
        send_days=WORKDAYS,
        window=NINE_TO_FIVE,
        skip_holidays=True,
        calendar=("GB", "ENG"),
    )
    start = D(2026, 1, 1)
    rows = [(start + datetime.timedelta(days=n), step, T(9, 0)) for n in range(731) for step in (0, 3, 7)]
    planner.plan_many(rows)
    # A second planner with the same calendar (another request) reuses the cache.
    SendPlanner(tz_name="Europe/London", skip_holidays=True, calendar=("GB", "ENG")).plan_many(rows)
    assert sorted(package_calls) == [("GB", "ENG", 2026), ("GB", "ENG", 2027), ("GB", "ENG", 2028)]
    assert holiday_name(("DE", "BY"), D(2027, 1, 6)) == "Epiphany"
    assert holiday_name(("DE", "BY"), D(2027, 1, 7)) is None
    assert package_calls[-1] == ("DE", "BY", 2027)
    assert len(package_calls) == 4


def test_plan_many_is_plan_for_each_row_in_order():
    planner = SendPlanner(tz_name="America/New_York", send_days=WORKDAYS, window=NINE_TO_FIVE)
    rows = [(D(2027, 1, 15), 0, T(17, 0)), (D(2027, 1, 14), 0, T(9, 0)), (D(2027, 1, 15), 0, T(17, 0))]
    assert planner.plan_many(rows) == [
        plan(day, when, "America/New_York", offset_days=days, send_days=WORKDAYS, window=NINE_TO_FIVE)
        for day, days, when in rows
    ]


# --- properties ------------------------------------------------------------------------------------

ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
CALENDARS = [("US", None), ("GB", "ENG"), ("DE", "BY"), ("FR", None), ("JP", None), ("AU", "NSW")]
zones = st.sampled_from(ZONES)
dates = st.dates(min_value=D(1971, 1, 1), max_value=D(2060, 12, 31))
minutes = st.integers(min_value=0, max_value=24 * 60 - 1)
times = minutes.map(lambda m: T(m // 60, m % 60))
offsets = st.integers(min_value=-365, max_value=3650)
day_sets = st.frozensets(st.sampled_from(WEEKDAYS), min_size=1)
windows = st.none() | st.tuples(minutes, minutes).filter(lambda pair: pair[0] != pair[1]).map(
    lambda pair: tuple(T(m // 60, m % 60) for m in sorted(pair))
)
calendars = st.none() | st.sampled_from(CALENDARS)


def _assert_obeys_the_rules(tz, day, when, offset, send_days, window, calendar):
    rules = {"tz_name": tz, "send_days": send_days, "window": window}
    rules |= {"skip_holidays": calendar is not None, "calendar": calendar}
    planned = SendPlanner(**rules).plan(anchor_date=day, offset_days=offset, offset_time=when)
    assert planned.instant.tzinfo is UTC
    local = planned.instant.astimezone(zoneinfo.ZoneInfo(tz))
    assert WEEKDAYS[local.weekday()] in send_days
    if calendar is not None:
        assert holiday_name(calendar, local.date()) is None
    if window is not None:
        assert window[0] <= local.time() < window[1]
    nominal = scheduled_instant(start_date=day, offset_days=offset, offset_time=when, tz_name=tz)
    assert planned.instant >= nominal
    assert (planned.note is None) == (planned.instant == nominal)
    # Planning the planned local date and time again changes nothing; so does settling the instant.
    fresh = SendPlanner(**rules)
    assert fresh.plan(anchor_date=local.date(), offset_days=0, offset_time=local.time()) == PlannedSend(
        planned.instant, None
    )
    assert fresh.settle(planned.instant) == PlannedSend(planned.instant, None)


@settings(max_examples=500, deadline=None)
@given(
    tz=zones, day=dates, when=times, offset=offsets, send_days=day_sets, window=windows, calendar=calendars
)
def test_a_plan_obeys_the_rules_is_never_early_and_is_a_fixed_point(
    tz, day, when, offset, send_days, window, calendar
):
    _assert_obeys_the_rules(tz, day, when, offset, send_days, window, calendar)


@lru_cache(maxsize=1)
def _transitions() -> list[tuple[str, datetime.datetime]]:
    """Every UTC-offset change of every zone in 2026-2027, as (zone, its wall time read with the offset
    before it: 02:00 for New York's spring forward and its fall back alike)."""
    found = []
    day = datetime.timedelta(days=1)
    for name in ZONES:
        here = zoneinfo.ZoneInfo(name)
        moment, before = utc(2026, 1, 1), utc(2026, 1, 1).astimezone(here).utcoffset()
        while moment < utc(2028, 1, 1):
            after = (moment + day).astimezone(here).utcoffset()
            if after != before:
                low, high = 0, 86_400  # seconds past `moment`: offset `before` at low, `after` at high
                while high - low > 1:
                    middle = (low + high) // 2
                    offset = (moment + datetime.timedelta(seconds=middle)).astimezone(here).utcoffset()
                    low, high = (middle, high) if offset == before else (low, middle)
                change = moment + datetime.timedelta(seconds=high)
                found.append((name, (change + before).replace(tzinfo=None)))
            moment, before = moment + day, after
    return found


near = st.integers(min_value=-150, max_value=150).map(lambda m: datetime.timedelta(minutes=m))


@settings(max_examples=500, deadline=None)
@given(
    transition=st.integers(min_value=0, max_value=10**6),
    shift=near,
    window=st.none() | st.tuples(near, near).filter(lambda pair: pair[0] != pair[1]),
    send_days=day_sets,
)
def test_rules_hold_around_every_dst_change(transition, shift, window, send_days):
    # Gaps and overlaps at random dates are rare; here the time and the window sit around a real change.
    tz, edge = _transitions()[transition % len(_transitions())]
    wall = edge + shift
    if window is not None:
        start, end = sorted(edge + delta for delta in window)
        if start.date() != end.date():
            return
        window = (start.time(), end.time())
    _assert_obeys_the_rules(tz, wall.date(), wall.time(), 0, send_days, window, None)


@settings(max_examples=500, deadline=None)
@given(tz=zones, day=dates, when=times, offset=offsets)
def test_with_no_rules_the_plan_is_part_1_exactly(tz, day, when, offset):
    planned = plan(day, when, tz, offset_days=offset)
    assert planned == PlannedSend(
        scheduled_instant(start_date=day, offset_days=offset, offset_time=when, tz_name=tz), None
    )


@settings(max_examples=300, deadline=None)
@given(tz=zones, day=dates, when=times, send_days=day_sets, calendar=calendars)
def test_without_a_window_the_row_keeps_its_time_on_the_first_allowed_day(tz, day, when, send_days, calendar):
    # Step 3 takes the *next* allowed day, at the nominal local time (unless that time is in a DST gap
    # on the day it lands, which moves it as Part 1 does).
    planned = plan(day, when, tz, send_days=send_days, calendar=calendar)
    here = zoneinfo.ZoneInfo(tz)
    nominal = scheduled_instant(start_date=day, offset_days=0, offset_time=when, tz_name=tz).astimezone(here)
    first = nominal.date()
    while WEEKDAYS[first.weekday()] not in send_days or (calendar and holiday_name(calendar, first)):
        first += datetime.timedelta(days=1)
    on_first = scheduled_instant(start_date=first, offset_days=0, offset_time=nominal.time(), tz_name=tz)
    if on_first.astimezone(here).date() == first:
        assert planned.instant == on_first
    else:  # a gap across midnight pushed it to a later day: steps 3-4 again from there
        assert planned.instant > on_first and "clock change" in planned.note
