"""The queue's own tables: running counts of each company's rows per status, and the replies heard
in the threads of sent rows.

The queue rows themselves are the enrollments app's ScheduledStep.
"""

import uuid

from django.db import models
from django.db.models import Q

from connections.models import EmailConnection
from daylit.models import Company, Customer, Invoice
from enrollments.models import Enrollment, ScheduledStep


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


class Reply(models.Model):
    """A message someone other than the mailbox sent in the thread of one of our sent rows (SPEC Part 2,
    "Replies that act"): what `reply.received` describes.

    Recorded by `outreach_queue.services.replies` when Nylas reports it, once per (connection, provider
    message id): Nylas sends `message.created` and `thread.replied` for the same message, and repeats
    deliveries. It belongs to the enrollment (and customer) of the sent row it answers, the latest one
    when the thread holds several. Classification and the actions it drives are for later; today every
    reply of a `stop_on_reply` sequence stops its enrollments (`replied`).
    """

    TEXT_MAX_LENGTH = 2000

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="replies")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The sent row it answers, and the mailbox it came to (the dedupe key with the provider's id).
    row = models.ForeignKey(ScheduledStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connection = models.ForeignKey(
        EmailConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    provider_thread_id = models.CharField(max_length=255, blank=True, default="")
    from_email = models.CharField(max_length=254, blank=True, default="")
    subject = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "queue_reply"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="queue_reply_once_per_message",
            ),
        ]
        indexes = [models.Index(fields=["company", "-received_at"], name="queue_reply_company_recent")]

    def __str__(self) -> str:
        return f"{self.from_email or 'reply'} @ {self.received_at:%Y-%m-%d %H:%M}Z"
