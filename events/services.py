"""Recording events, in the caller's transaction, and the webhook deliveries they start.

`events_record` writes the events of any number of objects of one subject type in one statement: the
events (their `data` from the subject's registered payload query, see `events.subjects`) and, in the
same statement, a pending delivery for every enabled endpoint of the company subscribed to the type.
The caller's transaction owns both: an event exists exactly when its change committed. After commit,
one task wakes the dispatcher; the beat sweep finds anything whose task was lost.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection, transaction

from daylit.enqueue import enqueue_on_commit
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.subjects import subject
from events.types import ALL_TYPES, EVENT_TYPES

DISPATCH_TASK = "events.dispatch_deliveries"
# SPEC: events are kept at least 30 days.
EVENT_RETENTION_DAYS = 30

_RECORD = """
WITH payload AS ({select}),
ins AS (
    INSERT INTO {events} (id, type, occurred_at, company_id, subject_type, subject_id,
                          customer_id, enrollment_id, data)
    SELECT gen_random_uuid(), %(type)s, COALESCE(%(occurred_at)s, now()), p.company_id, %(subject)s,
           p.id, p.customer_id, p.enrollment_id, p.data
    FROM payload p
    RETURNING seq, company_id, type
),
deliveries AS (
    INSERT INTO {deliveries} (id, event_id, endpoint_id, status, attempts, next_attempt_at,
                              last_error, created_at)
    SELECT gen_random_uuid(), ins.seq, ep.id, 'pending', 0, COALESCE(%(occurred_at)s, now()), '', now()
    FROM ins JOIN {endpoints} ep
      ON ep.company_id = ins.company_id AND ep.enabled
     AND CASE WHEN %(only_endpoint)s::uuid IS NULL
              THEN ep.event_types ? %(all)s OR ep.event_types ? ins.type
              ELSE ep.id = %(only_endpoint)s::uuid END
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM deliveries)
"""


def events_record(
    *,
    type: str,
    subject_type: str,
    ids: Iterable[UUID],
    occurred_at: datetime | None = None,
    only_endpoint: UUID | None = None,
) -> int:
    """Record `type` for each object `ids` names (of `subject_type`), as it is now in this
    transaction; returns how many events were written. Objects that no longer exist are skipped.

    Deliveries go to every enabled endpoint subscribed to `type`, due at `occurred_at`; with
    `only_endpoint`, to that endpoint alone, subscribed or not (a ping)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    ids = list(ids)
    if not ids:
        return 0
    sql = _RECORD.format(
        select=subject(subject_type).select,
        events=Event._meta.db_table,
        deliveries=WebhookDelivery._meta.db_table,
        endpoints=WebhookEndpoint._meta.db_table,
    )
    params = {
        "ids": ids,
        "type": type,
        "subject": subject_type,
        "occurred_at": occurred_at,
        "only_endpoint": only_endpoint,
        "all": ALL_TYPES,
    }
    with connection.cursor() as cursor:  # one statement: atomic on its own, no savepoint needed
        cursor.execute(sql, params)
        events, deliveries = cursor.fetchone()
    if deliveries:
        enqueue_on_commit(DISPATCH_TASK, ())
    return events


def events_purge(*, now: datetime, keep_days: int = EVENT_RETENTION_DAYS) -> int:
    """Delete events older than `keep_days` and their deliveries (long settled: retries end after
    three days), in two statements; returns how many events went."""
    cutoff = now - timedelta(days=keep_days)
    events, deliveries = Event._meta.db_table, WebhookDelivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {deliveries} WHERE event_id IN (SELECT seq FROM {events} WHERE occurred_at < %s)",
            [cutoff],
        )
        cursor.execute(f"DELETE FROM {events} WHERE occurred_at < %s", [cutoff])
        return cursor.rowcount
