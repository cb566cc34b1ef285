"""Bulk enrolling 10,000 customers of 20 countries under a full collections calendar, through the API,
judged row by row against the `holidays` package itself, and an enroll-level property: whatever the
sequence's rules and the customer's calendar, enrolling writes what the preview shows, and every row
obeys the rules."""

import datetime
import zoneinfo
from functools import cache

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daylit.calendar_codes import WEEKDAYS
from daylit.models import Customer, Invoice
from enrollments.calendar import plan_send
from enrollments.models import Enrollment, ScheduledStep
from enrollments.scheduling import scheduled_instant
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = (datetime.time(9, 0), datetime.time(17, 0))
OFFSETS = (-3, 0, 3, 7, 14)
# Twenty countries, each customer in its own zone and (where the country has them) subdivision.
CUSTOMER_CALENDARS = [
    ("America/New_York", "US", "NY"),
    ("Europe/London", "GB", "ENG"),
    ("Europe/Berlin", "DE", "BY"),
    ("Europe/Paris", "FR", None),
    ("Asia/Tokyo", "JP", None),
    ("Australia/Sydney", "AU", "NSW"),
    ("America/Toronto", "CA", "ON"),
    ("Europe/Amsterdam", "NL", None),
    ("Europe/Madrid", "ES", "MD"),
    ("Europe/Rome", "IT", None),
    ("America/Sao_Paulo", "BR", "SP"),
    ("America/Mexico_City", "MX", None),
    ("Asia/Kolkata", "IN", None),
    ("Asia/Singapore", "SG", None),
    ("Pacific/Auckland", "NZ", None),
    ("Africa/Johannesburg", "ZA", None),
    ("Europe/Dublin", "IE", None),
    ("Europe/Stockholm", "SE", None),
    ("Europe/Zurich", "CH", "ZH"),
    ("Europe/Warsaw", "PL", None),
]


@cache
def package_holidays(country: str, subdivision: str | None, year: int):
    """The oracle: the `holidays` package asked directly, not through the planner's cache."""
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def calendar_sequence(company, **settings):
    sequence = SequenceFactory(
        company=company,
        status="active",
        anchor="invoice_due",
        send_days=["mon", "tue", "wed", "thu", "fri"],
        send_window_start=NINE_TO_FIVE[0],
        send_window_end=NINE_TO_FIVE[1],
        skip_holidays=True,
        time_zone_source="customer",
        **settings,
    )
    for offset in OFFSETS:
        SequenceStepFactory(
            sequence=sequence, offset_days=offset, offset_time=datetime.time(8, 30), label=f"Day {offset}"
        )
    return sequence


