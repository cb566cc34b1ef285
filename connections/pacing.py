"""Per-mailbox pacing: at most `limit` sends started from one connection in any 60-second window.

The counter is a database row per connection (MailboxPacing.recent_sends, the start times of its
sends in the last minute), not process memory, so it holds across worker threads, processes and
machines alike. A slot is taken by one statement, an upsert that appends the time only when fewer than
`limit` times lie within the last 60 s; the row lock of the upsert makes two takers at once count one
after the other. Times are the database server's (`statement_timestamp()`), so workers whose clocks
disagree still share one clock.

Callers take the slot in the same transaction as their claim of the email (outreach_queue delivery):
a claim that changes nothing rolls back and gives the slot back, and a slot is never spent without a
claim. The row stays locked until that transaction ends, which serialises the claims of one mailbox
for the length of one UPDATE.
"""

import datetime
from uuid import UUID

from django.db import connection

from connections.models import MailboxPacing

WINDOW_SECONDS = 60

_TABLE = MailboxPacing._meta.db_table
_RECENT = f"t > statement_timestamp() - interval '{WINDOW_SECONDS} seconds'"
# `force`: a person's send is never held back, but it counts against the mailbox's window.
_TAKE = f"""
    INSERT INTO {_TABLE} AS p (connection_id, recent_sends)
    VALUES (%(connection)s, ARRAY[statement_timestamp()])
    ON CONFLICT (connection_id) DO UPDATE SET recent_sends = ARRAY(
        SELECT t FROM unnest(p.recent_sends || statement_timestamp()) AS t
        WHERE {_RECENT} ORDER BY t DESC LIMIT %(limit)s
    )
    WHERE %(force)s OR (SELECT count(*) FROM unnest(p.recent_sends) AS t WHERE {_RECENT}) < %(limit)s
    RETURNING 1
"""


def connection_send_slot_take(*, connection_id: UUID, limit: int, force: bool = False) -> bool:
    """Count one send from `connection_id` now; False (nothing written) when `limit` sends already
    started in the last 60 s, unless `force`. Takes the mailbox's pacing row lock until the caller's
    transaction ends: call it inside the transaction of the claim it paces."""
    limit = max(1, limit)
    with connection.cursor() as cursor:
        cursor.execute(_TAKE, {"connection": connection_id, "limit": limit, "force": force})
        return cursor.fetchone() is not None


def connection_sends_in_window(*, connection_ids: list[UUID], now: datetime.datetime) -> dict[UUID, int]:
    """Sends each connection started in the 60 s before `now` (one query; a planner's estimate: the
    take decides)."""
    if not connection_ids:
        return {}
    since = now - datetime.timedelta(seconds=WINDOW_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.connection_id, count(*) FROM {_TABLE} p, unnest(p.recent_sends) AS t
            WHERE p.connection_id = ANY(%s) AND t > %s AND t <= %s
            GROUP BY p.connection_id
            """,
            [list(connection_ids), since, now],
        )
        return dict(cursor.fetchall())
