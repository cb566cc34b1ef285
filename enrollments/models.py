import uuid

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual

from connections.models import EmailConnection
from daylit.models import Company, Customer, Invoice, Member
from sequences.models import SUBJECT_MAX_LENGTH, Sequence, SequenceStep, StepType

# A threaded follow-up is sent as "Re: <first subject>", which may come back to `ready` after a
# retryable failure: the database allows that much more than SUBJECT_MAX_LENGTH on a ready row.
READY_SUBJECT_MAX_LENGTH = SUBJECT_MAX_LENGTH + len("Re: ")


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


# An enrollment still under way: at most one per (sequence, customer); stop, payment, archive and
# re-enroll complete either.
CURRENT_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)
# Why the system paused an enrollment (a person's pause carries their own words, or none).
PAUSE_REASON_PROMISE = "promise"
PAUSE_REASON_DISPUTE = "dispute"


class Enrollment(models.Model):
    Status = EnrollmentStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes where a composite index below starts with the column: fewer btrees to
    # update on every bulk insert.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="enrollments", db_index=False)
    sequence = models.ForeignKey(
        Sequence, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    invoice = models.ForeignKey(  # indexed partially below: most enrollments have no invoice
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments", db_index=False
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    # The zone its rows were planned in (the sequence's, or the customer's with time_zone_source
    # "customer"), fixed at enrollment: re-plans and pause dates read the same wall clock.
    time_zone = models.CharField(max_length=64)
    stop_reason = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001  (SPEC: null while active)
    completed_at = models.DateTimeField(null=True, blank=True)
    # While paused: since when, until when (null: until someone resumes it) and why.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (SPEC: null)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(  # one current (active or paused) enrollment
                fields=["sequence", "customer"],
                condition=Q(status__in=["active", "paused"]),
                name="%(app_label)s_%(class)s_one_active",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EnrollmentStatus.values), name="%(app_label)s_%(class)s_status"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused"], completed_at__isnull=True)
                | Q(status="completed", completed_at__isnull=False),
                name="%(app_label)s_%(class)s_completed_at",
            ),
            models.CheckConstraint(
                condition=Q(status="paused", paused_at__isnull=False)
                | Q(
                    ~Q(status="paused"), paused_at__isnull=True, paused_until__isnull=True, pause_reason=None
                ),
                name="%(app_label)s_%(class)s_paused_fields",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status", "-created_at"], name="enroll_company_status_new"),
            models.Index(fields=["customer", "status"], name="enroll_customer_status"),
            models.Index(fields=["sequence", "status"], name="enroll_sequence_status"),
            models.Index(fields=["invoice"], condition=Q(invoice__isnull=False), name="enroll_invoice"),
            # Beat's auto-resume scan: the few paused enrollments with an end, by when it comes.
            models.Index(
                fields=["paused_until"], condition=Q(paused_until__isnull=False), name="enroll_paused_until"
            ),
            # A sequence's performance (outreach_queue.performance, docs/performance.md): enrollments
            # started, completed, and those without an invoice of their own, each a small range scan.
            models.Index(fields=["sequence", "created_at"], include=["status"], name="enroll_performance"),
            models.Index(
                fields=["sequence", "completed_at"],
                include=["stop_reason"],
                condition=Q(status="completed"),
                name="enroll_completed",
            ),
            models.Index(
                fields=["sequence"],
                include=["customer", "created_at", "completed_at"],
                condition=Q(invoice__isnull=True),
                name="enroll_customer_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.sequence_id} ({self.status})"


class ScheduledStepStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    READY = "ready"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# The end states: the queue's history tab, and the partial indexes that serve it (queue.0002-0006
# spell the same list in SQL, as migrations must stay as they ran).
HISTORY_STATUSES = (
    ScheduledStepStatus.SENT,
    ScheduledStepStatus.COMPLETED,
    ScheduledStepStatus.CANCELLED,
    ScheduledStepStatus.FAILED,
)


# The queue tabs' indexes (ScheduledStep.Meta): the columns a tab's filters read, carried by its
# covering index; the owner-led one has the owner as a key and no enrollment (see the Meta).
QUEUE_COVER = ("step_type", "ar_owner_id", "customer", "sequence", "step", "enrollment")
QUEUE_OWNER_COVER = ("step_type", "customer", "sequence", "step")
# Tab, order, what only that tab's indexes carry, its rows.
QUEUE_TABS = (
    ("ready", ["scheduled_for", "id"], ["subject_lower"], Q(status=ScheduledStepStatus.READY)),
    ("upcoming", ["scheduled_for", "id"], [], Q(status=ScheduledStepStatus.SCHEDULED)),
    ("history", ["-updated_at", "-id"], [], Q(status__in=HISTORY_STATUSES)),
)


class ScheduledStep(models.Model):
    """One step of one enrollment: a row of the outreach queue.

    The enrollments app creates rows; the queue app owns every move after `scheduled`.
    """

    Status = ScheduledStepStatus

    END_STATES = (Status.SENT, Status.FAILED, Status.COMPLETED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # company and enrollment lead composite indexes below; no extra single-column index for them.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="scheduled_steps", db_index=False
    )
    # `sched_performance` leads with sequence: no single-column index of its own (a sequence's delete
    # cascades through that one).
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="+", db_index=False)
    step = models.ForeignKey(SequenceStep, on_delete=models.PROTECT, related_name="scheduled_steps")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    step_type = models.CharField(max_length=8, choices=SequenceStep.StepType.choices)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_for = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    to_email = models.CharField(max_length=254, blank=True, default="")
    subject = models.TextField(blank=True, default="")
    # Search reads this copy (PostgreSQL's lower(), kept by the database) so matching is a plain LIKE:
    # no per-row case conversion, and the ready tab's covering index carries it (queue.0005).
    subject_lower = models.GeneratedField(
        expression=Lower("subject"), output_field=models.TextField(), db_persist=True
    )
    body_plain = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    sender_connection = models.ForeignKey(  # indexed partially below: set only once a row is sent
        EmailConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    provider_thread_id = models.CharField(max_length=255, blank=True, default="")
    error = models.TextField(blank=True, default="")
    # What moved the row off its nominal time (send day, window, holiday), from the calendar; null when
    # nothing did.
    schedule_note = models.TextField(null=True, blank=True)  # noqa: DJ001 (SPEC: null)
    notes = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    # The step variant this enrollment was assigned, "holdout" for the held-out group (created
    # cancelled), null when the step runs no experiment.
    variant_key = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001 (SPEC: null)
    # Sending (queue app): after a retryable failure, auto-send does not try again before this time
    # (backoff or Nylas's Retry-After, whichever is later). A person may still send earlier.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The message this email replies to, decided at the first claim and reused on every retry: Nylas
    # answers a replayed Idempotency-Key with a different payload by 409, so the payload is frozen.
    reply_to_message_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    # AI drafts: `draft_pending` marks a ready reminder whose email the AI has yet to write (or failed
    # to); it cannot be sent until a draft lands or a person writes it.
    # (db_default too, so set-based INSERT ... SELECTs that name their columns need not name these.)
    generated = models.BooleanField(default=False, db_default=False)
    prompt_version = models.CharField(max_length=32, blank=True, default="", db_default="")
    draft_pending = models.BooleanField(default=False, db_default=False)
    draft_attempts = models.PositiveIntegerField(default=0, db_default=0)
    # The customer's `ar_owner_id`, copied so the queue's owner filter and exact count read one index
    # (no join to 50k customers). On PostgreSQL triggers keep it in sync (migration 0004): on insert
    # (or a customer_id change) from the customer, and set-based when a customer's owner changes,
    # whatever did the change (API, admin, a member's deletion setting it NULL). A plain UUID, no FK.
    ar_owner_id = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step"], name="%(app_label)s_%(class)s_one_per_step"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ScheduledStepStatus.values),
                name="%(app_label)s_%(class)s_status",
            ),
            models.CheckConstraint(
                condition=Q(step_type__in=StepType.values),
                name="%(app_label)s_%(class)s_step_type",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready")
                | Q(LessThanOrEqual(Length("subject"), READY_SUBJECT_MAX_LENGTH)),
                name="%(app_label)s_%(class)s_ready_subject_length",
            ),
        ]
        indexes = [
            models.Index(
                fields=["scheduled_for"], condition=Q(status="scheduled"), name="sched_due_scheduled"
            ),
            # The reconciler's scan of rows left in `sending` (few at any time), across companies.
            models.Index(fields=["updated_at"], condition=Q(status="sending"), name="sched_sending_since"),
            models.Index(
                fields=["provider_thread_id"], condition=~Q(provider_thread_id=""), name="sched_thread"
            ),
            # Every reply and bounce finds its row by the provider's message id.
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="sched_provider_message",
            ),
            models.Index(
                fields=["sender_connection"],
                condition=Q(sender_connection__isnull=False),
                name="sched_sender",
            ),
            # A sequence's performance (outreach_queue.performance, docs/performance.md), index-only: its
            # rows by when they ended (or not yet), its reminders by when they were planned, its
            # bounced emails.
            models.Index(
                fields=["sequence", "processed_at"],
                include=["step", "variant_key", "status", "enrollment", "ready_at"],
                name="sched_performance",
            ),
            models.Index(
                fields=["sequence", "scheduled_for"],
                include=["step", "variant_key", "enrollment"],
                condition=Q(step_type="reminder"),
                name="sched_experiment",
            ),
            models.Index(
                fields=["sequence", "processed_at"],
                include=["step"],
                condition=Q(status="sent", error__startswith="bounced:"),
                name="sched_bounced",
            ),
            # The queue's tabs (outreach_queue.selectors): per tab a covering partial index in the tab's
            # order, so a page and its exact count are index-only scans whatever the filters, and one led
            # by the owner ("my accounts"); the owner-led ones leave out enrollment_id (its filter has the
            # unique (enrollment, step) index). Only the ready tab carries the subject's copy: people
            # search it, and its rows are bounded by what is due. History grows forever.
            *(
                models.Index(
                    fields=["company", *order],
                    include=[*QUEUE_COVER, *extra],
                    condition=condition,
                    name=f"queue_{tab}",
                )
                for tab, order, extra, condition in QUEUE_TABS
            ),
            *(
                models.Index(
                    fields=["company", "ar_owner_id", *order],
                    include=[*QUEUE_OWNER_COVER, *extra],
                    condition=condition,
                    name=f"queue_{tab}_owner",
                )
                for tab, order, extra, condition in QUEUE_TABS
            ),
            # The search's subject term, per tab (none for upcoming: scheduled rows have no subject).
            *(
                GinIndex(
                    fields=["subject_lower"],
                    opclasses=["gin_trgm_ops"],
                    condition=condition,
                    name=f"queue_subject_{tab}",
                )
                for tab, _, _, condition in QUEUE_TABS
                if tab != "upcoming"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step_type} {self.status} @ {self.scheduled_for:%Y-%m-%d %H:%M}Z"
