"""Auto-send: the periodic pass picks ready reminders of auto_send sequences, paced per mailbox.

The database decides what is due; the broker only wakes workers. The picked rows go to Celery tasks in
batches of AUTO_SEND_BATCH_SIZE rows of one countdown; a task reads its batch once and claims each row
itself, so a row picked twice (two beats, a retry) is still sent once.
Pacing: at most AUTO_SEND_RATE_PER_MINUTE sends per connection in any 60 s, counted in the database
(connections.pacing) by the claim itself, so it holds however many workers and machines send; the
planner reads the same counter to plan only what is left of each mailbox's minute, spread evenly over
the minute with countdowns.
Retries: a row whose last attempt failed is picked again only from its `next_attempt_at` (a backoff
doubling with each attempt, or Nylas's Retry-After if later), and never after AUTO_SEND_MAX_RETRIES
attempts (it then waits for a person). The backoffs add up to less than Nylas's idempotency window.
Gap between emails (company `min_hours_between_emails`, see outreach_queue.email_gap): a row whose
customer had an email within the gap is not picked, and a pass picks at most one row per customer of a
company with a gap; held-back rows stay `ready` and a later pass picks them once the gap has passed.
"""

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import Coalesce, Lower, RowNumber
from django.utils import timezone

from connections.pacing import connection_sends_in_window
from connections.sending import RetryableSendError
from daylit.enqueue import enqueue
from enrollments.models import ScheduledStep
from outreach_queue.email_gap import outside_company_gap
from outreach_queue.models import Suppression
from outreach_queue.services.autosend_rules import auto_send_row_terms, auto_send_sender_active
from outreach_queue.services.delivery import MailboxBusy, queue_row_deliver
from sequences.models import SequenceStep

logger = logging.getLogger(__name__)
CANDIDATE_SCAN_LIMIT = 10_000


@dataclass(frozen=True)
class AutoSendPlan:
    row_id: UUID
    countdown: int


@dataclass(frozen=True)
class AutoSendBatch:
    row_ids: tuple[UUID, ...]
    countdown: int


# A ready reminder whose address was suppressed after promotion waits for a person (who gets a 409).
_suppressed = Suppression.objects.filter(company_id=OuterRef("company_id"), email=Lower(OuterRef("to_email")))


def _auto_sendable(now: datetime.datetime):
    """Ready reminders auto-send may take now: the row's own terms (autosend_rules, which the claim
    applies again), an active sender, an address that is set and not suppressed, and none of a
    customer who had an email within the company's gap."""
    return (
        ScheduledStep.objects.filter(
            auto_send_row_terms(now),
            auto_send_sender_active(),
            outside_company_gap(now),
            step_type=SequenceStep.StepType.REMINDER,
        )
        .exclude(to_email="")
        .exclude(Exists(_suppressed))
    )


def queue_rows_auto_send_plan(*, now: datetime.datetime | None = None) -> list[AutoSendPlan]:
    """Which ready rows to hand to workers now, and after how many seconds each (read-only).

    Fair across companies and mailboxes: one query ranks the candidates within their connection (at
    most a minute's quota of each is read) and within their company, and reads them in rounds of
    company rank, so the first rows of every company come before the second of any. A company's
    100,000-row backlog therefore fills neither the scan nor the queue ahead of another's single email.
    Plans come back in the order to enqueue them: by countdown, companies interleaved.
    """
    now = now or timezone.now()
    rate = max(1, settings.AUTO_SEND_RATE_PER_MINUTE)
    oldest_first = [F("scheduled_for").asc(), F("id").asc()]
    candidates = (
        _auto_sendable(now)
        .annotate(
            connection_id=Coalesce("sender_connection_id", "sequence__sender_connection_id"),
            gap_hours=F("company__min_hours_between_emails"),
        )
        .annotate(
            connection_rank=Window(RowNumber(), partition_by=[F("connection_id")], order_by=oldest_first),
            company_rank=Window(RowNumber(), partition_by=[F("company_id")], order_by=oldest_first),
        )
        .filter(connection_rank__lte=rate)
        .order_by("company_rank", "scheduled_for", "id")
        .values("id", "connection_id", "customer_id", "gap_hours")[:CANDIDATE_SCAN_LIMIT]
    )
    by_connection: dict[UUID, list[dict]] = defaultdict(list)
    gap_customers: set[UUID] = set()
    for row in candidates:
        if row["gap_hours"]:
            # One email per customer at a time: the claim would refuse the second anyway.
            if row["customer_id"] in gap_customers:
                continue
            gap_customers.add(row["customer_id"])
        by_connection[row["connection_id"]].append(row)
    used = connection_sends_in_window(connection_ids=list(by_connection), now=now)
    spacing = 60 / rate
    plans = []
    for connection_id, rows in by_connection.items():
        quota = max(0, rate - used.get(connection_id, 0))
        plans.extend((i, AutoSendPlan(row["id"], int(i * spacing))) for i, row in enumerate(rows[:quota]))
    # Every mailbox's first email, then every second one...: a sorted() is stable, so within a round
    # the rows keep the company rounds of the query.
    return [plan for _, plan in sorted(plans, key=lambda item: item[0])]


