"""The queue and a paused enrollment: its rows wait (no promotion, no auto-send, a person's send is 409),
the rows say so, and a pause racing a send either comes after the send's claim or stops it."""

import threading
import time

import pytest
from django.db import connection, transaction

from enrollments import pausing
from enrollments.models import Enrollment
from outreach_queue import services
from outreach_queue.services.delivery import row_idempotency_key
from tests.conftest import company_url
from tests.enrollments.test_concurrency import run_together
from tests.outreach_queue.helpers import Status, due_row, ready_row, sequence_with_sender


def send_url(company, row, action="send"):
    return company_url(company, f"sequences/queue/{row.pk}/{action}")


@pytest.mark.django_db
def test_a_paused_enrollments_due_row_is_not_promoted_until_it_resumes(company):
    row = due_row(company)
    pausing.enrollment_pause(enrollment=row.enrollment)
    assert services.queue_rows_promote(company=company) == 0
    row.refresh_from_db()
    assert row.status == Status.SCHEDULED

    pausing.enrollment_resume(enrollment=row.enrollment, shift=False)  # its time has passed: due at once
    assert services.queue_rows_promote(company=company) == 1


@pytest.mark.django_db
def test_a_paused_ready_reminder_is_not_auto_sent_and_a_persons_send_is_409(api, company, fake_nylas):
    row = ready_row(company, sequence=sequence_with_sender(company, auto_send=True))
    assert [plan.row_id for plan in services.queue_rows_auto_send_plan()] == [row.pk]
    pausing.enrollment_pause(enrollment=row.enrollment)

    assert services.queue_rows_auto_send_plan() == []
    services.queue_row_auto_send(row_id=row.pk)  # a task queued before the pause finds nothing to send
    row.refresh_from_db()
    assert row.status == Status.READY
    response = api.post(send_url(company, row), {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "enrollment_paused"
    assert fake_nylas.requests == []

    # Editing and cancelling still work.
    edited = api.patch(company_url(company, f"sequences/queue/{row.pk}"), {"subject": "Later"}, format="json")
    assert edited.status_code == 200 and edited.json()["enrollment_status"] == "paused"
    assert api.post(send_url(company, row, "cancel"), {}, format="json").json()["status"] == "cancelled"


@pytest.mark.django_db
def test_queue_rows_carry_the_enrollment_status_and_filter_on_it(api, company):
    paused_row, active_row = ready_row(company), ready_row(company)
    pausing.enrollment_pause(enrollment=paused_row.enrollment)
    url = company_url(company, "sequences/queue")
    listed = {item["id"]: item["enrollment_status"] for item in api.get(url).json()["data"]}
    assert listed == {str(paused_row.pk): "paused", str(active_row.pk): "active"}
    only = api.get(url, {"enrollment_status": "paused"}).json()["data"]
    assert [item["id"] for item in only] == [str(paused_row.pk)]
    assert api.get(url, {"enrollment_status": "sleeping"}).status_code == 400


# --- races, on real connections -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_send_waits_for_a_pause_in_flight_and_then_does_not_happen(company, member, fake_nylas):
    row = ready_row(company)
    pause_open, send_started = threading.Event(), threading.Event()
    outcome = {}

    def pause_and_hold():
        with transaction.atomic():
            pausing.enrollment_pause(enrollment=Enrollment.objects.get(pk=row.enrollment_id))
            pause_open.set()
            send_started.wait(timeout=10)
            time.sleep(0.5)  # the send is now waiting on the enrollment's lock
        connection.close()

    def send():
        pause_open.wait(timeout=10)
        send_started.set()
        try:
            outcome["row"] = services.queue_row_send(row=row, member=member)
        except Exception as exc:  # noqa: BLE001 (asserted below)
            outcome["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=pause_and_hold), threading.Thread(target=send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert getattr(outcome.get("error"), "default_code", None) == "conflict", outcome
    assert outcome["error"].get_codes() == "enrollment_paused"
    row.refresh_from_db()
    assert row.status == Status.READY and fake_nylas.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("auto", [False, True])
def test_a_pause_racing_a_send_either_follows_the_send_or_stops_it(company, member, fake_nylas, auto):
    for _ in range(4):
        row = ready_row(company, sequence=sequence_with_sender(company, auto_send=auto))
        enrollment = Enrollment.objects.get(pk=row.enrollment_id)
        if auto:
            send = lambda row=row: services.queue_row_auto_send(row_id=row.pk)  # noqa: E731
        else:
            send = lambda row=row: services.queue_row_send(row=row, member=member)  # noqa: E731
        sent, _paused = run_together(
            send, lambda enrollment=enrollment: pausing.enrollment_pause(enrollment=enrollment)
        )
        row.refresh_from_db()
        requests = [r for r in fake_nylas.requests if r["key"] == row_idempotency_key(row.pk)]
        status = Enrollment.objects.get(pk=enrollment.pk).status
        if row.status == Status.SENT:  # the claim came first: the pause waited for it
            assert not isinstance(sent, Exception) and len(requests) == 1, sent
            # The pause then paused it, unless the send (its only row) had finished it already.
            assert status in ("paused", "completed"), status
        else:  # the pause came first: nothing went out, and the row still waits
            assert row.status == Status.READY and requests == [], (row.status, sent)
            assert auto or getattr(sent, "get_codes", lambda: None)() == "enrollment_paused", sent
            assert status == "paused"
