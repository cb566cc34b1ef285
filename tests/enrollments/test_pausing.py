"""Pausing and resuming enrollments, through the API as a user would: one enrollment, a customer's,
beat's auto-resume, the shift re-plan under the calendar, and every older path (enroll, stop, bulk
re-enroll, payment, archive) right for paused enrollments."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from enrollments import pausing, tasks
from enrollments.models import Enrollment, ScheduledStep
from events.models import Event
from events.types import ENROLLMENT_COMPLETED, ENROLLMENT_PAUSED, ENROLLMENT_RESUMED, QUEUE_ROW_RESCHEDULED
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import active_sequence_with_steps

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NEW_YORK = ZoneInfo("America/New_York")


def enroll(api, company, sequence, customer, **body):
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id), **body}
    response = api.post(company_url(company, "sequence-enrollments"), body, format="json")
    assert response.status_code in (200, 201), response.json()
    return Enrollment.objects.get(pk=response.json()["enrollment"]["id"])


def pause(api, company, enrollment, **body):
    return api.post(company_url(company, f"sequence-enrollments/{enrollment.id}/pause"), body, format="json")


def resume(api, company, enrollment, **body):
    return api.post(company_url(company, f"sequence-enrollments/{enrollment.id}/resume"), body, format="json")


def times(enrollment) -> list[datetime.datetime]:
    return list(
        ScheduledStep.objects.filter(enrollment=enrollment)
        .order_by("step__offset_days")
        .values_list("scheduled_for", flat=True)
    )


def types_of(subject_id) -> list[str]:
    return list(Event.objects.filter(subject_id=subject_id).order_by("seq").values_list("type", flat=True))


@pytest.fixture
def enrolled(api, company):
    sequence = active_sequence_with_steps(company=company)  # days 0, 3, 6 at 09:00 New York
    customer = CustomerFactory(company=company)
    return enroll(api, company, sequence, customer, start_date="2031-03-03")  # a Monday


# --- one enrollment ---------------------------------------------------------------------------------


def test_pausing_until_a_date_means_midnight_in_the_enrollments_zone(api, company, enrolled):
    response = pause(api, company, enrolled, until="2031-04-01", reason="customer on holiday")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "paused" and body["pause_reason"] == "customer on holiday"
    assert body["paused_until"] == "2031-04-01T04:00:00.000000Z"  # 00:00 EDT
    assert body["paused_at"] is not None
    assert types_of(enrolled.pk)[-1] == ENROLLMENT_PAUSED
    event = Event.objects.filter(type=ENROLLMENT_PAUSED, subject_id=enrolled.pk).get()
    assert event.data["status"] == "paused" and event.data["paused_until"] == body["paused_until"]


def test_pausing_again_changes_until_and_reason_but_not_since_when(api, company, enrolled):
    first = pause(api, company, enrolled, until="2031-04-01T10:00:00+02:00").json()
    second = pause(api, company, enrolled, reason="promised by phone")
    assert second.status_code == 200
    assert second.json()["paused_at"] == first["paused_at"]
    assert second.json()["paused_until"] is None and second.json()["pause_reason"] == "promised by phone"
    assert first["paused_until"] == "2031-04-01T08:00:00.000000Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2020-01-01"}, "until"),
        ({"until": "2020-01-01T00:00:00Z"}, "until"),
        ({"until": "2031-04-01T09:00:00"}, "until"),  # no offset: whose 09:00?
        ({"until": "next week"}, "until"),
        ({"until": 20310401}, "until"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_bad_pauses_are_400_naming_the_field_and_change_nothing(api, company, enrolled, body, field):
    response = pause(api, company, enrolled, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    enrolled.refresh_from_db()
    assert enrolled.status == "active" and enrolled.paused_at is None


def test_a_completed_enrollment_cannot_be_paused_or_resumed(api, company, enrolled):
    api.post(company_url(company, f"sequence-enrollments/{enrolled.id}/stop"), {}, format="json")
    for call in (pause, resume):
        response = call(api, company, enrolled)
        assert response.status_code == 409 and response.json()["code"] == "enrollment_completed"


def test_resuming_an_active_enrollment_returns_it_unchanged(api, company, enrolled):
    before = times(enrolled)
    response = resume(api, company, enrolled)
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert times(enrolled) == before
    assert ENROLLMENT_RESUMED not in types_of(enrolled.pk)


def test_another_companys_enrollment_is_404(outsider_api, company, enrolled):
    assert pause(outsider_api, company, enrolled).status_code == 404


# --- resume and shift -------------------------------------------------------------------------------


def paused_for(enrollment, delta: datetime.timedelta) -> datetime.datetime:
    """Pause now, then move the pause's start back by `delta` (a fake clock for how long it lasted)."""
    pausing.enrollment_pause(enrollment=enrollment)
    since = timezone.now() - delta
    Enrollment.objects.filter(pk=enrollment.pk).update(paused_at=since)
    return since


