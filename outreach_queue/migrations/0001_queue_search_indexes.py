"""Indexes the queue page needs (PostgreSQL: trigram and partial indexes).

The table belongs to the enrollments app; these indexes serve only the queue's reads, so they live
here, as raw SQL (pg_trgm operator classes and expression indexes), created and dropped by name.
- a trigram GIN index on UPPER(subject): Django's `icontains` is `UPPER(col) LIKE UPPER('%x%')`;
- a trigram GIN index on customers' UPPER(name), searched before the queue rows;
- the history tab's order (newest change first) as a partial index over the end states.

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS queue_customer_name_trgm ON daylit_customer USING gin (UPPER(name) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS queue_customer_name_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("enrollments", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