def test_bulk_enrolling_10000_customers_of_20_countries_obeys_each_customers_calendar(api, company):
    sequence = calendar_sequence(company)
    customers = Customer.objects.bulk_create(
        CustomerFactory.build(company=company, timezone=zone, country=country, subdivision=subdivision)
        for n in range(10_000)
        for zone, country, subdivision in [CUSTOMER_CALENDARS[n % len(CUSTOMER_CALENDARS)]]
    )
    # Due dates walk through a whole year, so every country's holidays and both DST changes are met.
    first_due = datetime.date(2031, 1, 1)
    Invoice.objects.bulk_create(
        InvoiceFactory.build(
            customer=customer,
            issue_date=datetime.date(2030, 12, 1),
            due_date=first_due + datetime.timedelta(days=n % 365),
        )
        for n, customer in enumerate(customers)
    )
    url = company_url(company, f"sequences/{sequence.id}/enrollments/bulk")

    response = api.post(url, {"customer_ids": [str(c.id) for c in customers]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["enrolled_count"] == 10_000

    rows = ScheduledStep.objects.filter(sequence=sequence).values_list(
        "customer__timezone",
        "customer__country",
        "customer__subdivision",
        "enrollment__time_zone",
        "enrollment__invoice__due_date",
        "step__offset_days",
        "scheduled_for",
        "schedule_note",
    )
    moved = 0
    for zone, country, subdivision, planned_zone, due, offset, instant, note in rows.iterator():
        assert planned_zone == zone
        local = instant.astimezone(zoneinfo.ZoneInfo(zone))
        assert WEEKDAYS[local.weekday()] in sequence.send_days, (zone, due, offset, local)
        assert NINE_TO_FIVE[0] <= local.time() < NINE_TO_FIVE[1], (zone, due, offset, local)
        assert local.date() not in package_holidays(country, subdivision, local.year), (country, local)
        nominal = scheduled_instant(
            start_date=due, offset_days=offset, offset_time=datetime.time(8, 30), tz_name=zone
        )
        assert instant >= nominal
        # Every nominal 08:30 is before the window, so every row moved, and says why.
        assert instant > nominal and note, (zone, due, offset, note)
        moved += 1
    assert moved == 10_000 * len(OFFSETS)
    holiday_notes = ScheduledStep.objects.filter(sequence=sequence, schedule_note__contains="is a holiday in")
    assert holiday_notes.values("customer__country").distinct().count() == len(CUSTOMER_CALENDARS)


# --- an enroll-level property ----------------------------------------------------------------------

day_sets = st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)
minutes = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: datetime.time(m // 60, m % 60))
windows = st.none() | st.tuples(minutes, minutes).filter(lambda pair: pair[0] < pair[1])
step_offsets = st.lists(st.integers(min_value=-30, max_value=60), min_size=1, max_size=4)
calendars = st.sampled_from([*CUSTOMER_CALENDARS, (None, None, None)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    send_days=day_sets,
    window=windows,
    skip_holidays=st.booleans(),
    customer_zone=st.booleans(),
    calendar=calendars,
    offsets=step_offsets,
    when=minutes,
    due=st.dates(min_value=datetime.date(2031, 1, 1), max_value=datetime.date(2032, 12, 31)),
)
def test_enrolling_writes_what_the_preview_shows_and_every_row_obeys_the_rules(
    api, company, send_days, window, skip_holidays, customer_zone, calendar, offsets, when, due
):
    sequence = SequenceFactory(
        company=company,
        status="active",
        anchor="invoice_due",
        timezone="America/Chicago",
        send_days=send_days,
        send_window_start=window and window[0],
        send_window_end=window and window[1],
        skip_holidays=skip_holidays,
        time_zone_source="customer" if customer_zone else "sequence",
    )
    for n, offset in enumerate(offsets):
        SequenceStepFactory(sequence=sequence, offset_days=offset, offset_time=when, label=f"Step {n}")
    zone, country, subdivision = calendar
    customer = CustomerFactory(company=company, timezone=zone, country=country, subdivision=subdivision)
    invoice = InvoiceFactory(customer=customer, issue_date=datetime.date(2030, 12, 1), due_date=due)

    shown = api.get(
        company_url(company, f"sequences/{sequence.id}/preview"), {"customer_id": str(customer.id)}
    )
    assert shown.status_code == 200, shown.json()
    created = api.post(
        company_url(company, "sequence-enrollments"),
        {"sequence_id": str(sequence.id), "customer_id": str(customer.id), "invoice_id": str(invoice.id)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    enrollment = Enrollment.objects.get(pk=created.json()["enrollment"]["id"])
    planned_zone = zone if customer_zone and zone else "America/Chicago"
    assert enrollment.time_zone == planned_zone

    rows = list(
        ScheduledStep.objects.filter(enrollment=enrollment)
        .select_related("step")
        .order_by("scheduled_for", "id")
    )
    previewed = [
        (item["step_id"], datetime.datetime.fromisoformat(item["scheduled_for"]), item["schedule_note"])
        for item in shown.json()["data"]
    ]
    assert sorted(previewed) == sorted(
        (str(row.step_id), row.scheduled_for, row.schedule_note) for row in rows
    )
    holiday_codes = (country, subdivision) if skip_holidays and country else None
    for row in rows:
        local = row.scheduled_for.astimezone(zoneinfo.ZoneInfo(planned_zone))
        assert WEEKDAYS[local.weekday()] in send_days
        if window:
            assert window[0] <= local.time() < window[1]
        if holiday_codes:
            assert local.date() not in package_holidays(*holiday_codes, local.year)
        expected = plan_send(
            anchor_date=due,
            offset_days=row.step.offset_days,
            offset_time=when,
            tz_name=planned_zone,
            send_days=frozenset(send_days),
            window=window,
            skip_holidays=holiday_codes is not None,
            calendar=holiday_codes,
        )
        assert (row.scheduled_for, row.schedule_note) == (expected.instant, expected.note)
