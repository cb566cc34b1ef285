"""The running status counts (`StatusCount`, kept by triggers, queue.0007): compaction and rebuild."""

from django.db import connection, transaction

from enrollments.models import ScheduledStep
from outreach_queue.models import StatusCount

COMPACTION_LOCK = 0x5155_434E  # advisory lock key of the compaction ("QUCN")


def status_counts_compact() -> int:
    """Fold each company's changes into one row per status, dropping sums of zero; returns how many
    change rows were folded. One statement: the DELETE takes only rows its snapshot sees, so changes
    written meanwhile stay for the next pass, and a second compaction at once skips the rows the first
    deleted (nothing is counted twice). A pass that finds another under way returns 0 at once.
    """
    table = StatusCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # One compaction at a time: two would be correct but could deadlock on each other's rows.
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COMPACTION_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            f"""
            WITH busy AS (
                SELECT company_id, status FROM {table} GROUP BY company_id, status HAVING count(*) > 1
            ), folded AS (
                DELETE FROM {table} AS c USING busy
                WHERE c.company_id = busy.company_id AND c.status = busy.status
                RETURNING c.company_id, c.status, c.rows
            ), written AS (
                INSERT INTO {table} (company_id, status, rows)
                SELECT company_id, status, sum(rows) FROM folded
                GROUP BY company_id, status HAVING sum(rows) <> 0
            )
            SELECT count(*) FROM folded
            """  # noqa: S608 (the table name is ours)
        )
        return cursor.fetchone()[0]


def status_counts_rebuild() -> int:
    """Count every company's rows per status again, from the rows themselves (`manage.py queue_recount`):
    for counts that drifted because rows were written with the triggers off, e.g. a data-only restore
    or `loaddata`, which load the rows (counted again by the triggers) and the dumped counts both.
    Writes to the rows wait for it (a SHARE lock on them; it gives up after 10 s of waiting for its
    locks). Returns how many rows it counted."""
    table, rows_table = StatusCount._meta.db_table, ScheduledStep._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")  # fail rather than stall writers queued behind
        cursor.execute(f"LOCK TABLE {rows_table} IN SHARE MODE")
        # A compaction in flight would commit its folded row past the DELETE: wait for it (and lock
        # in the TRUNCATE trigger's order, rows then counts).
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (our table names)
        cursor.execute(
            f"""INSERT INTO {table} (company_id, status, rows)
                SELECT company_id, status, count(*) FROM {rows_table} GROUP BY company_id, status
                RETURNING rows"""  # noqa: S608
        )
        return sum(row[0] for row in cursor.fetchall())
