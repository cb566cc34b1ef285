"""The collections calendar: each enrollment keeps the zone its rows were planned in (existing ones were
all planned in their sequence's), and rows say what moved them (`schedule_note`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollments", "0010_scheduledstep_provider_message_index"),
        ("sequences", "0004_collections_calendar"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="time_zone",
            field=models.CharField(default="America/New_York", max_length=64),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE enrollments_enrollment e SET time_zone = s.timezone "
            "FROM sequences_sequence s WHERE s.id = e.sequence_id AND e.time_zone <> s.timezone",
            migrations.RunSQL.noop,
        ),
        migrations.AddField(
            model_name="scheduledstep",
            name="schedule_note",
            field=models.TextField(blank=True, null=True),
        ),
    ]
