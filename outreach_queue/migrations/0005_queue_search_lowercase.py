"""Search reads the stored lowercased copies (enrollments.0006, daylit.0002), and the ready tab's
covering index carries the subject's copy.

- Trigram indexes move from UPPER(subject) / UPPER(name) to the stored copies: a candidate's recheck
  is a byte-wise LIKE instead of an upper() per row (measured: 1.5 µs against 0.3 µs a row, which is
  most of a broad search's time).
- `queue_ready` INCLUDEs `subject_lower`, so a search term matching thousands of ready subjects is
  checked on the index entries of an index-only scan: no heap visit per candidate. Only the ready
  tab: it is the tab people search, and its rows are bounded by what is due; history grows forever
  and keeps the narrower index.
"""

from django.db import migrations

TABLE = "enrollments_scheduledstep"
COVER = "step_type, ar_owner_id, customer_id, sequence_id, step_id, enrollment_id"
TABS = {
    "ready": "status = 'ready'",
    "upcoming": "status = 'scheduled'",
    "history": "status IN ('sent', 'completed', 'cancelled', 'failed')",
}

FORWARD = [
    "DROP INDEX IF EXISTS queue_ready",
    f"CREATE INDEX queue_ready ON {TABLE} (company_id, scheduled_for, id) INCLUDE ({COVER}, subject_lower) "
    "WHERE status = 'ready'",
    *(f"DROP INDEX IF EXISTS queue_subject_{tab}" for tab in TABS),
    *(
        f"CREATE INDEX queue_subject_{tab} ON {TABLE} USING gin (subject_lower gin_trgm_ops) WHERE {where}"
        for tab, where in TABS.items()
    ),
    "DROP INDEX IF EXISTS queue_customer_name_trgm",
    "CREATE INDEX queue_customer_name_trgm ON daylit_customer USING gin (name_lower gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS queue_customer_name_trgm",
    "CREATE INDEX queue_customer_name_trgm ON daylit_customer USING gin (UPPER(name) gin_trgm_ops)",
    *(f"DROP INDEX IF EXISTS queue_subject_{tab}" for tab in TABS),
    *(
        f"CREATE INDEX queue_subject_{tab} ON {TABLE} USING gin (UPPER(subject) gin_trgm_ops) WHERE {where}"
        for tab, where in TABS.items()
    ),
    "DROP INDEX IF EXISTS queue_ready",
    f"CREATE INDEX queue_ready ON {TABLE} (company_id, scheduled_for, id) INCLUDE ({COVER}) WHERE status = 'ready'",
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
