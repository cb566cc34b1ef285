"""Enrolling under a sequence's collections calendar, through the API: due-date anchors, send days,
windows, the customer's holidays and zone, catch-up, the due-date re-plan and the preview."""

import datetime

import pytest
from django.utils import timezone

from enrollments.calendar import plan_send
from enrollments.models import Enrollment, ScheduledStep
from events.models import Event
from events.types import QUEUE_ROW_CANCELLED, QUEUE_ROW_RESCHEDULED
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
NINE = datetime.time(9, 0)
UTC = datetime.UTC


def due_sequence(company, *offsets, **settings):
    """An active invoice_due sequence, one reminder per offset at 09:00."""
    sequence = SequenceFactory(company=company, status="active", anchor="invoice_due", **settings)
    for offset in offsets:
        SequenceStepFactory(sequence=sequence, offset_days=offset, offset_time=NINE, label=f"Day {offset}")
    return sequence


def enroll(api, company, sequence, customer, **body):
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id), **body}
    return api.post(company_url(company, "sequence-enrollments"), body, format="json")


def rows_of(enrollment_id):
    return list(ScheduledStep.objects.filter(enrollment_id=enrollment_id).order_by("step__offset_days"))


def at(day, hour=9, minute=0, tz="America/New_York"):
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(UTC)


# --- invoice_due anchors ---------------------------------------------------------------------------


def test_steps_are_timed_before_and_after_the_given_invoices_due_date(api, company):
    sequence = due_sequence(company, -3, 0, 7)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, issue_date="2030-05-01", due_date="2030-06-14")

    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    assert response.status_code == 201, response.json()
    enrollment = response.json()["enrollment"]
    assert enrollment["invoice_id"] == str(invoice.id)
    assert enrollment["time_zone"] == "America/New_York"
    rows = rows_of(enrollment["id"])
    assert [row.scheduled_for for row in rows] == [
        at(datetime.date(2030, 6, 11)),
        at(datetime.date(2030, 6, 14)),
        at(datetime.date(2030, 6, 21)),
    ]
    assert all(row.schedule_note is None and row.status == "scheduled" for row in rows)


def test_without_an_invoice_the_open_invoice_due_first_is_chosen_and_recorded(api, company):
    sequence = due_sequence(company, 0)
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-03-01")
    first = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-02-01")
    InvoiceFactory(
        customer=customer,
        issue_date="2029-01-01",
        due_date="2029-02-01",
        status="paid",
        paid_at=timezone.now(),
    )
    InvoiceFactory(customer=customer, issue_date="2029-01-01", due_date="2029-01-15", status="void")

    response = enroll(api, company, sequence, customer)
    assert response.status_code == 201, response.json()
    assert response.json()["enrollment"]["invoice_id"] == str(first.id)
    (row,) = rows_of(response.json()["enrollment"]["id"])
    assert row.scheduled_for == at(datetime.date(2030, 2, 1))


def test_no_open_invoice_is_409_and_writes_nothing(api, company):
    sequence = due_sequence(company, 0)
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, status="paid", paid_at=timezone.now())

    response = enroll(api, company, sequence, customer)
    assert response.status_code == 409
    assert response.json()["code"] == "no_open_invoice"
    assert not Enrollment.objects.exists() and not ScheduledStep.objects.exists()
    # An enrollment-anchored sequence needs no invoice.
    plain = SequenceFactory(company=company, status="active")
    SequenceStepFactory(sequence=plain)
    assert enroll(api, company, plain, customer).status_code == 201


def test_an_enrolled_customer_is_answered_with_its_enrollment_even_with_no_open_invoice_left(api, company):
    sequence = due_sequence(company, 0)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, due_date="2030-02-01", issue_date="2030-01-01")
    first = enroll(api, company, sequence, customer)
    assert first.status_code == 201
    invoice.status, invoice.paid_at = "void", None
    invoice.save()
    again = enroll(api, company, sequence, customer)
    assert again.status_code == 200 and again.json()["created"] is False