def auto_send_batches(plans: list[AutoSendPlan], *, size: int) -> list[AutoSendBatch]:
    """The plans as tasks: the rows of one countdown, `size` at a time, in the plans' order, which
    interleaves the companies (every company's first rows come first).

    Not one company a batch: at one email a second per mailbox, a company's rows of one countdown are
    one per mailbox, so most companies would get batches of one. A task sends its rows one after
    another, so a mailbox slow to answer delays the rows after it in its batch, another company's too:
    by one answer at most past AUTO_SEND_BATCH_SECONDS, when the rest goes to a task of its own."""
    by_countdown: dict[int, list[UUID]] = defaultdict(list)
    for plan in plans:
        by_countdown[plan.countdown].append(plan.row_id)
    size = max(1, size)
    return [
        AutoSendBatch(tuple(ids[first : first + size]), countdown)
        for countdown, ids in by_countdown.items()
        for first in range(0, len(ids), size)
    ]


def queue_rows_auto_send(*, row_ids: Sequence[UUID | str]) -> dict[UUID, str | None]:
    """Send a batch of rows for auto-send, one after another. Says of each row what
    `queue_row_auto_send` returns: its status after the attempt (a claim refused leaves it as it is),
    or None when the read found it no longer auto-sendable, its mailbox was at its rate, or its send
    failed retryably (the row is back to `ready` with its `next_attempt_at`; the planner picks it again).

    One read finds the batch's auto-sendable rows; each row's claim applies the row's terms again
    (autosend_rules), so a row that changed since that read is not sent. Safe twice, like one row.
    """
    ids = [UUID(str(row_id)) for row_id in row_ids]
    rows = {row.pk: row for row in _auto_sendable_rows(ids)}
    statuses: dict[UUID, str | None] = {}
    deadline = time.monotonic() + settings.AUTO_SEND_BATCH_SECONDS
    for position, row_id in enumerate(ids):
        if position and time.monotonic() > deadline:
            # Nylas is slow: the rest goes to a task of its own (its claims still decide), so a batch
            # never holds its last rows for many slow answers. If that enqueue fails, the next pass
            # plans them again.
            enqueue("queue.auto_send_rows", args=[[str(rest) for rest in ids[position:]]])
            break
        statuses[row_id] = _attempt(rows.get(row_id), row_id)
    return statuses


def _attempt(row: ScheduledStep | None, row_id: UUID) -> str | None:
    """One row of a batch. What goes wrong with it is logged and the batch goes on: a row it leaves
    `sending` is the reconciler's, one left `ready` the next pass's. (A database connection lost
    mid-row is replaced by Django when the row's transaction finds it gone, so the next row has one.)"""
    if row is None:
        return None
    try:
        return _send_one(row)
    except Exception:
        logger.exception("queue row %s: auto-send failed", row_id)
        return None


def _send_one(row: ScheduledStep) -> str | None:
    try:
        sent = _deliver(row)
    except RetryableSendError as exc:
        attempts = ScheduledStep.objects.filter(pk=row.pk).values_list("attempts", flat=True).first() or 0
        if attempts >= settings.AUTO_SEND_MAX_RETRIES:
            logger.warning(
                "queue row %s: giving up auto-send after %s attempts: %s", row.pk, attempts, exc.reason
            )
        return None
    return sent.status if sent is not None else None


def queue_row_auto_send(*, row_id: UUID) -> ScheduledStep | None:
    """Send one row for auto-send; None when it is no longer auto-sendable or its mailbox is at its rate.

    Idempotent: the claim inside `queue_row_deliver` lets one caller through, and takes the mailbox's
    pacing slot in the same transaction (connections.pacing), so the rate holds across every worker.
    A row refused for pacing stays `ready` and the next planner pass picks it. Raises
    RetryableSendError after putting the row back to `ready` with its `next_attempt_at`; the planner
    picks it again from then (the only retry mechanism).
    """
    found = _auto_sendable_rows([row_id])
    return _deliver(found[0]) if found else None


def _auto_sendable_rows(row_ids: list[UUID]) -> list[ScheduledStep]:
    return list(
        _auto_sendable(timezone.now())
        .select_related("sequence__sender_connection", "sender_connection", "company")
        .filter(pk__in=row_ids)
    )


def _deliver(row: ScheduledStep) -> ScheduledStep | None:
    connection = row.sender_connection or row.sequence.sender_connection
    try:
        return queue_row_deliver(row=row, sequence=row.sequence, connection=connection, auto_send=True)
    except MailboxBusy:
        return None