def test_resume_shifts_every_scheduled_row_by_exactly_the_pause(company, enrolled):
    before = times(enrolled)
    since = paused_for(enrolled, datetime.timedelta(days=2, hours=3))
    now = since + datetime.timedelta(days=2, hours=3)

    resumed = pausing.enrollments_resume(enrollment_ids=[enrolled.pk], now=now)
    assert resumed == [enrolled.pk]
    assert times(enrolled) == [when + datetime.timedelta(days=2, hours=3) for when in before]
    notes = set(ScheduledStep.objects.filter(enrollment=enrolled).values_list("schedule_note", flat=True))
    assert notes == {"shifted 2 days 3:00 later by a pause"}
    enrolled.refresh_from_db()
    assert (enrolled.status, enrolled.paused_at, enrolled.pause_reason) == ("active", None, None)
    rescheduled = Event.objects.filter(type=QUEUE_ROW_RESCHEDULED).values_list("subject_id", flat=True)
    assert set(rescheduled) == set(
        ScheduledStep.objects.filter(enrollment=enrolled).values_list("pk", flat=True)
    )
    assert pausing.enrollments_resume(enrollment_ids=[enrolled.pk], now=now) == []  # twice: nothing more
    assert Event.objects.filter(type=ENROLLMENT_RESUMED).count() == 1


def test_a_shift_onto_a_weekend_moves_on_as_planning_would(api, company):
    sequence = active_sequence_with_steps(
        company=company, steps=1, send_days=["mon", "tue", "wed", "thu", "fri"]
    )
    enrollment = enroll(api, company, sequence, CustomerFactory(company=company), start_date="2031-03-05")
    (planned,) = times(enrollment)  # Wed 2031-03-05 09:00 New York
    since = paused_for(enrollment, datetime.timedelta(days=3))
    pausing.enrollments_resume(enrollment_ids=[enrollment.pk], now=since + datetime.timedelta(days=3))

    (row,) = ScheduledStep.objects.filter(enrollment=enrollment)
    # Wed + 3 days is Sat: Sat and Sun are not send days, so Monday at the same time.
    assert row.scheduled_for == datetime.datetime(2031, 3, 10, 9, 0, tzinfo=NEW_YORK)
    assert row.scheduled_for.astimezone(NEW_YORK).time() == planned.astimezone(NEW_YORK).time()
    assert row.schedule_note == (
        "shifted 3 days 0:00 later by a pause; Sat 2031-03-08 is not a send day; "
        "Sun 2031-03-09 is not a send day"
    )


def test_resume_without_shift_keeps_the_planned_times(api, company, enrolled):
    before = times(enrolled)
    paused_for(enrolled, datetime.timedelta(days=5))
    response = resume(api, company, enrolled, shift=False)
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert times(enrolled) == before
    assert not Event.objects.filter(type=QUEUE_ROW_RESCHEDULED).exists()


def test_resume_through_the_api_shifts_by_default(api, company, enrolled):
    before = times(enrolled)
    paused_for(enrolled, datetime.timedelta(days=1))
    assert resume(api, company, enrolled).status_code == 200
    shifted = [after - first for after, first in zip(times(enrolled), before, strict=True)]
    # Measured from the fake clock's start to the resume: a day and the seconds the test took.
    assert all(
        datetime.timedelta(days=1) <= delta < datetime.timedelta(days=1, minutes=1) for delta in shifted
    )


def test_resume_shifts_only_scheduled_rows(company, enrolled):
    first = ScheduledStep.objects.filter(enrollment=enrolled).order_by("scheduled_for").first()
    ScheduledStep.objects.filter(pk=first.pk).update(status="ready", ready_at=timezone.now())
    since = paused_for(enrolled, datetime.timedelta(hours=5))
    pausing.enrollments_resume(enrollment_ids=[enrolled.pk], now=since + datetime.timedelta(hours=5))
    first_after = ScheduledStep.objects.get(pk=first.pk)
    assert first_after.scheduled_for == first.scheduled_for and first_after.schedule_note is None


