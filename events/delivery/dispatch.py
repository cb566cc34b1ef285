"""Dispatch: claim due deliveries, a task for each. Apart from a success handing its claim on one for
one (`outcomes`), the only place that claims: the sweep (beat, every 10 s) and the wake-ups after
events are recorded, a retry or a ping run it. It locks the endpoints it serves, then claims within
each one's room under its cap, in at most three statements whatever the number of endpoints and
deliveries, and enqueues a deliver task per claim after commit.
"""

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from daylit.enqueue import enqueue_on_commit
from events.delivery.schedule import CLAIM_LEASE
from events.delivery.sql import _sql

DELIVER_TASK = "events.deliver_webhook"
DISPATCH_BATCH = 1000

_LOCK_ENDPOINTS = """
SELECT ep.id FROM {endpoints} ep
WHERE ep.enabled
  AND (ep.retry_at IS NULL OR ep.retry_at <= %(now)s)
  AND (%(endpoint_ids)s::uuid[] IS NULL OR ep.id = ANY(%(endpoint_ids)s::uuid[]))
  AND EXISTS (
      SELECT 1 FROM {deliveries} d
      WHERE d.endpoint_id = ep.id AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
        AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
  )
ORDER BY ep.id
FOR NO KEY UPDATE OF ep
"""

_CLAIM = """
WITH room AS (
    SELECT ep.id,
           CASE WHEN ep.failing_since IS NULL THEN %(per_endpoint)s ELSE 1 END
           - (SELECT count(*) FROM ({in_flight} LIMIT %(per_endpoint)s) c) AS free
    FROM {endpoints} ep
    WHERE ep.id = ANY(%(locked)s::uuid[])
),
picked AS (
    SELECT due.id FROM room CROSS JOIN LATERAL (
        SELECT d.id FROM {deliveries} d
        WHERE d.endpoint_id = room.id AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
          AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
        ORDER BY d.next_attempt_at, d.id
        LIMIT GREATEST(room.free, 0)
        FOR UPDATE OF d SKIP LOCKED
    ) due
    LIMIT %(limit)s
)
UPDATE {deliveries} d SET locked_until = %(lease)s, attempt_started_at = NULL
FROM picked
WHERE d.id = picked.id AND d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
RETURNING d.id
"""

_FAIL_PENDING_OF_DISABLED = """
UPDATE {deliveries} d
SET status = 'failed', next_attempt_at = NULL, locked_until = NULL, attempt_started_at = NULL,
    last_error = %(error)s
FROM {endpoints} ep
WHERE d.endpoint_id = ep.id AND NOT ep.enabled AND d.status = 'pending'
"""


def deliveries_dispatch(
    *, now: datetime | None = None, endpoint_ids: list[UUID] | None = None, limit: int = DISPATCH_BATCH
) -> int:
    """Claim due pending deliveries (of `endpoint_ids`, or of every endpoint) within each endpoint's
    room, and enqueue a deliver task for each after commit; returns how many were claimed. Without
    `endpoint_ids` it also ends as failed any delivery left pending on a disabled endpoint (one that
    an event recorded while the endpoint was being disabled). Set-based: at most three statements,
    whatever the number of endpoints and deliveries."""
    now = now or timezone.now()
    params = {
        "now": now,
        "endpoint_ids": [str(i) for i in endpoint_ids] if endpoint_ids is not None else None,
        "per_endpoint": settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
        "lease": now + CLAIM_LEASE,
        "limit": limit,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if endpoint_ids is None:
            cursor.execute(_sql(_FAIL_PENDING_OF_DISABLED), {"error": "Not sent: the endpoint is disabled."})
        cursor.execute(_sql(_LOCK_ENDPOINTS), params)
        locked = [str(row[0]) for row in cursor.fetchall()]
        if not locked:
            return 0
        cursor.execute(_sql(_CLAIM), {**params, "locked": locked})
        claimed = [str(row[0]) for row in cursor.fetchall()]
        enqueue_on_commit(DELIVER_TASK, *[(delivery_id,) for delivery_id in claimed])
    return len(claimed)
