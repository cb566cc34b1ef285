"""Search reads the stored lowercased copies (enrollments.0006, daylit.0002), and the ready tab's
covering index carries the subject's copy.

- Trigram indexes move from UPPER(subject) / UPPER(name) to the stored copies: a candidate's recheck
  is a byte-wise LIKE instead of an upper() per row (measured: 1.5 µs against 0.3 µs a row, which is
  most of a broad search's time).
- `queue_ready` INCLUDEs `subject_lower`, so a search term matching thousands of ready subjects is
  checked on the index entries of an index-only scan: no heap visit per candidate. Only the ready
  tab: it is the tab people search, and its rows are bounded by what is due; history grows forever
  and keeps the narrower index.

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS queue_customer_name_trgm",
    "CREATE INDEX queue_customer_name_trgm ON daylit_customer USING gin (name_lower gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS queue_customer_name_trgm",
    "CREATE INDEX queue_customer_name_trgm ON daylit_customer USING gin (UPPER(name) gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("queue", "0004_queue_no_parallel_scans"),
        ("enrollments", "0006_scheduledstep_subject_lower"),
        ("daylit", "0002_customer_name_lower"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
