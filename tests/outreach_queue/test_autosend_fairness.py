"""Auto-send at scale: the planner is fair across companies and mailboxes, and the claim is what
holds a mailbox to its rate (a slot is spent only by a claim that happened)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from connections.pacing import connection_sends_in_window
from enrollments.models import ScheduledStep
from outreach_queue import tasks
from outreach_queue.services import autosend, queue_row_deliver, queue_row_send, queue_rows_auto_send_plan
from tests.factories.core import CompanyFactory
from tests.outreach_queue.helpers import Status, past, ready_row, sequence_with_sender


def _ready_rows(company, sequence, count: int, minutes_ago: int) -> list[ScheduledStep]:
    return [ready_row(company, sequence=sequence, scheduled_for=past(minutes_ago)) for _ in range(count)]


def test_a_big_backlog_does_not_keep_another_companys_single_email_out_of_the_plan(
    company, fake_nylas, monkeypatch, settings
):
    settings.AUTO_SEND_RATE_PER_MINUTE = 60
    monkeypatch.setattr(autosend, "CANDIDATE_SCAN_LIMIT", 6)  # the scan is smaller than the backlog
    busy = sequence_with_sender(company, auto_send=True)
    backlog = _ready_rows(company, busy, 8, minutes_ago=600)  # older than the small company's email
    small = CompanyFactory(name="Small Co")
    single = ready_row(small, sequence=sequence_with_sender(small, auto_send=True), scheduled_for=past(1))
    plans = queue_rows_auto_send_plan()
    assert [p.row_id for p in plans][:2] == [backlog[0].pk, single.pk]  # round one: each company's first
    assert len(plans) == 6 and plans[1].countdown == 0


def test_one_mailbox_is_read_at_most_a_minutes_quota_so_others_fill_the_scan(company, monkeypatch, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 2
    monkeypatch.setattr(autosend, "CANDIDATE_SCAN_LIMIT", 4)
    busy = sequence_with_sender(company, auto_send=True)
    _ready_rows(company, busy, 5, minutes_ago=600)
    quiet = [
        ready_row(company, sequence=sequence_with_sender(company, auto_send=True), scheduled_for=past(1))
        for _ in range(2)
    ]
    planned = {p.row_id for p in queue_rows_auto_send_plan()}
    assert len(planned) == 4 and {row.pk for row in quiet} <= planned


def test_plans_come_in_rounds_every_mailboxs_first_email_before_any_second(company, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 6
    first = sequence_with_sender(company, auto_send=True)
    second = sequence_with_sender(company, auto_send=True)
    _ready_rows(company, first, 3, minutes_ago=10)
    _ready_rows(company, second, 3, minutes_ago=5)
    assert [p.countdown for p in queue_rows_auto_send_plan()] == [0, 0, 10, 10, 20, 20]


@pytest.mark.django_db(transaction=True)
def test_threads_sending_one_mailboxs_rows_at_once_stop_at_its_rate(company, fake_nylas, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 3
    sequence = sequence_with_sender(company, auto_send=True)
    rows = _ready_rows(company, sequence, 8, minutes_ago=5)
    barrier = threading.Barrier(len(rows))

    def send(row_id) -> None:
        barrier.wait()
        try:
            tasks.auto_send_row.run(str(row_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(row.pk,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = list(
        ScheduledStep.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    )
    assert sorted(statuses) == [Status.READY] * 5 + [Status.SENT] * 3
    assert len(fake_nylas.deliveries) == 3


def test_a_claim_that_finds_the_row_taken_gives_its_slot_back(company, fake_nylas, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 1
    sequence = sequence_with_sender(company, auto_send=True)
    row = ready_row(company, sequence=sequence)
    stale = ScheduledStep.objects.select_related("company").get(pk=row.pk)
    ScheduledStep.objects.filter(pk=row.pk).update(status=Status.CANCELLED)  # a person cancelled it
    result = queue_row_deliver(
        row=stale, sequence=sequence, connection=sequence.sender_connection, auto_send=True
    )
    assert result.status == Status.CANCELLED and fake_nylas.requests == []
    mailbox = sequence.sender_connection_id
    assert connection_sends_in_window(connection_ids=[mailbox], now=timezone.now()) == {}
    other = ready_row(company, sequence=sequence)
    assert tasks.auto_send_row.run(str(other.pk)) == Status.SENT  # the one slot of the minute was free


def test_a_persons_send_counts_against_the_mailboxs_minute(company, member, fake_nylas, settings):
    settings.AUTO_SEND_RATE_PER_MINUTE = 1
    sequence = sequence_with_sender(company, member, auto_send=True)
    by_hand, automatic = (ready_row(company, sequence=sequence) for _ in range(2))
    assert queue_row_send(row=by_hand, member=member).status == Status.SENT
    assert automatic.pk not in {p.row_id for p in queue_rows_auto_send_plan()}
    assert tasks.auto_send_row.run(str(automatic.pk)) is None  # refused at the claim, still ready
    automatic.refresh_from_db()
    assert automatic.status == Status.READY and automatic.attempts == 0
