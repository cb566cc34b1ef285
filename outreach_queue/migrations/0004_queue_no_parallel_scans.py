"""No parallel scans of the queue rows' table.

Measured on the 2-core machine at 1,000,000 rows: a parallel count of a tab runs three processes that
each rebuild the search's hashed id sets and compete with the other requests, so the history tab's
count with filters took ~54 ms in parallel and ~41 ms alone. Every queue read is an index scan of one
tab; none of them needs more than one process. (A table option: reset it for a bigger database server.)
"""

from django.db import migrations

TABLE = "enrollments_scheduledstep"


def _run(sql):
    def run(apps, schema_editor):
        schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("queue", "0003_queue_subject_trgm_per_tab")]

    operations = [
        migrations.RunPython(
            _run(f"ALTER TABLE {TABLE} SET (parallel_workers = 0)"),
            _run(f"ALTER TABLE {TABLE} RESET (parallel_workers)"),
        )
    ]
