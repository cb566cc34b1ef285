"""Scheduled rows have no subject until promotion renders one, so the upcoming tab's trigram index
(queue.0005) held only empty strings and cost a GIN entry per enrolled row; an upcoming search now
matches names only (outreach_queue/search.py). Dropped CONCURRENTLY: writers go on meanwhile.

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("queue", "0007_queue_status_counts")]

    operations = []  # see the note above
