"""Promotion of a backlog: helper passes are Celery tasks (never threads of the caller), SKIP LOCKED
splits the batches between them and the pass that enqueued them, and each row moves once."""

import datetime
import threading

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from daylit.celery import app as celery_app
from enrollments.models import ScheduledStep
from events.models import Event
from events.types import QUEUE_ROW_READY
from outreach_queue import tasks
from outreach_queue.services import queue_rows_promote
from outreach_queue.services.promotion import PROMOTE_PASS_TASK
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CompanyFactory
from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.helpers import Status, due_row


def _backlog(rows: int, company=None):
    company = company or CompanyFactory()
    sequence = SequenceFactory(
        company=company, status="active", sender_connection=EmailConnectionFactory(company=company)
    )
    return [due_row(company, sequence=sequence) for _ in range(rows)]


@pytest.fixture
def sent_tasks(monkeypatch):
    """Every task handed to the broker, as (name, args): the broker boundary, nothing else faked."""
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=(), **kwargs: sent.append((name, args)))
    return sent


def _promoted_once(rows) -> None:
    promoted = ScheduledStep.objects.filter(pk__in=[r.pk for r in rows])
    assert promoted.filter(status=Status.READY).exclude(subject="").count() == len(rows)
    ready_events = Event.objects.filter(type=QUEUE_ROW_READY, subject_id__in=[r.pk for r in rows])
    assert ready_events.count() == len(rows)  # one event per row: no row was promoted twice


@pytest.mark.django_db(transaction=True)  # the helper runs on its own connection, beside the pass
def test_a_backlog_is_shared_with_helper_tasks_and_promoted_once(sent_tasks):
    rows = _backlog(30)
    now = timezone.now()
    started = threading.active_count()
    assert queue_rows_promote(now=now, batch_size=4, helpers=2) == 30  # this pass did it all alone
    assert threading.active_count() == started  # no thread started
    assert sent_tasks == [(PROMOTE_PASS_TASK, [now.isoformat(), None])] * 2
    # The workers' helpers, late: nothing left for them.
    assert [tasks.promote_pass(*args) for _, args in sent_tasks] == [0, 0]
    _promoted_once(rows)


@pytest.mark.django_db(transaction=True)
def test_a_helper_task_beside_the_pass_takes_its_own_batches():
    """The helper runs while the pass that enqueued it holds its first batch's locks: it skips those
    rows and promotes the rest; together they move every row once."""
    rows = _backlog(12)
    now = timezone.now()
    results, barrier = [], threading.Barrier(2)

    def helper():
        try:
            barrier.wait()
            results.append(tasks.promote_pass(now.isoformat()))
        finally:
            db_connection.close()

    thread = threading.Thread(target=helper)  # the test's stand-in for a worker
    thread.start()
    barrier.wait()
    results.append(queue_rows_promote(now=now, batch_size=3))
    thread.join()
    assert sum(results) == 12
    _promoted_once(rows)


@pytest.mark.django_db(transaction=True)
def test_a_company_helper_promotes_only_that_company(sent_tasks):
    company, other = CompanyFactory(), CompanyFactory()
    _backlog(3, company)
    others = _backlog(2, other)
    now = timezone.now()
    assert tasks.promote_pass(now.isoformat(), str(company.pk)) == 3
    assert ScheduledStep.objects.filter(pk__in=[r.pk for r in others], status=Status.SCHEDULED).count() == 2
    assert tasks.promote_pass(now.isoformat(), "00000000-0000-0000-0000-000000000000") == 0  # gone


@pytest.mark.django_db(transaction=True)
def test_in_eager_mode_a_helper_runs_inline_and_rows_still_move_once(eager_as_configured):
    rows = _backlog(10)
    assert queue_rows_promote(batch_size=4, helpers=1) == 4  # the inline helper took the rest
    _promoted_once(rows)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_pass_does_the_backlog_alone(broker):
    rows = _backlog(9)
    broker.down()
    assert queue_rows_promote(batch_size=2, helpers=3) == 9
    _promoted_once(rows)


def test_a_request_promotes_in_one_pass_and_enqueues_nothing(company, sent_tasks):
    rows = _backlog(9, company)
    assert queue_rows_promote(company=company, batch_size=2) == 9  # the request's call: no helpers
    assert sent_tasks == []
    _promoted_once(rows)


@pytest.mark.django_db
def test_inside_a_transaction_helpers_wait_for_its_commit(django_capture_on_commit_callbacks, sent_tasks):
    rows = _backlog(9)
    with django_capture_on_commit_callbacks() as callbacks:
        assert queue_rows_promote(batch_size=2, helpers=1) == 9
        assert sent_tasks == []  # they could not see the caller's rows before it commits
    assert len(callbacks) == 1
    _promoted_once(rows)


def test_nothing_due_enqueues_nothing(company, sent_tasks):
    due_row(company, scheduled_for=timezone.now() + datetime.timedelta(hours=1))
    assert queue_rows_promote(helpers=3) == 0
    assert sent_tasks == []
