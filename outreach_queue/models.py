"""The queue's own tables: running counts of each company's rows per status, and the replies heard
in the threads of sent rows.

The queue rows themselves are the enrollments app's ScheduledStep.
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from connections.models import EmailConnection
from daylit.models import Company, Customer, Invoice
from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence


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


class ReplyClass(models.TextChoices):
    AUTO_REPLY = "auto_reply"
    PROMISE = "promise"
    DISPUTE = "dispute"
    PAID_CLAIM = "paid_claim"
    WRONG_CONTACT = "wrong_contact"
    UNSUBSCRIBE = "unsubscribe"
    QUESTION = "question"
    OTHER = "other"


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
    # What the reply says (outreach_queue.reading) and what it did (outreach_queue.services.reply_actions).
    classification = models.CharField(
        max_length=13, choices=ReplyClass.choices, default=ReplyClass.OTHER, db_default=ReplyClass.OTHER
    )
    confidence = models.FloatField(default=0.0, db_default=0.0)
    return_date = models.DateField(null=True, blank=True)
    promised_date = models.DateField(null=True, blank=True)
    promised_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    classified_by = models.CharField(max_length=8, blank=True, default="", db_default="")  # rules|ai|person
    prompt_version = models.CharField(max_length=32, blank=True, default="", db_default="")
    action = models.CharField(max_length=32, blank=True, default="", db_default="")
    # What the action made, so a person's review can undo it.
    paused_enrollment_ids = ArrayField(models.UUIDField(), default=list, blank=True, db_default=[])
    promise = models.ForeignKey(
        "daylit.Promise", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    dispute = models.ForeignKey(
        "daylit.Dispute", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "queue_reply"
        verbose_name_plural = "replies"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="queue_reply_once_per_message",
            ),
            models.CheckConstraint(
                condition=Q(classification__in=ReplyClass.values), name="queue_reply_classification"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1), name="queue_reply_confidence_range"
            ),
        ]
        indexes = [models.Index(fields=["company", "-received_at"], name="queue_reply_company_recent")]

    def __str__(self) -> str:
        return f"{self.from_email or 'reply'} @ {self.received_at:%Y-%m-%d %H:%M}Z"


class QueueRow(ScheduledStep):
    """The queue's rows as admin shows them, under "Outreach queue" where support staff look first.

    A proxy (no table): the enrollments app owns ScheduledStep's table; this only gives the queue app
    its own admin entry and permissions (queue.view_queuerow...).
    """

    class Meta:
        proxy = True
        verbose_name = "queue row"
        verbose_name_plural = "queue rows"

    def __str__(self) -> str:
        # What a person calls the row (breadcrumbs, titles); admin loads customer and step with it.
        return f"{self.customer.name} · {self.step.label}"


class SequencePerformance(Sequence):
    """A sequence's performance page in admin (outreach_queue/admin/performance.py), under "Outreach
    queue": a proxy (no table) so the page has its own entry there, as QueueRow gives the queue one.
    Viewing it needs `sequences.view_sequence`, not this proxy's own permissions."""

    class Meta:
        proxy = True
        verbose_name = "sequence performance"
        verbose_name_plural = "sequence performance"


class SuppressionReason(models.TextChoices):
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    WRONG_CONTACT = "wrong_contact"
    MANUAL = "manual"


class Suppression(models.Model):
    """An address the company's reminders must not go to (SPEC "Replies that act"): one per address,
    compared case-insensitively (stored lowercased). A reminder to it fails at promotion, and sending one
    is 409 `suppressed`."""

    Reason = SuppressionReason

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.CharField(max_length=254)
    reason = models.CharField(max_length=13, choices=SuppressionReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "queue_suppression"
        constraints = [
            models.UniqueConstraint(fields=["company", "email"], name="queue_suppression_once"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="queue_suppression_lowercase"),
            models.CheckConstraint(
                condition=Q(reason__in=SuppressionReason.values), name="queue_suppression_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"
