"""Scheduled rows have no subject until promotion renders one, so the upcoming tab's trigram index
(queue.0005) held only empty strings and cost a GIN entry per enrolled row; an upcoming search now
matches names only (outreach_queue/search.py). Dropped CONCURRENTLY: writers go on meanwhile."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("queue", "0007_queue_status_counts")]

    operations = [
        migrations.RunSQL(
            "DROP INDEX CONCURRENTLY IF EXISTS queue_subject_upcoming",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS queue_subject_upcoming ON enrollments_scheduledstep "
            "USING gin (subject_lower gin_trgm_ops) WHERE status = 'scheduled'",
        )
    ]