def test_resume_leaves_an_enrollment_among_the_ids_that_is_not_paused(api, company, enrolled):
    """An active enrollment among the ids is neither resumed nor shifted, and nothing is recorded for it."""
    customer = CustomerFactory(company=company)
    active = enroll(api, company, enrolled.sequence, customer, start_date="2031-03-03")
    active_before = times(active)
    since = paused_for(enrolled, datetime.timedelta(hours=5))
    now = since + datetime.timedelta(hours=5)

    resumed = pausing.enrollments_resume(enrollment_ids=[enrolled.pk, active.pk], now=now)
    assert resumed == [enrolled.pk]
    assert times(active) == active_before
    rows = ScheduledStep.objects.filter(enrollment=active)
    assert set(rows.values_list("schedule_note", flat=True)) == {None}
    assert types_of(active.pk) == ["enrollment.created"]  # nothing since
    rows = rows.values_list("pk", flat=True)
    assert not Event.objects.filter(type=QUEUE_ROW_RESCHEDULED, subject_id__in=list(rows)).exists()


def rows_locked(enrollment) -> bool:
    """Whether another connection finds `enrollment`'s scheduled rows locked (FOR UPDATE NOWAIT)."""
    found = {}

    def probe():
        try:
            with transaction.atomic():
                rows = ScheduledStep.objects.select_for_update(nowait=True).filter(enrollment=enrollment)
                found["locked"] = not list(rows)  # no rows would prove nothing
        except DatabaseError:
            found["locked"] = True
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(10)
    return found["locked"]


@pytest.mark.django_db(transaction=True)
def test_resume_locks_only_the_rows_of_the_enrollments_it_resumes(api, company, enrolled):
    """A stop or a due-date re-plan of an active enrollment updates its rows in an order of its own: a
    resume that named it must not hold them, or the two can deadlock."""
    active = enroll(
        api, company, enrolled.sequence, CustomerFactory(company=company), start_date="2031-03-03"
    )
    since = paused_for(enrolled, datetime.timedelta(hours=5))
    with transaction.atomic():
        resumed = pausing.enrollments_resume(
            enrollment_ids=[enrolled.pk, active.pk], now=since + datetime.timedelta(hours=5)
        )
        assert resumed == [enrolled.pk]
        assert rows_locked(enrolled)  # the probe sees a lock where there is one
        assert not rows_locked(active)


# --- a customer's enrollments -------------------------------------------------------------------------


def test_pausing_a_customer_pauses_its_active_enrollments_and_resume_resumes_all(api, company):
    customer = CustomerFactory(company=company)
    one = enroll(api, company, active_sequence_with_steps(company=company), customer)
    other = enroll(
        api, company, active_sequence_with_steps(company=company, timezone_name="Asia/Tokyo"), customer
    )
    already = enroll(api, company, active_sequence_with_steps(company=company), customer)
    pause(api, company, already, until="2031-01-01", reason="own pause")
    elsewhere = enroll(
        api, company, active_sequence_with_steps(company=company), CustomerFactory(company=company)
    )

    url = company_url(company, f"customers/{customer.id}/pause")
    response = api.post(url, {"until": "2031-02-01", "reason": "holiday"}, format="json")
    assert response.status_code == 200 and response.json() == {"paused_count": 2}
    for enrollment in (one, other, already, elsewhere):
        enrollment.refresh_from_db()
    assert one.paused_until == datetime.datetime(2031, 2, 1, 5, 0, tzinfo=UTC)  # 00:00 New York
    assert other.paused_until == datetime.datetime(2031, 1, 31, 15, 0, tzinfo=UTC)  # 00:00 Tokyo
    assert (
        already.pause_reason == "own pause"
        and already.paused_until.day == 1
        and already.paused_until.month == 1
    )
    assert elsewhere.status == "active"

    response = api.post(company_url(company, f"customers/{customer.id}/resume"), {}, format="json")
    assert response.status_code == 200 and response.json() == {"resumed_count": 3}
    assert set(Enrollment.objects.filter(customer=customer).values_list("status", flat=True)) == {"active"}


