"""Beat tasks and auto-send. Task functions are called directly; Celery runs eagerly where a task
enqueues another, so the whole chain (promote -> enqueue -> claim -> send) is exercised."""

import datetime

import pytest
from django.utils import timezone

from daylit.celery import app
from enrollments.models import ScheduledStep
from outreach_queue import tasks
from outreach_queue.services import queue_rows_auto_send_plan
from outreach_queue.services.backoff import SEND_RETRY_BASE_SECONDS, SEND_RETRY_CAP_SECONDS, backoff_seconds
from tests.factories.core import MemberFactory
from tests.outreach_queue.helpers import Status, due_row, sequence_with_sender

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_task_names_match_the_beat_schedule(settings):
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"queue.promote_due", "queue.reconcile_sending", "queue.compact_status_counts"} <= names
    assert tasks.promote_due.name == "queue.promote_due"
    assert tasks.reconcile_sending.name == "queue.reconcile_sending"
    assert tasks.compact_status_counts.name == "queue.compact_status_counts"


def test_promote_due_without_auto_send_only_promotes(company, fake_nylas, eager_celery):
    row = due_row(company)
    assert tasks.promote_due() == 1
    row.refresh_from_db()
    assert row.status == Status.READY and fake_nylas.requests == []


def test_auto_send_sends_ready_reminders_of_active_enrollments_once(
    company,
    fake_nylas,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    sequence = sequence_with_sender(company, auto_send=True)
    rows = [due_row(company, sequence=sequence) for _ in range(3)]
    call = due_row(company, sequence=sequence, step_type="call")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.promote_due()
    statuses = dict(
        ScheduledStep.objects.filter(pk__in=[r.pk for r in [*rows, call]]).values_list("pk", "status")
    )
    assert [statuses[r.pk] for r in rows] == [Status.SENT] * 3
    assert statuses[call.pk] == Status.READY  # calls wait for a person
    assert len(fake_nylas.deliveries) == 3
    with django_capture_on_commit_callbacks(execute=True):
        tasks.promote_due()  # nothing ready any more: nothing sent again
    assert len(fake_nylas.deliveries) == 3


def test_auto_send_row_task_twice_sends_once(company, fake_nylas):
    sequence = sequence_with_sender(company, auto_send=True)
    row = due_row(company, sequence=sequence)
    tasks.promote_due.run()
    tasks.auto_send_row.run(str(row.pk))
    tasks.auto_send_row.run(str(row.pk))
    assert len(fake_nylas.deliveries) == 1


def test_auto_send_skips_sequences_without_auto_send_and_stopped_enrollments(company, fake_nylas):
    manual = due_row(company)
    auto = sequence_with_sender(company, auto_send=True)
    stopped = due_row(company, sequence=auto)
    tasks.promote_due.run()
    stopped.enrollment.status = "completed"
    stopped.enrollment.completed_at = stopped.created_at
    stopped.enrollment.save()
    assert queue_rows_auto_send_plan() == []
    assert tasks.auto_send_row.run(str(manual.pk)) is None
    assert tasks.auto_send_row.run(str(stopped.pk)) is None
    assert fake_nylas.requests == []


def test_auto_send_is_paced_per_connection(company, settings, fake_nylas):
    settings.AUTO_SEND_RATE_PER_MINUTE = 2
    busy = sequence_with_sender(company, auto_send=True)
    quiet = sequence_with_sender(company, MemberFactory(company=company), auto_send=True)
    busy_rows = [due_row(company, sequence=busy) for _ in range(5)]
    quiet_row = due_row(company, sequence=quiet)
    tasks.promote_due.run()  # not eager: the plan is only computed here
    plan = queue_rows_auto_send_plan()
    busy_plan = [p for p in plan if p.row_id in {r.pk for r in busy_rows}]
    assert [p.countdown for p in busy_plan] == [0, 30]
    assert quiet_row.pk in {p.row_id for p in plan}
    for item in busy_plan:
        tasks.auto_send_row.run(str(item.row_id))
    # The mailbox used its minute: no more from it, and a task that slips through sends nothing.
    assert not {p.row_id for p in queue_rows_auto_send_plan()} & {r.pk for r in busy_rows}
    leftover = next(r for r in busy_rows if r.pk not in {p.row_id for p in busy_plan})
    assert tasks.auto_send_row.run(str(leftover.pk)) is None
    assert len(fake_nylas.deliveries) == 2


def test_auto_send_retryable_failure_retries_later_with_the_same_key(company, fake_nylas):
    sequence = sequence_with_sender(company, auto_send=True)
    row = due_row(company, sequence=sequence)
    tasks.promote_due.run()
    fake_nylas.fail_next(503)
    assert tasks.auto_send_row.run(str(row.pk)) is None
    row.refresh_from_db()
    assert row.status == Status.READY and row.attempts == 1
    assert row.pk not in {p.row_id for p in queue_rows_auto_send_plan()}  # backing off
    assert tasks.auto_send_row.run(str(row.pk)) is None  # a stray task before next_attempt_at: nothing
    ScheduledStep.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # the backoff passed
    assert [p.row_id for p in queue_rows_auto_send_plan()] == [row.pk]
    tasks.auto_send_row.run(str(row.pk))  # the retry
    row.refresh_from_db()
    assert row.status == Status.SENT and len(fake_nylas.deliveries) == 1
    assert len({request["key"] for request in fake_nylas.requests}) == 1


def test_reconcile_task_runs_the_reconciler(company):
    assert tasks.reconcile_sending.run() == {"resent": 0, "failed": 0}


def _auto_row(company):
    row = due_row(company, sequence=sequence_with_sender(company, auto_send=True))
    tasks.promote_due.run()
    return row


def test_auto_send_waits_for_retry_after_and_the_task_does_not_retry_itself(company, fake_nylas):
    row = _auto_row(company)
    fake_nylas.fail_next(
        429,
        {"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow"}},
        {"Retry-After": "600"},
    )
    assert tasks.auto_send_row.run(str(row.pk)) is None  # one retry mechanism: the planner
    row.refresh_from_db()
    assert row.status == Status.READY and row.next_attempt_at == row.updated_at + datetime.timedelta(
        seconds=600
    )
    ids = lambda seconds: [  # noqa: E731
        plan.row_id
        for plan in queue_rows_auto_send_plan(now=row.updated_at + datetime.timedelta(seconds=seconds))
    ]
    assert ids(120) == []  # past auto-send's own 30 s backoff, still inside Retry-After
    assert ids(600) == [row.pk]