def test_bulk_skips_and_counts_customers_without_an_open_invoice(api, company):
    sequence = due_sequence(company, -1, 3)
    with_invoice = [CustomerFactory(company=company) for _ in range(3)]
    dues = [datetime.date(2030, 4, day) for day in (1, 2, 3)]
    for customer, due in zip(with_invoice, dues, strict=True):
        InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date=due)
    without = [CustomerFactory(company=company) for _ in range(2)]
    url = company_url(company, f"sequences/{sequence.id}/enrollments/bulk")
    ids = [str(c.id) for c in with_invoice + without] + ["00000000-0000-4000-8000-000000000000"]

    response = api.post(url, {"customer_ids": ids}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "enrolled_count": 3,
        "updated_count": 0,
        "skipped_count": 3,
        "no_open_invoice_count": 2,
    }
    for customer, due in zip(with_invoice, dues, strict=True):
        enrollment = Enrollment.objects.get(customer=customer)
        assert enrollment.invoice.due_date == due
        assert [row.scheduled_for for row in rows_of(enrollment.pk)] == [
            at(due - datetime.timedelta(days=1)),
            at(due + datetime.timedelta(days=3)),
        ]
    assert not Enrollment.objects.filter(customer__in=without).exists()


# --- send days, window, holidays, zones ------------------------------------------------------------


def test_the_customers_own_holidays_and_zone_move_the_row_and_say_why(api, company):
    sequence = due_sequence(
        company,
        1,
        send_days=WEEKDAYS,
        send_window_start="09:00",
        send_window_end="17:00",
        skip_holidays=True,
        time_zone_source="customer",
    )
    customer = CustomerFactory(company=company, in_england=True)
    invoice = InvoiceFactory(customer=customer, issue_date="2027-11-01", due_date="2027-12-24")

    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    assert response.status_code == 201, response.json()
    assert response.json()["enrollment"]["time_zone"] == "Europe/London"
    (row,) = rows_of(response.json()["enrollment"]["id"])
    # Sat, Sun, then England's substitute days for Christmas and Boxing Day: Wed 29th, 09:00 London.
    assert row.scheduled_for == at(datetime.date(2027, 12, 29), tz="Europe/London")
    assert row.schedule_note == (
        "Sat 2027-12-25 is not a send day; Sun 2027-12-26 is not a send day; "
        "2027-12-27 is a holiday in GB-ENG: Christmas Day (substitute); "
        "2027-12-28 is a holiday in GB-ENG: Boxing Day (substitute)"
    )


def test_a_customer_without_a_calendar_takes_the_companys_holidays(api, company):
    company.country, company.subdivision = "DE", "BY"
    company.save()
    sequence = due_sequence(company, 0, skip_holidays=True, timezone="Europe/Berlin")
    customer = CustomerFactory(company=company)  # no country of its own
    # 2030-01-06 is Epiphany, a public holiday in Bavaria (every day is a send day here).
    invoice = InvoiceFactory(customer=customer, issue_date="2029-12-01", due_date="2030-01-06")

    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    assert response.status_code == 201, response.json()
    (row,) = rows_of(response.json()["enrollment"]["id"])
    assert row.scheduled_for == at(datetime.date(2030, 1, 7), tz="Europe/Berlin")
    assert row.schedule_note == "2030-01-06 is a holiday in DE-BY: Epiphany"

    # A customer in another country uses its own calendar, not the company's.
    french = CustomerFactory(company=company, country="FR")
    invoice = InvoiceFactory(customer=french, issue_date="2029-12-01", due_date="2030-01-06")
    response = enroll(api, company, sequence, french, invoice_id=str(invoice.id))
    (row,) = rows_of(response.json()["enrollment"]["id"])
    assert (
        row.scheduled_for == at(datetime.date(2030, 1, 6), tz="Europe/Berlin") and row.schedule_note is None
    )


def test_the_sequence_zone_is_used_unless_the_sequence_says_customer(api, company):
    sequence = SequenceFactory(company=company, status="active", timezone="America/Chicago")
    SequenceStepFactory(sequence=sequence, offset_days=2, offset_time=datetime.time(8, 30))
    customer = CustomerFactory(company=company, timezone="Asia/Tokyo")

    response = enroll(api, company, sequence, customer, start_date="2030-03-04")
    assert response.json()["enrollment"]["time_zone"] == "America/Chicago"
    (row,) = rows_of(response.json()["enrollment"]["id"])
    assert row.scheduled_for == at(datetime.date(2030, 3, 6), 8, 30, tz="America/Chicago")


