"""No parallel scans of the queue rows' table.

Measured on the 2-core machine at 1,000,000 rows: a parallel count of a tab runs three processes that
each rebuild the search's hashed id sets and compete with the other requests, so the history tab's
count with filters took ~54 ms in parallel and ~41 ms alone. Every queue read is an index scan of one
tab; none of them needs more than one process. (A table option: reset it for a bigger database server.)

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("queue", "0003_queue_subject_trgm_per_tab")]

    operations = []  # see the note above