def test_auto_send_gives_up_after_max_retries_and_the_row_waits_for_a_person(company, fake_nylas, settings):
    settings.AUTO_SEND_MAX_RETRIES = 2
    row = _auto_row(company)
    for _ in range(2):
        ScheduledStep.objects.filter(pk=row.pk).update(next_attempt_at=None)  # the backoff has passed
        assert [plan.row_id for plan in queue_rows_auto_send_plan()] == [row.pk]
        fake_nylas.fail_next(500)
        assert tasks.auto_send_row.run(str(row.pk)) is None
    ScheduledStep.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert queue_rows_auto_send_plan() == []
    assert tasks.auto_send_row.run(str(row.pk)) is None
    row.refresh_from_db()
    assert row.status == Status.READY and row.attempts == 2 and "500" in row.error
    assert len(fake_nylas.requests) == 2 and fake_nylas.deliveries == []


def test_auto_send_retries_fit_in_nylas_idempotency_window(settings):
    waits = [backoff_seconds(n, SEND_RETRY_BASE_SECONDS, SEND_RETRY_CAP_SECONDS) for n in range(1, 8)]
    assert settings.AUTO_SEND_MAX_RETRIES == 8 and sum(waits) < settings.NYLAS_IDEMPOTENCY_WINDOW_SECONDS
