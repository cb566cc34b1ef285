"""The deliver task's work (`events.tasks.deliver_webhook`): an attempt under the claim, its outcome
recorded, and after a success the delivery handed on attempted too, for up to `CHAIN_SECONDS`, then
left to a new task. Ties `attempt` and `outcomes` together, so neither imports the other's caller.
"""

import time
from datetime import datetime
from uuid import UUID

from django.utils import timezone

from daylit.enqueue import enqueue_on_commit
from events.delivery.attempt import _start, delivery_send
from events.delivery.dispatch import DELIVER_TASK
from events.delivery.outcomes import _record_delivered, _record_failed
from events.models import WebhookDelivery

Status = WebhookDelivery.Status

# A task that delivered goes on with the delivery handed to it for up to this long, then leaves the
# next to a new task: a broker round trip costs about as much CPU as a delivery (bench/bench_webhooks.py),
# and a second is short enough that other endpoints' tasks do not wait behind a busy one for long.
CHAIN_SECONDS = 1.0


def delivery_deliver(
    *, delivery_id: UUID | str, now: datetime | None = None, chain_seconds: float = CHAIN_SECONDS
) -> str | None:
    """The deliver task's work: start an attempt under the delivery's claim, POST it, record the
    outcome. A success hands the endpoint's next due delivery on under a claim (`_record_delivered`):
    while this call has run less than `chain_seconds` it starts and sends that one too, else it
    enqueues a task for it. Returns the status of `delivery_id` after its attempt, or None when this
    call had no claim to act on (done, taken by another task, gone). Safe to run twice: one caller
    starts an attempt per claim."""
    deadline = time.monotonic() + chain_seconds
    delivery = _start(delivery_id, now=now or timezone.now())
    status = None
    while delivery is not None:
        attempted_at = delivery.attempt_started_at
        outcome = delivery_send(delivery=delivery, now=attempted_at)
        if not outcome.delivered:
            failed = _record_failed(delivery, outcome, now=attempted_at)
            return status or failed
        status = Status.DELIVERED
        go_on = time.monotonic() < deadline
        handed, delivery = _record_delivered(
            delivery, outcome, attempted_at=attempted_at, now=now or timezone.now(), start_next=go_on
        )
        if handed is not None and delivery is None:
            enqueue_on_commit(DELIVER_TASK, (str(handed),))
    return status