def test_pausing_a_customer_refuses_a_past_time_even_with_nothing_to_pause(api, company):
    customer = CustomerFactory(company=company)
    response = api.post(
        company_url(company, f"customers/{customer.id}/pause"),
        {"until": "2001-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400 and "until" in response.json()


# --- beat ---------------------------------------------------------------------------------------------


def test_beat_resumes_the_enrollments_whose_pause_has_ended(api, company, enrolled):
    later = enroll(
        api, company, active_sequence_with_steps(company=company), CustomerFactory(company=company)
    )
    pausing.enrollment_pause(enrollment=enrolled, until=timezone.now() + datetime.timedelta(minutes=5))
    pausing.enrollment_pause(enrollment=later, until=timezone.now() + datetime.timedelta(days=5))
    assert pausing.enrollments_resume_due() == 0

    in_ten_minutes = timezone.now() + datetime.timedelta(minutes=10)
    assert pausing.enrollments_resume_due(now=in_ten_minutes, batch_size=1) == 1
    enrolled.refresh_from_db()
    later.refresh_from_db()
    assert (enrolled.status, later.status) == ("active", "paused")
    assert tasks.resume_due() == 0  # the task: nothing due now, and nothing twice


# --- older paths with a paused enrollment ------------------------------------------------------------


def test_enrolling_a_paused_customer_again_returns_the_paused_enrollment(api, company, enrolled):
    pause(api, company, enrolled)
    body = {"sequence_id": str(enrolled.sequence_id), "customer_id": str(enrolled.customer_id)}
    response = api.post(company_url(company, "sequence-enrollments"), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] is False and response.json()["enrollment"]["status"] == "paused"
    assert response.json()["enrollment"]["id"] == str(enrolled.pk)


def test_stopping_a_paused_enrollment_completes_it_and_clears_the_pause(api, company, enrolled):
    pause(api, company, enrolled, until="2031-05-01", reason="r")
    response = api.post(company_url(company, f"sequence-enrollments/{enrolled.id}/stop"), {}, format="json")
    assert response.status_code == 200 and response.json()["cancelled_scheduled_steps"] == 3
    body = response.json()["enrollment"]
    assert body["status"] == "completed" and body["stop_reason"] == "stopped"
    assert (body["paused_at"], body["paused_until"], body["pause_reason"]) == (None, None, None)


def test_bulk_re_enroll_completes_paused_enrollments_and_starts_new_ones(api, company):
    sequence = active_sequence_with_steps(company=company)
    customers = [CustomerFactory(company=company) for _ in range(3)]
    paused = [enroll(api, company, sequence, customer) for customer in customers[:2]]
    for enrollment in paused:
        pause(api, company, enrollment)
    url = company_url(company, f"sequences/{sequence.id}/enrollments/bulk")
    response = api.post(url, {"customer_ids": [str(c.id) for c in customers]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["enrolled_count"] == 1 and response.json()["updated_count"] == 2
    for enrollment in paused:
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.stop_reason) == ("completed", "re_enrolled")
    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == 3


def test_payment_completes_a_paused_enrollment_on_the_invoice(api, company):
    sequence = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer)
    enrollment = enroll(api, company, sequence, customer, invoice_id=str(invoice.id))
    pause(api, company, enrollment)
    api.patch(company_url(company, f"invoices/{invoice.id}"), {"status": "paid"}, format="json")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("completed", "paid")
    assert types_of(enrollment.pk)[-1] == ENROLLMENT_COMPLETED


def test_archiving_the_sequence_completes_its_paused_enrollments(api, company, enrolled):
    pause(api, company, enrolled)
    response = api.post(
        company_url(company, f"sequences/{enrolled.sequence_id}"), {"action": "archive"}, format="json"
    )
    assert response.status_code == 200, response.json()
    enrolled.refresh_from_db()
    assert (enrolled.status, enrolled.stop_reason) == ("completed", "sequence_archived")
    assert not ScheduledStep.objects.filter(enrollment=enrolled, status="scheduled").exists()


def test_the_database_refuses_a_second_current_enrollment(company, enrolled):
    from django.db import IntegrityError, transaction

    pausing.enrollment_pause(enrollment=enrolled)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            company=company,
            sequence_id=enrolled.sequence_id,
            customer_id=enrolled.customer_id,
            start_date=enrolled.start_date,
            time_zone=enrolled.time_zone,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrolled.pk).update(paused_at=None)  # paused needs paused_at


# --- admin ----------------------------------------------------------------------------------------------


def test_admin_pauses_and_resumes_enrollments_and_customers_through_the_services(admin_client, api, company):
    customer = CustomerFactory(company=company)
    enrollment = enroll(api, company, active_sequence_with_steps(company=company), customer)
    changelist = "/admin/enrollments/enrollment/"

    response = admin_client.post(
        changelist, {"action": "pause_selected", "_selected_action": [str(enrollment.pk)]}, follow=True
    )
    assert "Paused 1 enrollment(s)." in response.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.pause_reason) == ("paused", "paused in admin")
    assert types_of(enrollment.pk)[-1] == ENROLLMENT_PAUSED

    admin_client.post(changelist, {"action": "resume_selected", "_selected_action": [str(enrollment.pk)]})
    enrollment.refresh_from_db()
    assert enrollment.status == "active" and types_of(enrollment.pk)[-1] == ENROLLMENT_RESUMED

    customers = "/admin/daylit/customer/"
    admin_client.post(customers, {"action": "pause_customers", "_selected_action": [str(customer.pk)]})
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"
    response = admin_client.post(
        customers, {"action": "resume_customers", "_selected_action": [str(customer.pk)]}, follow=True
    )
    assert "Resumed 1 enrollment(s)." in response.content.decode()
    page = admin_client.get(f"{changelist}{enrollment.pk}/change/")
    assert page.status_code == 200 and "Paused until" in page.content.decode()
