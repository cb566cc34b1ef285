"""Celery tasks of the queue: thin wrappers over services, safe to run twice (ids in, rows re-read)."""

import datetime
import logging
import random

from celery import shared_task
from django.conf import settings

from daylit.enqueue import enqueue_on_commit
from daylit.errors import DomainError
from daylit.models import Company
from daylit.periodic import one_at_a_time
from enrollments.models import ScheduledStep
from outreach_queue import services

logger = logging.getLogger(__name__)


@shared_task(name="queue.promote_due", ignore_result=True)
@one_at_a_time("queue.promote_due")
def promote_due() -> int:
    """Every minute: promote every company's due rows, then hand auto-send rows to workers. One run at
    a time (a second beat's copy skips): two plans at once would enqueue every row's task twice. A
    backlog is shared with `QUEUE_PROMOTION_WORKERS - 1` helper passes on other workers (promote_pass)."""
    promoted = services.queue_rows_promote(helpers=settings.QUEUE_PROMOTION_WORKERS - 1)
    services.queue_rows_draft_sweep()
    plans = services.queue_rows_auto_send_plan()
    batches = services.auto_send_batches(plans, size=settings.AUTO_SEND_BATCH_SIZE)
    # On commit: a worker must never look for a row before the transaction that readied it commits. A
    # plan that cannot be enqueued is planned again by the next run.
    enqueue_on_commit(
        "queue.auto_send_rows",
        *([[str(row_id) for row_id in batch.row_ids]] for batch in batches),
        countdowns=[batch.countdown for batch in batches],
    )
    if promoted or plans:
        logger.info("promoted %s rows, %s auto-send rows in %s tasks", promoted, len(plans), len(batches))
    return promoted


@shared_task(name="queue.promote_pass", ignore_result=True)
def promote_pass(now: str, company_id: str | None = None) -> int:
    """A helper pass on a promotion backlog, enqueued by the pass that found it; not one at a time: it
    runs beside that pass, and SKIP LOCKED gives each its own batches. Rows due at `now` (ISO 8601)."""
    company = None
    if company_id is not None:
        company = Company.objects.filter(pk=company_id).first()
        if company is None:
            return 0
    return services.queue_rows_promote_helper(now=datetime.datetime.fromisoformat(now), company=company)


@shared_task(name="queue.reconcile_sending", ignore_result=True)
@one_at_a_time("queue.reconcile_sending")
def reconcile_sending() -> dict | None:
    """Every minute: settle rows a dead worker left in `sending` (resend with the same key, or fail)."""
    return services.queue_rows_reconcile_sending()


@shared_task(name="queue.compact_status_counts", ignore_result=True)
def compact_status_counts() -> int:
    """Every minute: fold the running status counts' changes (see StatusCount)."""
    return services.status_counts_compact()


@shared_task(name="queue.auto_send_rows", ignore_result=True)
def auto_send_rows(row_ids: list[str]) -> dict[str, str | None]:
    """Send a batch of auto-send rows. The service claims each row, so a duplicate task sends nothing
    more. No retry here: a retryable failure leaves its row `ready` with `next_attempt_at` (backoff or
    Retry-After), and the every-minute planner picks it again from then, up to AUTO_SEND_MAX_RETRIES
    attempts; after that the row waits in the queue for a person."""
    statuses = services.queue_rows_auto_send(row_ids=row_ids)
    return {str(row_id): status for row_id, status in statuses.items()}


@shared_task(name="queue.auto_send_row", ignore_result=True)
def auto_send_row(row_id: str) -> str | None:
    """One row: the task planners enqueued before batches (still in a broker after an upgrade)."""
    return next(iter(auto_send_rows([row_id]).values()))


@shared_task(name="queue.send_row", ignore_result=True)
def send_row(row_id: str) -> str | None:
    """Support staff's "send selected" (admin): a person's send, acting for the company (member None),
    from the row's earlier connection or the sequence's sender. Safe twice: the claim lets one through.
    A refusal or a retryable failure is logged; the row keeps the reason in `error`."""
    row = ScheduledStep.objects.filter(pk=row_id).first()
    if row is None:
        return None
    try:
        return services.queue_row_send(row=row, member=None).status
    except DomainError as exc:
        logger.warning("queue row %s: staff send not done: %s", row_id, exc.detail)
        return None


@shared_task(name="queue.generate_draft", bind=True, ignore_result=True, max_retries=None)
def generate_draft(self, row_id: str) -> None:
    """Write the AI draft of one pending row. The service counts attempts on the row and says when
    to retry (provider unavailable, attempts left); a row no longer pending makes this a no-op."""
    result = services.queue_row_draft(row_id=row_id)
    if result is not None and result.retry_in is not None:
        raise self.retry(countdown=result.retry_in + random.uniform(0, result.retry_in / 10 + 1))
