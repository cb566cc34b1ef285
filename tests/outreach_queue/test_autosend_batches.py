"""Auto-send in batches: the planner's rows go to tasks of AUTO_SEND_BATCH_SIZE rows of one countdown,
and a task reads its batch once, so each claim must refuse a row that changed since that read."""

import datetime

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connections.models import EmailConnection
from daylit.celery import app as celery_app
from enrollments.models import ScheduledStep
from outreach_queue import tasks
from outreach_queue.services import auto_send_batches, queue_rows_auto_send, queue_rows_auto_send_plan
from sequences.models import Sequence
from tests.factories.core import CompanyFactory
from tests.outreach_queue.helpers import Status, ready_row, sequence_with_sender


def _mailboxes_with_rows(company, *, mailboxes: int, rows: int) -> list[ScheduledStep]:
    sequences = [sequence_with_sender(company, auto_send=True) for _ in range(mailboxes)]
    return [ready_row(company, sequence=sequence) for sequence in sequences for _ in range(rows)]


def test_batches_hold_the_rows_of_one_countdown_in_plan_order(company, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 6  # one email every 10 s per mailbox
    _mailboxes_with_rows(company, mailboxes=5, rows=2)
    other = CompanyFactory(name="Other Co")
    _mailboxes_with_rows(other, mailboxes=1, rows=1)
    plans = queue_rows_auto_send_plan()
    batches = auto_send_batches(plans, size=4)
    assert [(len(b.row_ids), b.countdown) for b in batches] == [(4, 0), (2, 0), (4, 10), (1, 10)]
    assert [row_id for batch in batches for row_id in batch.row_ids] == [p.row_id for p in plans]
    assert len(auto_send_batches(plans, size=0)) == len(plans)  # a size below 1 means one row a task


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


def _archive_sequence(row: ScheduledStep) -> None:
    Sequence.objects.filter(pk=row.sequence_id).update(status=Sequence.Status.ARCHIVED)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change", [_turn_off_auto_send, _back_off, _use_up_attempts, _disconnect_mailbox, _archive_sequence]
)
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
