"""Recording an attempt's outcome. Delivered is written whoever holds the claim now (the receiver has
it), with the endpoint healthy again and its next due delivery claimed in the same statement; a
failure only by the attempt that still holds the claim, with the next attempt from the schedule (or
failed: given up), the endpoint failing and its probe time, or, after three days of failures, the
endpoint disabled with its pending deliveries ended.
"""

import logging
from datetime import datetime
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F

from events.delivery.attempt import ERROR_MAX, Outcome
from events.delivery.schedule import CLAIM_LEASE, DISABLE_AFTER, endpoint_probe_at, next_attempt_after_failure
from events.delivery.sql import _attempt_from_row, _sql
from events.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__package__)  # "events.delivery", as before the package was split

Status = WebhookDelivery.Status

_DELIVERED = """
WITH healthy AS (
    -- A success ends the endpoint's failure history; skipped (not waited for) while a failure being
    -- recorded holds the row: no lock is ever waited for here, so this cannot deadlock with one.
    UPDATE {endpoints} ep SET failing_since = NULL, retry_at = NULL
    WHERE ep.id IN (SELECT h.id FROM {endpoints} h
                    WHERE h.id = %(endpoint)s AND (h.failing_since IS NOT NULL OR h.retry_at IS NOT NULL)
                    FOR NO KEY UPDATE SKIP LOCKED)
    RETURNING ep.id
),
done AS (
    UPDATE {deliveries} d
    SET status = 'delivered', attempts = d.attempts + 1, last_attempt_at = %(attempted_at)s,
        last_status_code = %(code)s, last_error = '', next_attempt_at = NULL, locked_until = NULL,
        attempt_started_at = NULL
    WHERE d.id = %(id)s AND d.status <> 'delivered'
    RETURNING d.id
),
next AS (
    SELECT n.id FROM {deliveries} n
    WHERE n.endpoint_id = %(endpoint)s AND n.status = 'pending' AND n.next_attempt_at <= %(now)s
      AND (n.locked_until IS NULL OR n.locked_until <= %(now)s)
      AND EXISTS (SELECT 1 FROM done)
      AND EXISTS (SELECT 1 FROM {endpoints} e
                  WHERE e.id = %(endpoint)s AND e.enabled
                    AND (e.retry_at IS NULL OR e.retry_at <= %(now)s OR EXISTS (SELECT 1 FROM healthy)))
    ORDER BY n.next_attempt_at, n.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),
handed AS (
    -- claimed for a new task (queued), or started here for this one (in flight)
    UPDATE {deliveries} d
    SET locked_until = %(lease)s, attempt_started_at = CASE WHEN %(start)s THEN %(now)s::timestamptz END
    FROM next, {events} e, {endpoints} ep
    WHERE d.id = next.id AND e.seq = d.event_id AND ep.id = d.endpoint_id
    RETURNING {columns}
)
SELECT * FROM handed
"""


def _record_delivered(
    delivery: WebhookDelivery, outcome: Outcome, *, attempted_at: datetime, now: datetime, start_next: bool
) -> tuple[UUID | None, WebhookDelivery | None]:
    """Delivered (whoever holds the claim now: the receiver has it), the endpoint healthy again, and
    the endpoint's next due delivery claimed in its place, in one statement: a backlog flows at the
    endpoint's cap without a dispatcher between deliveries. Returns the id of the delivery handed on,
    and with `start_next` that delivery started for the caller to send (a second statement saved)."""
    params = {
        "id": str(delivery.pk),
        "endpoint": str(delivery.endpoint_id),
        "attempted_at": attempted_at,
        "now": now,
        "code": outcome.status_code,
        "lease": now + CLAIM_LEASE,
        "start": start_next,
    }
    with connection.cursor() as cursor:
        cursor.execute(_sql(_DELIVERED), params)
        row = cursor.fetchone()
    if row is None:
        return None, None
    return row[0], (_attempt_from_row(row) if start_next else None)


def _record_failed(delivery: WebhookDelivery, outcome: Outcome, *, now: datetime) -> str | None:
    failed_attempts = delivery.attempts + 1
    next_at = next_attempt_after_failure(
        failed_attempts=failed_attempts, created_at=delivery.created_at, now=now
    )
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(no_key=True).filter(pk=delivery.endpoint_id).first()
        )
        if endpoint is None:
            return None
        recorded = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=Status.PENDING, attempt_started_at=now
        ).update(
            status=Status.PENDING if next_at else Status.FAILED,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            last_status_code=outcome.status_code,
            last_error=outcome.error,
            next_attempt_at=next_at,
            locked_until=None,
            attempt_started_at=None,
        )
        if not recorded:  # our claim expired and another attempt owns the delivery now
            logger.info("webhook delivery %s: a late failure left to the attempt that owns it", delivery.pk)
            return None
        failing_since = endpoint.failing_since or now
        if now - failing_since >= DISABLE_AFTER:
            reason = (
                f"Every delivery failed for three days (since {failing_since:%Y-%m-%d %H:%M} UTC); "
                f"the last: {outcome.error}"
            )
            endpoint_disable(endpoint=endpoint, reason=reason[:500], now=now)
            return Status.FAILED
        if endpoint.enabled:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                failing_since=failing_since,
                retry_at=endpoint_probe_at(failing_since=failing_since, now=now),
            )
    return Status.PENDING if next_at else Status.FAILED


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str | None, now: datetime) -> None:
    """Disable the endpoint and end its pending deliveries as failed. Call with the endpoint's row
    locked or inside the caller's transaction (the lock order: endpoint, then deliveries)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason, retry_at=None, updated_at=now
    )
    WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status=Status.PENDING).update(
        status=Status.FAILED,
        next_attempt_at=None,
        locked_until=None,
        attempt_started_at=None,
        last_error=f"Not sent: the endpoint was disabled{': ' + reason if reason else '.'}"[:ERROR_MAX],
    )
