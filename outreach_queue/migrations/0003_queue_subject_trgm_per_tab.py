"""The subject's trigram index split per queue tab (partial GIN indexes), replacing queue.0001's one.

A search reads only the asked tab's index: posting lists a quarter to a tenth as long (a common
trigram such as "CUS" in "Customer" no longer lists every row of the table), and no BitmapAnd with a
status index to drop other tabs' rows. Writes get cheaper too: a row enters the index of the tab it
moves into only (none while `sending`), where one GIN index got an entry at every state change.

Since enrollments.0016 the queue rows' indexes and storage options are the enrollments app's
(`ScheduledStep.Meta.indexes`, built there on a fresh database): the statements on
enrollments_scheduledstep this migration ran are gone from it. A database that ran them keeps what
they built, and enrollments.0016 adopted it as it was.
"""

from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("queue", "0002_queue_covering_indexes")]

    operations = []  # see the note above
