"""A lowercased copy of the subject for search, and a length bound on ready rows' subjects.

The copy is a stored generated column: the database keeps it, whatever writes the subject. The bound
is what lets the queue's ready index carry that copy (queue.0005). A ready row written before the
bound with a longer subject ends `failed` with the reason, rather than being cut without a word: it
could not have been sent through most mail clients' limits anyway.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

LIMIT = 604  # sequences.models.SUBJECT_MAX_LENGTH + len("Re: "), as the constraint states it


def fail_overlong_ready_rows(apps, schema_editor):
    ScheduledStep = apps.get_model("enrollments", "ScheduledStep")
    long_rows = ScheduledStep.objects.filter(status="ready").alias(
        length=django.db.models.functions.text.Length("subject")
    )
    long_rows.filter(length__gt=LIMIT).update(
        status="failed",
        processed_at=django.db.models.functions.Now(),
        updated_at=django.db.models.functions.Now(),
        next_attempt_at=None,
        error=f"The subject is longer than {LIMIT - 4} characters; this row was not sent.",
    )
    # The UPDATE queued deferred foreign-key checks; ALTER TABLE refuses to run with them pending.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0005_scheduledstep_send_retry"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduledstep",
            name="subject_lower",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower("subject"),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(fail_overlong_ready_rows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="scheduledstep",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "ready"), _negated=True),
                    django.db.models.lookups.LessThanOrEqual(
                        django.db.models.functions.text.Length("subject"), LIMIT
                    ),
                    _connector="OR",
                ),
                name="enrollments_scheduledstep_ready_subject_length",
            ),
        ),
    ]
