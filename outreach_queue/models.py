"""The queue's own table: running counts of each company's rows per status.

The queue rows themselves are the enrollments app's ScheduledStep.
"""

from django.db import models


class StatusCount(models.Model):
    """A signed change to how many queue rows a company has in one status; the count of a status is
    the sum of its changes.

    Written only by PostgreSQL statement triggers on the rows' table (queue.0007): one row per company
    and status a statement changed, inserted, never updated, so concurrent writers never wait on each
    other. `queue.compact_status_counts` folds each company's changes into one row per status every
    minute. An unfiltered tab's count reads these instead of counting rows (history only ever grows).
    `company_id` is no foreign key: deleting a company deletes its rows first, and the changes that
    records must not block the company's own deletion; compaction drops sums that reach zero.
    """

    company_id = models.UUIDField()
    status = models.CharField(max_length=16)
    rows = models.BigIntegerField()

    class Meta:
        db_table = "queue_status_count"
        indexes = [models.Index(fields=["company_id", "status"], name="queue_status_count_company")]

    def __str__(self) -> str:
        return f"{self.company_id} {self.status} {self.rows:+d}"