def test_a_window_on_a_spring_forward_day(api, company):
    # 02:30 does not exist in New York on 2030-03-10: Part 1 reads it as 03:30 EDT, which is past a
    # 02:00-03:00 window, so the row moves to the next day's window start.
    sequence = SequenceFactory(
        company=company, status="active", send_window_start="02:00", send_window_end="03:00"
    )
    SequenceStepFactory(sequence=sequence, offset_days=0, offset_time=datetime.time(2, 30))
    customer = CustomerFactory(company=company)
    response = enroll(api, company, sequence, customer, start_date="2030-03-10")
    (row,) = rows_of(response.json()["enrollment"]["id"])
    assert row.scheduled_for == at(datetime.date(2030, 3, 11), 2, 0)
    assert row.schedule_note == "03:30 is after the send window 02:00-03:00"


# --- catch_up --------------------------------------------------------------------------------------


def past_invoice(company, days_ago: int):
    customer = CustomerFactory(company=company)
    due = timezone.localdate() - datetime.timedelta(days=days_ago)
    invoice = InvoiceFactory(customer=customer, issue_date=due - datetime.timedelta(days=30), due_date=due)
    return customer, invoice


def test_catch_up_latest_creates_the_earlier_past_rows_cancelled(api, company):
    sequence = due_sequence(company, 0, 7, 14, 60, catch_up="latest", timezone="UTC")
    customer, invoice = past_invoice(company, days_ago=20)
    Event.objects.all().delete()

    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    assert response.status_code == 201, response.json()
    rows = rows_of(response.json()["enrollment"]["id"])
    assert [row.status for row in rows] == ["cancelled", "cancelled", "scheduled", "scheduled"]
    assert [row.error for row in rows[:2]] == ["skipped: already past when enrolled"] * 2
    assert all(row.processed_at is not None for row in rows[:2])
    assert rows[2].scheduled_for <= timezone.now() < rows[3].scheduled_for  # day 14 is due now
    cancelled = set(Event.objects.filter(type=QUEUE_ROW_CANCELLED).values_list("subject_id", flat=True))
    assert cancelled == {rows[0].pk, rows[1].pk}


def test_catch_up_all_makes_every_past_row_due(api, company):
    sequence = due_sequence(company, 0, 7, 14, 60, timezone="UTC")
    customer, invoice = past_invoice(company, days_ago=20)
    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    rows = rows_of(response.json()["enrollment"]["id"])
    assert [row.status for row in rows] == ["scheduled"] * 4
    assert sum(row.scheduled_for <= timezone.now() for row in rows) == 3


def test_bulk_applies_catch_up_latest_too(api, company):
    sequence = due_sequence(company, 0, 7, 14, catch_up="latest", timezone="UTC")
    customers = [past_invoice(company, days_ago=10)[0] for _ in range(3)]
    url = company_url(company, f"sequences/{sequence.id}/enrollments/bulk")
    assert api.post(url, {"customer_ids": [str(c.id) for c in customers]}, format="json").status_code == 200
    for customer in customers:
        rows = rows_of(Enrollment.objects.get(customer=customer).pk)
        assert [row.status for row in rows] == ["cancelled", "scheduled", "scheduled"]


# --- the due-date re-plan --------------------------------------------------------------------------


