"""Auto-send in batches: the planner's rows go to tasks of AUTO_SEND_BATCH_SIZE rows of one countdown,
and a task reads its batch once, so each claim must refuse a row that changed since that read."""

import datetime

import psycopg
import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connections.models import EmailConnection
from daylit.celery import app as celery_app
from daylit.embedded_pg.server import connection_url
from enrollments.models import ScheduledStep
from outreach_queue import tasks
from outreach_queue.services import auto_send_batches, queue_rows_auto_send, queue_rows_auto_send_plan
from sequences.models import Sequence
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CompanyFactory
from tests.outreach_queue.helpers import Status, ready_row, sequence_with_sender


def _mailboxes_with_rows(company, *, mailboxes: int, rows: int) -> list[ScheduledStep]:
    sequences = [sequence_with_sender(company, auto_send=True) for _ in range(mailboxes)]
    return [ready_row(company, sequence=sequence) for sequence in sequences for _ in range(rows)]


def test_batches_hold_the_rows_of_one_countdown_in_plan_order(company, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 6  # one email every 10 s per mailbox
    _mailboxes_with_rows(company, mailboxes=5, rows=2)
    other = CompanyFactory(name="Other Co")
    (single,) = _mailboxes_with_rows(other, mailboxes=1, rows=1)
    plans = queue_rows_auto_send_plan()
    batches = auto_send_batches(plans, size=4)
    assert [(len(b.row_ids), b.countdown) for b in batches] == [(4, 0), (2, 0), (4, 10), (1, 10)]
    assert [row_id for b in batches for row_id in b.row_ids] == [p.row_id for p in plans]
    assert single.pk in batches[0].row_ids  # the companies' first rows come first
    assert len(auto_send_batches(plans, size=0)) == len(plans)  # a size below 1 means one row a task


@pytest.mark.django_db
def test_companies_of_one_mailbox_share_batches(settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 60
    for n in range(12):
        _mailboxes_with_rows(CompanyFactory(name=f"Small {n}"), mailboxes=1, rows=1)
    batches = auto_send_batches(queue_rows_auto_send_plan(), size=10)
    assert [len(b.row_ids) for b in batches] == [10, 2]


def test_promote_due_enqueues_batches_and_each_row_goes_out_once(
    company, fake_nylas, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AUTO_SEND_BATCH_SIZE = 2
    rows = _mailboxes_with_rows(company, mailboxes=3, rows=1)
    sent_tasks = []
    # The broker's edge: what the beat pass hands over is recorded, then run by hand below.
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args, countdown=None: sent_tasks.append((name, args, countdown))
    )
    with django_capture_on_commit_callbacks(execute=True):
        tasks.promote_due.run()
    assert [(name, len(args[0]), countdown) for name, args, countdown in sent_tasks] == [
        ("queue.auto_send_rows", 2, 0),
        ("queue.auto_send_rows", 1, 0),
    ]
    for _, args, _ in sent_tasks * 2:  # every task delivered twice (a redelivery, a second beat)
        tasks.auto_send_rows.run(*args)
    assert sorted(r["to"][0]["email"] for r in fake_nylas.deliveries) == sorted(r.to_email for r in rows)
    statuses = ScheduledStep.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    assert set(statuses) == {Status.SENT}


def test_a_batch_says_what_became_of_each_row(company, fake_nylas):
    sent, stopped = _mailboxes_with_rows(company, mailboxes=2, rows=1)
    enrollment = stopped.enrollment
    enrollment.status, enrollment.stop_reason, enrollment.completed_at = (
        "completed",
        "replied",
        timezone.now(),
    )
    enrollment.save(update_fields=["status", "stop_reason", "completed_at"])
    fake_nylas.fail_next(503)
    failing = _mailboxes_with_rows(company, mailboxes=1, rows=1)[0]
    statuses = queue_rows_auto_send(row_ids=[str(failing.pk), sent.pk, stopped.pk])
    assert statuses == {failing.pk: None, sent.pk: Status.SENT, stopped.pk: None}
    failing.refresh_from_db()
    assert failing.status == Status.READY and failing.next_attempt_at is not None  # backing off


def _turn_off_auto_send(row: ScheduledStep) -> None:
    Sequence.objects.filter(pk=row.sequence_id).update(auto_send=False)


def _back_off(row: ScheduledStep) -> None:
    # What another worker's retryable failure of the same row leaves: ready, retry in a minute.
    ScheduledStep.objects.filter(pk=row.pk).update(
        attempts=1, next_attempt_at=timezone.now() + datetime.timedelta(minutes=1)
    )


def _use_up_attempts(row: ScheduledStep) -> None:
    ScheduledStep.objects.filter(pk=row.pk).update(attempts=8)


def _disconnect_mailbox(row: ScheduledStep) -> None:
    EmailConnection.objects.filter(pk=row.sequence.sender_connection_id).update(status="revoked")


def _switch_sender(row: ScheduledStep) -> None:
    other = EmailConnectionFactory(company=row.company)
    Sequence.objects.filter(pk=row.sequence_id).update(sender_connection=other)


def _archive_sequence(row: ScheduledStep) -> None:
    Sequence.objects.filter(pk=row.sequence_id).update(status=Sequence.Status.ARCHIVED)


CHANGES = [
    _turn_off_auto_send,
    _back_off,
    _use_up_attempts,
    _disconnect_mailbox,
    _switch_sender,
    _archive_sequence,
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", CHANGES)
def test_a_row_changed_after_the_batch_was_read_is_not_sent(company, fake_nylas, settings, change):
    settings.AUTO_SEND_MAX_RETRIES = 8
    first, second = _mailboxes_with_rows(company, mailboxes=2, rows=1)

    def while_the_first_is_sent(body: dict) -> None:
        # In the fake's thread, on its own connection: committed before the batch claims the second.
        if body["to"][0]["email"] == first.to_email:
            change(second)
            db_connection.close()

    fake_nylas.on_deliver = while_the_first_is_sent
    # The claim refused it: it comes back as it is, ready, for the planner to judge again.
    assert queue_rows_auto_send(row_ids=[first.pk, second.pk]) == {
        first.pk: Status.SENT,
        second.pk: Status.READY,
    }
    second.refresh_from_db()
    assert second.status == Status.READY and len(fake_nylas.deliveries) == 1


def test_a_row_that_fails_unexpectedly_does_not_hold_back_the_rest_of_its_batch(company, fake_nylas, caplog):
    odd, second = _mailboxes_with_rows(company, mailboxes=2, rows=1)
    # A 2xx whose message id is longer than the column: recording it fails after the delivery.
    answer = {"id": "m" * 300, "grant_id": "g", "thread_id": "t", "subject": "s"}
    fake_nylas.fail_next(200, {"request_id": "r", "data": answer})
    assert queue_rows_auto_send(row_ids=[odd.pk, second.pk]) == {odd.pk: None, second.pk: Status.SENT}
    odd.refresh_from_db()
    assert odd.status == Status.SENDING  # delivered, not recorded: the reconciler's (it resends the key)
    assert f"queue row {odd.pk}: auto-send failed" in caplog.text


def test_past_its_time_a_batch_hands_the_rest_to_a_new_task(company, fake_nylas, settings, monkeypatch):
    settings.AUTO_SEND_BATCH_SECONDS = 0
    rows = _mailboxes_with_rows(company, mailboxes=3, rows=1)
    handed = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args, countdown=None: handed.append((name, args, countdown))
    )
    assert queue_rows_auto_send(row_ids=[row.pk for row in rows]) == {rows[0].pk: Status.SENT}
    assert handed == [("queue.auto_send_rows", [[str(rows[1].pk), str(rows[2].pk)]], None)]
    assert tasks.auto_send_rows.run(*handed[0][1]) == {str(rows[1].pk): Status.SENT}
    assert len(fake_nylas.deliveries) == 2 and len(handed) == 2  # and so on, one row a task at 0 s


def test_a_row_whose_attempted_connection_was_deleted_waits_for_a_person(company, fake_nylas):
    row = _mailboxes_with_rows(company, mailboxes=1, rows=1)[0]
    # An earlier attempt went out from a connection since deleted (the foreign key set to NULL):
    # Nylas's key is per grant, so no other mailbox may retry it.
    ScheduledStep.objects.filter(pk=row.pk).update(attempts=1, sending_started_at=timezone.now())
    assert row.pk not in {plan.row_id for plan in queue_rows_auto_send_plan()}
    assert queue_rows_auto_send(row_ids=[row.pk]) == {row.pk: None}
    assert fake_nylas.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_lost_mid_batch_costs_the_row_in_flight_not_the_batch(company, fake_nylas):
    first, second = _mailboxes_with_rows(company, mailboxes=2, rows=1)
    backend = db_connection.connection.info.backend_pid

    def the_server_drops_the_senders_connection(body: dict) -> None:
        if body["to"][0]["email"] == first.to_email:
            with psycopg.connect(connection_url(db_connection), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [backend])

    fake_nylas.on_deliver = the_server_drops_the_senders_connection
    assert queue_rows_auto_send(row_ids=[first.pk, second.pk]) == {first.pk: None, second.pk: Status.SENT}
    assert db_connection.connection.info.backend_pid != backend  # a new one
    # Delivered, not recorded: the reconciler resends it under its key, and Nylas replays the answer.
    assert ScheduledStep.objects.get(pk=first.pk).status == Status.SENDING
    assert len(fake_nylas.deliveries) == 2
