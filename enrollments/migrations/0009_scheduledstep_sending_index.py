"""An index of the rows in `sending`, for the reconciler (`queue.reconcile_sending`, every minute),
which looks across companies for rows stuck there: it walked the whole (company, status, time) index,
~1,000,000 entries at the benchmark's size, to find none. Rows pass through `sending` for a moment,
so the index holds a handful of entries.

Built CONCURRENTLY (the migration is not atomic) so sends and enrolling go on during
the build; the model state gets a plain AddIndex.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["updated_at"], condition=models.Q(status="sending"), name="sched_sending_since")


def _create(apps, schema_editor):
    model = apps.get_model("enrollments", "ScheduledStep")
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX.name}")  # an interrupted build's
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {INDEX.name} ON {model._meta.db_table} (updated_at) "
        "WHERE status = 'sending'"
    )


def _drop(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("enrollments", "ScheduledStep"), INDEX)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("enrollments", "0008_drop_sched_enrollment_status")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="scheduledstep", index=INDEX)],
            database_operations=[migrations.RunPython(_create, _drop)],
        )
    ]
