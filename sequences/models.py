import datetime
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from connections.models import EmailConnection
from daylit.calendar_codes import WEEKDAYS
from daylit.models import Company

MAX_OFFSET_DAYS = 3650
# A reminder step's experiment (SPEC Part 2): 2..4 variants, each weighted 1..100, and a holdout of up to
# half its enrollments, whose row is created cancelled. The key "holdout" names that group, so no variant
# may take it.
MIN_VARIANTS, MAX_VARIANTS = 2, 4
MAX_HOLDOUT_PERCENT = 50
HOLDOUT_KEY = "holdout"
# Steps of an invoice_due sequence may come before the due date, up to a year.
MIN_DUE_OFFSET_DAYS = -365
# An email subject, however it is written (template, edit, AI draft), is at most this many characters.
# Ready rows keep a lowercased copy in the queue's covering index, and a B-tree entry must fit in a
# third of a page (2,704 bytes): 600 characters of up to 4 UTF-8 bytes fit beside the other columns.
SUBJECT_MAX_LENGTH = 600
# A sequence with no time zone of its own schedules in this one (API, admin and the model agree).
DEFAULT_TIMEZONE = "America/New_York"


class SequenceStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Anchor(models.TextChoices):
    ENROLLMENT = "enrollment"  # offsets count from the enrollment's start_date
    INVOICE_DUE = "invoice_due"  # offsets count from the enrollment invoice's due_date


class CatchUp(models.TextChoices):
    ALL = "all"  # every row already past at enrollment is due at once
    LATEST = "latest"  # only the latest of them; the earlier ones are created cancelled


class TimeZoneSource(models.TextChoices):
    SEQUENCE = "sequence"
    CUSTOMER = "customer"  # the customer's timezone when it has one, else the sequence's


# The settings of a sequence that decide when its rows go out (enrollments.planning reads exactly these).
CALENDAR_SETTINGS = (
    "anchor",
    "catch_up",
    "send_days",
    "send_window_start",
    "send_window_end",
    "skip_holidays",
    "time_zone_source",
)


def all_weekdays() -> list[str]:
    return list(WEEKDAYS)


class Sequence(models.Model):
    Status = SequenceStatus
    Anchor = Anchor
    CatchUp = CatchUp
    TimeZoneSource = TimeZoneSource

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sequences")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    timezone = models.CharField(max_length=64, default=DEFAULT_TIMEZONE)
    send_followups_in_thread = models.BooleanField(default=False)
    sender_connection = models.ForeignKey(
        EmailConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="sequences"
    )
    auto_send = models.BooleanField(default=False)
    # AI-written drafts go out unreviewed only when a person opted in for this sequence.
    auto_send_generated = models.BooleanField(default=False)
    stop_on_reply = models.BooleanField(default=True)
    # The collections calendar (enrollments.calendar plans every row under these rules).
    anchor = models.CharField(max_length=11, choices=Anchor.choices, default=Anchor.ENROLLMENT)
    catch_up = models.CharField(max_length=6, choices=CatchUp.choices, default=CatchUp.ALL)
    send_days = ArrayField(models.CharField(max_length=3), default=all_weekdays)  # in week order
    send_window_start = models.TimeField(null=True, blank=True)
    send_window_end = models.TimeField(null=True, blank=True)
    skip_holidays = models.BooleanField(default=False)
    time_zone_source = models.CharField(
        max_length=8, choices=TimeZoneSource.choices, default=TimeZoneSource.SEQUENCE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "company", name="%(app_label)s_%(class)s_name_ci_unique"),
            models.CheckConstraint(
                condition=Q(status__in=SequenceStatus.values), name="%(app_label)s_%(class)s_status"
            ),
            models.CheckConstraint(
                condition=Q(anchor__in=Anchor.values), name="%(app_label)s_%(class)s_anchor"
            ),
            models.CheckConstraint(
                condition=Q(catch_up__in=CatchUp.values), name="%(app_label)s_%(class)s_catch_up"
            ),
            models.CheckConstraint(
                condition=Q(time_zone_source__in=TimeZoneSource.values),
                name="%(app_label)s_%(class)s_time_zone_source",
            ),
            models.CheckConstraint(
                condition=Q(send_days__contained_by=list(WEEKDAYS)) & ~Q(send_days=[]),
                name="%(app_label)s_%(class)s_send_days",
            ),
            models.CheckConstraint(
                condition=Q(send_window_start__isnull=True, send_window_end__isnull=True)
                | Q(  # both given: a NULL end would make `start < end` NULL, which a CHECK lets pass
                    send_window_start__isnull=False,
                    send_window_end__isnull=False,
                    send_window_start__lt=models.F("send_window_end"),
                ),
                name="%(app_label)s_%(class)s_send_window",
            ),
        ]
        indexes = [models.Index(fields=["company", "-created_at"], name="sequence_company_new")]

    def __str__(self) -> str:
        return self.name


class StepType(models.TextChoices):
    REMINDER = "reminder"
    CALL = "call"
    TASK = "task"


class SequenceStep(models.Model):
    StepType = StepType

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    step_type = models.CharField(max_length=8, choices=StepType.choices, default=StepType.REMINDER)
    label = models.CharField(max_length=200, default="New Step")
    offset_days = models.IntegerField(default=0)  # < 0 only in invoice_due sequences (services check)
    offset_time = models.TimeField(default=datetime.time(9, 0))
    is_active = models.BooleanField(default=True)
    subject_template = models.TextField(blank=True, default="")
    body_plain_template = models.TextField(blank=True, default="")
    body_html_template = models.TextField(blank=True, default="")
    instructions = models.TextField(blank=True, default="")
    # [{key, weight, subject_template, body_plain_template, body_html_template}], checked by the services.
    variants = models.JSONField(default=list, blank=True, db_default=[])
    holdout_percent = models.PositiveSmallIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offset_days", "offset_time", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__lte=MAX_HOLDOUT_PERCENT),
                name="%(app_label)s_%(class)s_holdout_percent_range",
            ),
            # Only a reminder is an email to test; calls and tasks have neither variants nor a holdout.
            models.CheckConstraint(
                condition=Q(step_type=StepType.REMINDER) | Q(variants=[], holdout_percent=0),
                name="%(app_label)s_%(class)s_experiment_reminder_only",
            ),
            models.CheckConstraint(
                condition=Q(offset_days__gte=MIN_DUE_OFFSET_DAYS, offset_days__lte=MAX_OFFSET_DAYS),
                name="%(app_label)s_%(class)s_offset_days_range",
            ),
            models.CheckConstraint(
                condition=Q(step_type__in=StepType.values),
                name="%(app_label)s_%(class)s_step_type",
            ),
            # offset_time is a time of day to the minute ("HH:MM"): no seconds stored.
            models.CheckConstraint(
                condition=Q(offset_time__second=0), name="%(app_label)s_%(class)s_offset_time_whole_minute"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence.name}: {self.label}"
