"""`queue_row.ready|failed|sent|cancelled|completed` from every path that moves a row: promotion (beat
task, a queue read), a person's send, cancel and complete (API and admin), auto-send, the reconciler.
Recorded in the transaction of the move, only for rows the move changed; promotion records a batch's
events in a fixed number of statements whatever its size."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollments.models import ScheduledStep
from events.models import Event
from events.types import (
    ENROLLMENT_COMPLETED,
    QUEUE_ROW_CANCELLED,
    QUEUE_ROW_COMPLETED,
    QUEUE_ROW_FAILED,
    QUEUE_ROW_READY,
    QUEUE_ROW_SENT,
)
from outreach_queue import selectors, tasks
from outreach_queue.api.serializers import QueueRowSerializer
from outreach_queue.services import queue_rows_promote, queue_rows_reconcile_sending
from tests.conftest import company_url
from tests.events.emission import event_data, recorded
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory
from tests.outreach_queue.helpers import Status, due_row, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db


def row_url(company, row, action: str = "") -> str:
    return company_url(company, f"sequences/queue/{row.pk}" + (f"/{action}" if action else ""))


def api_row(row) -> dict:
    return as_api_json(QueueRowSerializer(selectors.queue_row_get(company=row.company, row_id=row.pk)).data)


def at_event(row_json: dict) -> dict:
    """The row as its event recorded it: the move is recorded before the enrollment finishes (its own
    `enrollment.completed` follows), so the payload still says the enrollment was active."""
    return {**row_json, "enrollment_status": "active"}


def fresh(make):
    """A row made by `make()`, with the events of making it cleared."""
    row = make()
    Event.objects.all().delete()
    return row


# --- promotion ----------------------------------------------------------------------------------------


def due_rows(company, count: int) -> tuple[list, list]:
    """`count` reminders that will render and `count` that cannot (their customer has no invoice),
    alternating in time, so every batch of promotion holds both."""
    sequence = sequence_with_sender(company)
    good, bad = [], []
    for _ in range(count):
        good.append(due_row(company, sequence=sequence))
        bad.append(due_row(company, sequence=sequence, customer=CustomerFactory(company=company)))
    return good, bad


def test_the_beat_task_records_ready_and_failed_for_every_row_it_promotes(company, fake_nylas):
    good, bad = due_rows(company, 3)
    call = due_row(company, step_type="call")
    later = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1))
    assert tasks.promote_due() == 7
    assert set(recorded(QUEUE_ROW_READY)) == {(QUEUE_ROW_READY, r.pk) for r in [*good, call]}
    assert set(recorded(QUEUE_ROW_FAILED)) == {(QUEUE_ROW_FAILED, r.pk) for r in bad}
    for row in [*good, call, *bad]:
        data = Event.objects.get(subject_id=row.pk, type__startswith="queue_row.").data
        assert data == at_event(api_row(row))
    assert not Event.objects.filter(subject_id=later.pk).exists()
    # The failed rows were their enrollments' only rows: those finish.
    assert set(recorded(ENROLLMENT_COMPLETED)) == {(ENROLLMENT_COMPLETED, r.enrollment_id) for r in bad}
    assert tasks.promote_due() == 0 and Event.objects.count() == 10  # nothing twice


def test_a_queue_read_promotes_and_records(api, company):
    row = fresh(lambda: due_row(company))
    response = api.get(company_url(company, "sequences/queue"))
    assert response.status_code == 200 and response.json()["data"][0]["id"] == str(row.pk)
    assert recorded() == [(QUEUE_ROW_READY, row.pk)]
    assert event_data(QUEUE_ROW_READY, row.pk) == response.json()["data"][0]


def _promotion_queries(company, count: int, batch_size: int) -> int:
    good, bad = due_rows(company, count)
    Event.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert queue_rows_promote(company=company, batch_size=batch_size) == 2 * count
    assert Event.objects.filter(type=QUEUE_ROW_READY).count() == count
    assert Event.objects.filter(type=QUEUE_ROW_FAILED).count() == count
    statements = [q["sql"] for q in queries.captured_queries if "INSERT INTO events_event" in q["sql"]]
    rows_events = [sql for sql in statements if "'queue_row." in sql]
    assert len(rows_events) == 2 * -(-2 * count // batch_size)  # ready + failed, per batch
    return len(queries)


def test_promotion_records_a_batch_in_a_fixed_number_of_queries(company):
    """N rows: N events, and the same queries for 2 rows as for 40 or 60 (one batch each): the events
    are two INSERT ... SELECT per batch, whatever its size."""
    counts = [_promotion_queries(company, count, batch_size=2_000) for count in (1, 20, 30)]
    assert counts[0] == counts[1] == counts[2] <= 20


def test_promotion_in_batches_records_each_batchs_events(company):
    _promotion_queries(company, 15, batch_size=10)  # 30 rows, 3 batches, 6 statements of row events


# --- sending ------------------------------------------------------------------------------------------


def test_sending_through_the_api_records_sent(api, company, fake_nylas):
    row = fresh(lambda: ready_row(company))
    response = api.post(row_url(company, row, "send"), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert recorded() == [(QUEUE_ROW_SENT, row.pk), (ENROLLMENT_COMPLETED, row.enrollment_id)]
    assert event_data(QUEUE_ROW_SENT, row.pk) == at_event(response.json())
    again = api.post(row_url(company, row, "send"), {}, format="json")  # past ready: 200 unchanged
    assert again.status_code == 200 and len(recorded()) == 2


def test_a_permanent_send_failure_records_failed(api, company, fake_nylas):
    row = fresh(lambda: ready_row(company))
    fake_nylas.fail_next(400)
    response = api.post(row_url(company, row, "send"), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert recorded(QUEUE_ROW_FAILED, QUEUE_ROW_SENT) == [(QUEUE_ROW_FAILED, row.pk)]
    assert event_data(QUEUE_ROW_FAILED, row.pk) == at_event(response.json())


def test_a_retryable_failure_and_refused_sends_record_nothing(api, company, fake_nylas):
    row = fresh(lambda: ready_row(company))
    fake_nylas.fail_next(503)
    assert api.post(row_url(company, row, "send"), {}, format="json").status_code == 502  # ready again
    scheduled = fresh(lambda: due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1)))
    assert api.post(row_url(company, scheduled, "send"), {}, format="json").status_code == 409
    assert recorded() == []


def test_a_retry_past_the_idempotency_window_records_failed(api, company, fake_nylas):
    row = fresh(lambda: ready_row(company))
    ScheduledStep.objects.filter(pk=row.pk).update(
        sending_started_at=timezone.now() - datetime.timedelta(hours=2),
        sender_connection=row.sequence.sender_connection,
        attempts=1,
    )
    response = api.post(row_url(company, row, "send"), {}, format="json")
    assert response.json()["status"] == "failed" and response.json()["error"].startswith("outcome unknown")
    assert recorded(QUEUE_ROW_FAILED, QUEUE_ROW_SENT) == [(QUEUE_ROW_FAILED, row.pk)]
    assert fake_nylas.requests == []


def test_sending_from_admin_records_sent(
    admin_client, company, fake_nylas, eager_as_configured, django_capture_on_commit_callbacks
):
    rows = [ready_row(company) for _ in range(2)]
    Event.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/queue/queuerow/",
            {"action": "send_selected", "_selected_action": [str(r.pk) for r in rows]},
            follow=True,
        )
    assert response.status_code == 200
    assert set(recorded(QUEUE_ROW_SENT)) == {(QUEUE_ROW_SENT, r.pk) for r in rows}
    for row in rows:
        assert event_data(QUEUE_ROW_SENT, row.pk) == at_event(api_row(row))


def test_auto_send_records_ready_then_sent(
    company, fake_nylas, eager_as_configured, django_capture_on_commit_callbacks
):
    sequence = sequence_with_sender(company, auto_send=True)
    rows = [due_row(company, sequence=sequence) for _ in range(2)]
    Event.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.promote_due()
    for row in rows:
        assert recorded(QUEUE_ROW_READY, QUEUE_ROW_SENT) and [
            event for event in recorded(QUEUE_ROW_READY, QUEUE_ROW_SENT) if event[1] == row.pk
        ] == [(QUEUE_ROW_READY, row.pk), (QUEUE_ROW_SENT, row.pk)]
        assert event_data(QUEUE_ROW_SENT, row.pk) == at_event(api_row(row))
    assert len(fake_nylas.deliveries) == 2


def _stuck(row, *, minutes_ago: int) -> None:
    ScheduledStep.objects.filter(pk=row.pk).update(
        status=Status.SENDING,
        sender_connection=row.sequence.sender_connection,
        sending_started_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        updated_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        attempts=1,
    )


def test_the_reconciler_records_sent_for_a_resend_and_failed_past_the_window(company, fake_nylas):
    resent = fresh(lambda: ready_row(company))
    _stuck(resent, minutes_ago=10)
    lost = fresh(lambda: ready_row(company))
    _stuck(lost, minutes_ago=90)
    assert tasks.reconcile_sending.run() == {"resent": 1, "failed": 1}
    assert set(recorded(QUEUE_ROW_SENT, QUEUE_ROW_FAILED)) == {
        (QUEUE_ROW_SENT, resent.pk),
        (QUEUE_ROW_FAILED, lost.pk),
    }
    assert event_data(QUEUE_ROW_SENT, resent.pk) == at_event(api_row(resent))
    assert event_data(QUEUE_ROW_FAILED, lost.pk) == at_event(api_row(lost))
    assert queue_rows_reconcile_sending() == {"resent": 0, "failed": 0}
    assert len(recorded(QUEUE_ROW_SENT, QUEUE_ROW_FAILED)) == 2


# --- cancel and complete ------------------------------------------------------------------------------


def test_cancelling_through_the_api_records_cancelled_once(api, company):
    row = fresh(lambda: ready_row(company))
    response = api.post(row_url(company, row, "cancel"))
    assert response.status_code == 200
    assert recorded() == [(QUEUE_ROW_CANCELLED, row.pk), (ENROLLMENT_COMPLETED, row.enrollment_id)]
    assert event_data(QUEUE_ROW_CANCELLED, row.pk) == at_event(response.json())
    assert api.post(row_url(company, row, "cancel")).status_code == 200  # already cancelled
    assert len(recorded()) == 2


def test_a_refused_cancel_or_complete_records_nothing(api, company, fake_nylas, member):
    sent = fresh(lambda: ready_row(company))
    from outreach_queue.services import queue_row_send

    queue_row_send(row=sent, member=member)
    Event.objects.all().delete()
    assert api.post(row_url(company, sent, "cancel")).status_code == 409
    assert api.post(row_url(company, sent, "complete"), {}, format="json").status_code == 409
    assert recorded() == []


def test_cancelling_in_admin_records_cancelled_for_each_row(admin_client, company):
    rows = [fresh(lambda: due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1)))]
    rows.append(fresh(lambda: ready_row(company)))
    response = admin_client.post(
        "/admin/queue/queuerow/",
        {"action": "cancel_selected", "_selected_action": [str(r.pk) for r in rows]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(recorded(QUEUE_ROW_CANCELLED)) == {(QUEUE_ROW_CANCELLED, r.pk) for r in rows}
    for row in rows:
        assert event_data(QUEUE_ROW_CANCELLED, row.pk) == at_event(api_row(row))


def test_completing_through_the_api_records_completed_with_the_notes(api, company):
    row = fresh(lambda: ready_row(company, step_type="task"))
    response = api.post(
        row_url(company, row, "complete"), {"notes": "Called, will pay Friday"}, format="json"
    )
    assert response.status_code == 200
    assert recorded() == [(QUEUE_ROW_COMPLETED, row.pk), (ENROLLMENT_COMPLETED, row.enrollment_id)]
    data = event_data(QUEUE_ROW_COMPLETED, row.pk)
    assert data == at_event(response.json()) and data["notes"] == "Called, will pay Friday"
    assert api.post(row_url(company, row, "complete"), {}, format="json").status_code == 200
    assert len(recorded()) == 2


@pytest.mark.django_db(transaction=True)  # each service transaction its own, as in production
def test_a_row_settles_and_its_enrollment_ends_in_one_transaction(api, company, fake_nylas):
    """A worker dying between the two would leave the enrollment active with nothing left to send."""
    sent, failed, lost, cancelled = (ready_row(company) for _ in range(4))
    completed = ready_row(company, step_type="task")
    _stuck(lost, minutes_ago=90)
    Event.objects.all().delete()
    assert api.post(row_url(company, sent, "send"), {}, format="json").json()["status"] == "sent"
    fake_nylas.fail_next(400)
    assert api.post(row_url(company, failed, "send"), {}, format="json").json()["status"] == "failed"
    assert queue_rows_reconcile_sending() == {"resent": 0, "failed": 1}
    for row, action in [(cancelled, "cancel"), (completed, "complete")]:
        assert api.post(row_url(company, row, action), {}, format="json").status_code == 200
    for row, row_event in [
        (sent, QUEUE_ROW_SENT),
        (failed, QUEUE_ROW_FAILED),
        (lost, QUEUE_ROW_FAILED),
        (cancelled, QUEUE_ROW_CANCELLED),
        (completed, QUEUE_ROW_COMPLETED),
    ]:
        events = Event.objects.filter(subject_id__in=[row.pk, row.enrollment_id])
        assert sorted(events.values_list("type", flat=True)) == sorted([ENROLLMENT_COMPLETED, row_event])
        assert len(set(events.values_list("txid", flat=True))) == 1
