"""The per-minute auto-send count reads an index that matches it: the mailbox's pacing row by its
primary key (connections.pacing), never a scan of the queue rows or of every mailbox's row."""

import pytest
from django.db import connection
from django.utils import timezone

from connections import pacing
from connections.models import MailboxPacing
from tests.factories.connections import EmailConnectionFactory

pytestmark = pytest.mark.django_db

PKEY = f"{MailboxPacing._meta.db_table}_pkey"


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tiny test table would be scanned
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _captured(run) -> tuple[str, list]:
    """The statement `run` sends (and its parameters), through the cursor's execute."""
    seen = []

    def execute(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(execute):
        run()
    [statement] = seen
    return statement


def test_the_planners_count_of_a_minutes_sends_reads_the_pacing_rows_by_primary_key():
    sender = EmailConnectionFactory()
    assert pacing.connection_send_slot_take(connection_id=sender.pk, limit=5)
    sql, params = _captured(
        lambda: pacing.connection_sends_in_window(connection_ids=[sender.pk], now=timezone.now())
    )
    plan = _plan(sql, params)
    assert PKEY in plan and "enrollments_scheduledstep" not in plan


def test_taking_a_slot_counts_within_the_mailboxs_own_row():
    sender = EmailConnectionFactory()
    assert pacing.connection_send_slot_take(connection_id=sender.pk, limit=5)  # the row exists
    sql, params = _captured(lambda: pacing.connection_send_slot_take(connection_id=sender.pk, limit=5))
    plan = _plan(sql, params)
    # The upsert's conflict is resolved through the primary key (its arbiter index); nothing else read.
    assert f"Conflict Arbiter Indexes: {PKEY}" in plan and "Seq Scan" not in plan
