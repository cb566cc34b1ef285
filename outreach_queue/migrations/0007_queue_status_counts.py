"""Running counts of each company's queue rows per status (`StatusCount`), kept by statement triggers.

An unfiltered tab's count was a scan of the tab's index: ~20-45 ms per 300,000-600,000 rows on the
2-core machine, and history never stops growing. Each INSERT, UPDATE or DELETE statement on the rows
now adds one signed change per company and status it moved (transition tables, so a promotion batch
of 2,000 rows of one company adds two rows, not 4,000), and a tab's count is the sum of a few changes.

The existing rows are counted while the table is locked against writes (SHARE ROW EXCLUSIVE, waiting
at most 10 s for it), so no change slips between the count and the triggers. TRUNCATE of the rows
empties the counts. `manage.py queue_recount` rebuilds them the same way (after a data-only restore
or `loaddata`, which load both the rows, counted again by the triggers, and the counts).
"""

from django.db import migrations, models

TABLE = "enrollments_scheduledstep"

FORWARD = [
    """
    CREATE FUNCTION queue_count_status_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO queue_status_count (company_id, status, rows)
            SELECT company_id, status, count(*) FROM new_rows GROUP BY company_id, status;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO queue_status_count (company_id, status, rows)
            SELECT company_id, status, -count(*) FROM old_rows GROUP BY company_id, status;
        ELSE
            INSERT INTO queue_status_count (company_id, status, rows)
            SELECT company_id, status, sum(change) FROM (
                SELECT company_id, status, -1 AS change FROM old_rows
                UNION ALL
                SELECT company_id, status, 1 FROM new_rows
            ) AS changes
            GROUP BY company_id, status HAVING sum(change) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION queue_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Wait for a compaction in flight first: its folded row, not yet committed, would escape
        -- the DELETE. (Not TRUNCATE: the statement that fired this may be truncating this table too.)
        LOCK TABLE queue_status_count IN EXCLUSIVE MODE;
        DELETE FROM queue_status_count;
        RETURN NULL;
    END $$
    """,
    # Fail fast rather than queue behind a long write and stall every writer behind this lock.
    "SET LOCAL lock_timeout = '10s'",
    # SHARE ROW EXCLUSIVE, not SHARE: CREATE TRIGGER below needs it, and upgrading a SHARE lock could
    # deadlock with another holder of SHARE (a recount).
    f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE",
    f"""INSERT INTO queue_status_count (company_id, status, rows)
        SELECT company_id, status, count(*) FROM {TABLE} GROUP BY company_id, status""",
    f"""CREATE TRIGGER queue_count_inserted AFTER INSERT ON {TABLE} REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_status_changes()""",
    f"""CREATE TRIGGER queue_count_updated AFTER UPDATE ON {TABLE}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_status_changes()""",
    f"""CREATE TRIGGER queue_count_deleted AFTER DELETE ON {TABLE} REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_status_changes()""",
    f"""CREATE TRIGGER queue_count_truncated AFTER TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_truncate()""",
]
BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS queue_count_{event} ON {TABLE}"
        for event in ("inserted", "updated", "deleted", "truncated")
    ),
    "DROP FUNCTION IF EXISTS queue_count_status_changes()",
    "DROP FUNCTION IF EXISTS queue_count_truncate()",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("queue", "0006_queue_owner_indexes")]

    operations = [
        migrations.CreateModel(
            name="StatusCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("company_id", models.UUIDField()),
                ("status", models.CharField(max_length=16)),
                ("rows", models.BigIntegerField()),
            ],
            options={
                "db_table": "queue_status_count",
                "indexes": [models.Index(fields=["company_id", "status"], name="queue_status_count_company")],
            },
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
