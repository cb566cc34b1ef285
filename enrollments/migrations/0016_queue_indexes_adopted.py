"""The queue tabs' indexes and the table's storage options join ScheduledStep's own history.

They were raw SQL in the queue app's migrations (queue.0001-0006 and 0008), which built and dropped
them on this app's table: the model did not declare them, so neither `makemigrations` nor a reader of
the model saw what every write to the table maintains. They are now `ScheduledStep.Meta.indexes`, and
the queue migrations no longer touch this table (their docstrings keep the measurements). Here:

- the state gains each index (AddIndex), as the model declares it;
- the database builds each index that is missing, which is every one on a fresh database, and keeps
  one found by name: a database that ran the queue migrations has them exactly as declared. Two names
  had another definition on the way (queue_ready without `subject_lower` before queue.0005, the
  subject indexes on UPPER(subject) before it): found so (a database stopped between those
  migrations), they are rebuilt; the names queue.0002/0003/0008 dropped are dropped if still there;
- the table's storage options of queue.0002 and queue.0004 (autovacuum at 2%, no parallel workers),
  the same values: nothing changes on a database that has them.

Not CONCURRENTLY: a database that has the indexes builds none, and a fresh one has no rows. Only a
database stopped between the old queue migrations (or with an index left invalid by an interrupted
concurrent build) rebuilds one here, blocking writes to the table while it builds.

The status-count triggers (queue.0007) stay in the queue app: they write the queue's own table
(`StatusCount`), and apps depend one way (this app cannot know the queue's tables).
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

TABLE = "enrollments_scheduledstep"
HISTORY = models.Q(("status__in", ("sent", "completed", "cancelled", "failed")))
COVER = ("step_type", "customer", "sequence", "step")
INDEXES = [
    models.Index(
        condition=models.Q(("status", "ready")),
        fields=["company", "scheduled_for", "id"],
        include=("step_type", "ar_owner_id", "customer", "sequence", "step", "enrollment", "subject_lower"),
        name="queue_ready",
    ),
    models.Index(
        condition=models.Q(("status", "scheduled")),
        fields=["company", "scheduled_for", "id"],
        include=("step_type", "ar_owner_id", "customer", "sequence", "step", "enrollment"),
        name="queue_upcoming",
    ),
    models.Index(
        condition=HISTORY,
        fields=["company", "-updated_at", "-id"],
        include=("step_type", "ar_owner_id", "customer", "sequence", "step", "enrollment"),
        name="queue_history",
    ),
    models.Index(
        condition=models.Q(("status", "ready")),
        fields=["company", "ar_owner_id", "scheduled_for", "id"],
        include=(*COVER, "subject_lower"),
        name="queue_ready_owner",
    ),
    models.Index(
        condition=models.Q(("status", "scheduled")),
        fields=["company", "ar_owner_id", "scheduled_for", "id"],
        include=COVER,
        name="queue_upcoming_owner",
    ),
    models.Index(
        condition=HISTORY,
        fields=["company", "ar_owner_id", "-updated_at", "-id"],
        include=COVER,
        name="queue_history_owner",
    ),
    django.contrib.postgres.indexes.GinIndex(
        fields=["subject_lower"],
        opclasses=["gin_trgm_ops"],
        condition=models.Q(("status", "ready")),
        name="queue_subject_ready",
    ),
    django.contrib.postgres.indexes.GinIndex(
        fields=["subject_lower"],
        opclasses=["gin_trgm_ops"],
        condition=HISTORY,
        name="queue_subject_history",
    ),
]
# An index of this name built by an older queue migration than the last one that defined it.
OUTDATED = {
    "queue_ready": lambda definition: "subject_lower" not in definition,
    "queue_subject_ready": lambda definition: "upper(" in definition.lower(),
    "queue_subject_history": lambda definition: "upper(" in definition.lower(),
}
DROPPED_BY_QUEUE = ("queue_sched_history", "queue_sched_subject_trgm", "queue_subject_upcoming")
STORAGE = (
    "autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, "
    "autovacuum_analyze_scale_factor = 0.02, parallel_workers = 0"
)


def _build_missing(apps, schema_editor):
    model = apps.get_model("enrollments", "ScheduledStep")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in DROPPED_BY_QUEUE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    with schema_editor.connection.cursor() as cursor:
        # An invalid index (a CREATE INDEX CONCURRENTLY of queue.0006 that was interrupted) is kept up to
        # date but never used: rebuilt like an outdated one.
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [TABLE],
        )
        existing = {name: (definition, valid) for name, definition, valid in cursor.fetchall()}
    for index in INDEXES:
        definition, valid = existing.get(index.name, (None, True))
        if definition is not None and (not valid or OUTDATED.get(index.name, lambda _: False)(definition)):
            schema_editor.remove_index(model, index)
            definition = None
        if definition is None:
            schema_editor.add_index(model, index)
    schema_editor.execute(f"ALTER TABLE {TABLE} SET ({STORAGE})")


class Migration(migrations.Migration):
    dependencies = [("enrollments", "0015_drop_sched_company_status_when")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="scheduledstep", index=index) for index in INDEXES
            ],
            # Reversed, only the state goes: the queue migrations that built these indexes before stay
            # recorded as applied, so the indexes must stay too (older code reads through them).
            database_operations=[migrations.RunPython(_build_missing, migrations.RunPython.noop)],
        )
    ]