def test_changing_the_due_date_re_plans_the_scheduled_rows_only(api, company):
    sequence = due_sequence(company, -2, 0, 5, send_days=WEEKDAYS)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-06-14")  # a Friday
    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    rows = rows_of(response.json()["enrollment"]["id"])
    sent = rows[0]
    ScheduledStep.objects.filter(pk=sent.pk).update(status="sent", processed_at=timezone.now())
    Event.objects.all().delete()

    patched = api.patch(
        company_url(company, f"invoices/{invoice.id}"), {"due_date": "2030-06-20"}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    after = {row.pk: row for row in rows_of(response.json()["enrollment"]["id"])}
    assert after[sent.pk].scheduled_for == sent.scheduled_for  # past `scheduled`: left as it is
    assert after[rows[1].pk].scheduled_for == at(datetime.date(2030, 6, 20))  # Thursday
    # Day +5 from Thu 20th is Tue 25th: a weekday, no note.
    assert after[rows[2].pk].scheduled_for == at(datetime.date(2030, 6, 25))
    moved = set(Event.objects.filter(type=QUEUE_ROW_RESCHEDULED).values_list("subject_id", flat=True))
    assert moved == {rows[1].pk, rows[2].pk}

    # A due date moved onto a weekend gets a note.
    api.patch(company_url(company, f"invoices/{invoice.id}"), {"due_date": "2030-06-22"}, format="json")
    row = ScheduledStep.objects.get(pk=rows[1].pk)
    assert row.scheduled_for == at(datetime.date(2030, 6, 24))
    assert row.schedule_note == "Sat 2030-06-22 is not a send day; Sun 2030-06-23 is not a send day"


def test_a_due_date_change_leaves_enrollment_anchored_and_completed_enrollments_alone(api, company):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-06-14")
    plain = SequenceFactory(company=company, status="active")
    SequenceStepFactory(sequence=plain, offset_days=1)
    kept = enroll(api, company, plain, customer, invoice_id=str(invoice.id), start_date="2030-07-01").json()
    stopped_seq = due_sequence(company, 3)
    stopped = enroll(api, company, stopped_seq, customer, invoice_id=str(invoice.id)).json()
    api.post(
        company_url(company, f"sequence-enrollments/{stopped['enrollment']['id']}/stop"), {}, format="json"
    )
    before = {row.pk: (row.scheduled_for, row.status) for row in ScheduledStep.objects.all()}
    Event.objects.all().delete()

    api.patch(company_url(company, f"invoices/{invoice.id}"), {"due_date": "2030-08-01"}, format="json")
    after = {row.pk: (row.scheduled_for, row.status) for row in ScheduledStep.objects.all()}
    assert after == before
    assert kept["enrollment"]["invoice_id"] == str(invoice.id)
    assert not Event.objects.filter(type=QUEUE_ROW_RESCHEDULED).exists()


def test_a_re_plan_into_the_past_applies_catch_up_latest(api, company):
    sequence = due_sequence(company, 0, 3, 6, 90, catch_up="latest", timezone="UTC")
    customer = CustomerFactory(company=company)
    future = timezone.localdate() + datetime.timedelta(days=30)
    invoice = InvoiceFactory(
        customer=customer, issue_date=future - datetime.timedelta(days=60), due_date=future
    )
    enrollment_id = enroll(api, company, sequence, customer, invoice_id=str(invoice.id)).json()["enrollment"][
        "id"
    ]
    assert {row.status for row in rows_of(enrollment_id)} == {"scheduled"}

    past = timezone.localdate() - datetime.timedelta(days=10)
    api.patch(company_url(company, f"invoices/{invoice.id}"), {"due_date": past.isoformat()}, format="json")
    rows = rows_of(enrollment_id)
    assert [row.status for row in rows] == ["cancelled", "cancelled", "scheduled", "scheduled"]
    assert rows[0].error == "skipped: already past when re-planned"


# --- preview ---------------------------------------------------------------------------------------


def parse(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def preview(api, company, sequence, **query):
    return api.get(company_url(company, f"sequences/{sequence.id}/preview"), query)


def test_preview_is_what_enrolling_plans_and_writes_nothing(api, company):
    sequence = due_sequence(
        company,
        -3,
        1,
        8,
        send_days=WEEKDAYS,
        send_window_start="10:00",
        send_window_end="16:00",
        skip_holidays=True,
        time_zone_source="customer",
    )
    SequenceStepFactory(sequence=sequence, offset_days=4, is_active=False)
    customer = CustomerFactory(company=company, in_england=True)
    InvoiceFactory(customer=customer, issue_date="2027-11-01", due_date="2027-12-24")

    shown = preview(api, company, sequence, customer_id=str(customer.id))
    assert shown.status_code == 200, shown.json()
    assert not Enrollment.objects.exists() and not ScheduledStep.objects.exists()
    data = shown.json()["data"]
    assert [item["label"] for item in data] == ["Day -3", "Day 1", "Day 8"]
    assert {item["time_zone"] for item in data} == {"Europe/London"}
    assert data[1]["local_time"] == "2027-12-29T10:00:00+00:00"
    assert data[1]["schedule_note"].startswith("Sat 2027-12-25 is not a send day;")

    created = enroll(api, company, sequence, customer)
    rows = rows_of(created.json()["enrollment"]["id"])
    assert [
        (item["step_id"], parse(item["scheduled_for"]), item["schedule_note"], item["step_type"])
        for item in data
    ] == [
        (
            str(row.step_id),
            row.scheduled_for,
            row.schedule_note,
            row.step_type,
        )
        for row in rows
    ]


def test_preview_of_a_draft_shows_due_now_and_skipped(api, company):
    sequence = due_sequence(company, 0, 7, 60, catch_up="latest", timezone="UTC")
    sequence.status = "draft"
    sequence.save()
    customer, invoice = past_invoice(company, days_ago=10)
    data = preview(api, company, sequence, customer_id=str(customer.id), invoice_id=str(invoice.id)).json()[
        "data"
    ]
    assert [(item["due_now"], item["skipped"]) for item in data] == [
        (False, True),
        (True, False),
        (False, False),
    ]
    assert data[0]["schedule_note"] == "skipped: already past when enrolled"


def test_preview_gives_the_409_enrolling_would(api, company):
    sequence = due_sequence(company, 0)
    customer = CustomerFactory(company=company)
    refused = preview(api, company, sequence, customer_id=str(customer.id))
    assert refused.status_code == 409 and refused.json()["code"] == "no_open_invoice"

    empty = SequenceFactory(company=company)
    SequenceStepFactory(sequence=empty, is_active=False)
    refused = preview(api, company, empty, customer_id=str(customer.id))
    assert refused.status_code == 409 and refused.json()["code"] == "no_active_step"


@pytest.mark.parametrize("query", [{}, {"customer_id": "nope"}, {"customer_id": "foreign"}])
def test_preview_needs_one_of_the_companys_customers(api, company, other_company, query):
    sequence = due_sequence(company, 0)
    if query.get("customer_id") == "foreign":
        query = {"customer_id": str(CustomerFactory(company=other_company).id)}
    response = preview(api, company, sequence, **query)
    assert response.status_code == 400 and "customer_id" in response.json()


def test_preview_refuses_another_customers_invoice(api, company):
    sequence = due_sequence(company, 0)
    customer = CustomerFactory(company=company)
    other = InvoiceFactory(customer=CustomerFactory(company=company))
    response = preview(api, company, sequence, customer_id=str(customer.id), invoice_id=str(other.id))
    assert response.status_code == 400 and "invoice_id" in response.json()


def test_preview_matches_the_pure_planner(api, company):
    sequence = SequenceFactory(company=company, send_days=["tue", "thu"], timezone="Australia/Sydney")
    SequenceStepFactory(sequence=sequence, offset_days=0, offset_time=datetime.time(7, 45))
    customer = CustomerFactory(company=company)
    (item,) = preview(api, company, sequence, customer_id=str(customer.id), start_date="2030-10-05").json()[
        "data"
    ]
    expected = plan_send(
        anchor_date=datetime.date(2030, 10, 5),
        offset_days=0,
        offset_time=datetime.time(7, 45),
        tz_name="Australia/Sydney",
        send_days=["tue", "thu"],
    )
    assert parse(item["scheduled_for"]) == expected.instant
    assert item["schedule_note"] == expected.note


# --- dates no calendar can plan from ----------------------------------------------------------------


def test_a_due_date_too_late_to_plan_from_is_409_not_a_crash(api, company):
    sequence = due_sequence(company, 0, 7)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, issue_date="9999-12-01", due_date="9999-12-28")

    response = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "cannot_plan"
    assert "9999-12-28" in response.json()["detail"]
    assert not Enrollment.objects.exists() and not ScheduledStep.objects.exists()

    shown = api.get(
        company_url(company, f"sequences/{sequence.id}/preview"), {"customer_id": str(customer.id)}
    )
    assert shown.status_code == 409 and shown.json()["code"] == "cannot_plan"


def test_moving_a_chased_due_date_out_of_range_is_409_and_changes_nothing(api, company):
    sequence = due_sequence(company, 0, 7)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, issue_date="2030-01-01", due_date="2030-06-14")
    enrolled = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    before = [row.scheduled_for for row in rows_of(enrolled.json()["enrollment"]["id"])]

    patched = api.patch(
        company_url(company, f"invoices/{invoice.id}"), {"due_date": "9999-12-28"}, format="json"
    )
    assert patched.status_code == 409, patched.json()
    assert patched.json()["code"] == "cannot_plan"
    invoice.refresh_from_db()
    assert str(invoice.due_date) == "2030-06-14"
    assert [row.scheduled_for for row in rows_of(enrolled.json()["enrollment"]["id"])] == before
