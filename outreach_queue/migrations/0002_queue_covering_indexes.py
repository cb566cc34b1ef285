"""Covering partial indexes, one per queue tab, so a page's exact `count` is an index-only scan.

Each index holds one category's rows of a company in the tab's order, and INCLUDEs every column a
filter reads (step_type, ar_owner_id, customer/sequence/step/enrollment ids): `count(*)` with any
mix of filters never visits the heap, and the page of 20 walks the index in order. They replace
queue.0001's history index. Partial on status, so promotion (scheduled -> ready) inserts into the
ready index only, and the upcoming index entry just dies with the old row version.

Index-only scans need the visibility map to be current: the table is vacuumed after 2% of it
changed rather than PostgreSQL's default 20% (ready rows are by nature recently written).
"""

from django.db import migrations

TABLE = "enrollments_scheduledstep"
COVER = "INCLUDE (step_type, ar_owner_id, customer_id, sequence_id, step_id, enrollment_id)"

FORWARD = [
    f"CREATE INDEX IF NOT EXISTS queue_ready ON {TABLE} (company_id, scheduled_for, id) {COVER} "
    "WHERE status = 'ready'",
    f"CREATE INDEX IF NOT EXISTS queue_upcoming ON {TABLE} (company_id, scheduled_for, id) {COVER} "
    "WHERE status = 'scheduled'",
    f"CREATE INDEX IF NOT EXISTS queue_history ON {TABLE} (company_id, updated_at DESC, id DESC) {COVER} "
    "WHERE status IN ('sent', 'completed', 'cancelled', 'failed')",
    "DROP INDEX IF EXISTS queue_sched_history",
    f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
]
BACKWARD = [
    f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor, "
    "autovacuum_analyze_scale_factor)",
    f"CREATE INDEX IF NOT EXISTS queue_sched_history ON {TABLE} (company_id, updated_at DESC, id DESC) "
    "WHERE status IN ('sent', 'completed', 'cancelled', 'failed')",
    "DROP INDEX IF EXISTS queue_history",
    "DROP INDEX IF EXISTS queue_upcoming",
    "DROP INDEX IF EXISTS queue_ready",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("queue", "0001_queue_search_indexes"),
        ("enrollments", "0004_scheduledstep_ar_owner"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
