"""Compaction of the running status counts (`StatusCount`, kept by triggers, queue.0007)."""

from django.db import connection, transaction

from outreach_queue.models import StatusCount


def status_counts_compact() -> int:
    """Fold each company's changes into one row per status, dropping sums of zero; returns how many
    change rows were folded. One statement: the DELETE takes only rows its snapshot sees, so changes
    written meanwhile stay for the next pass, and a second compaction at once skips the rows the first
    deleted (nothing is counted twice). PostgreSQL only; elsewhere there are no triggers and no rows.
    """
    if connection.vendor != "postgresql":
        return 0
    table = StatusCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
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
