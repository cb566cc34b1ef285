"""Covering partial indexes, one per queue tab, so a page's exact `count` is an index-only scan.

Each index holds one category's rows of a company in the tab's order, and INCLUDEs every column a
filter reads (step_type, ar_owner_id, customer/sequence/step/enrollment ids): `count(*)` with any
mix of filters never visits the heap, and the page of 20 walks the index in order. They replace
queue.0001's history index. Partial on status, so promotion (scheduled -> ready) inserts into the
ready index only, and the upcoming index entry just dies with the old row version.

Index-only scans need the visibility map to be current: the table is vacuumed after 2% of it
changed rather than PostgreSQL's default 20% (ready rows are by nature recently written).

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [
        ("queue", "0001_queue_search_indexes"),
        ("enrollments", "0004_scheduledstep_ar_owner"),
    ]

    operations = []  # see the note above
