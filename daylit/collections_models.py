"""Promises to pay and disputes (SPEC "Pauses, promises to pay and disputes"): one row each, written
only by `daylit.promises` and `daylit.disputes`. The database holds the rules a row can break on its
own: at most one open promise and one open dispute per invoice, and a status that agrees with its
timestamps and resolution."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from daylit.models import Company, Customer, Invoice

NOTE_MAX_LENGTH = 2000


class PromiseStatus(models.TextChoices):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PromiseSource(models.TextChoices):
    API = "api"
    REPLY = "reply"


class Promise(models.Model):
    """A customer's promise to pay an invoice by a date. `settled_at` is when it stopped being open."""

    Status = PromiseStatus
    Source = PromiseSource

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="promises")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="promises")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    promised_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status=PromiseStatus.OPEN),
                name="%(app_label)s_%(class)s_one_open_per_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="%(app_label)s_%(class)s_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=PromiseStatus.values), name="%(app_label)s_%(class)s_status"
            ),
            models.CheckConstraint(
                condition=Q(source__in=PromiseSource.values), name="%(app_label)s_%(class)s_source"
            ),
            models.CheckConstraint(
                condition=Q(status=PromiseStatus.OPEN, settled_at__isnull=True)
                | (~Q(status=PromiseStatus.OPEN) & Q(settled_at__isnull=False)),
                name="%(app_label)s_%(class)s_settled_when_not_open",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="promise_company_new"),
            models.Index(fields=["customer", "status"], name="promise_customer_status"),
            # The beat's settle pass reads only the open ones.
            models.Index(
                fields=["promised_date"], condition=Q(status=PromiseStatus.OPEN), name="promise_open_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} by {self.promised_date} ({self.status})"


class DisputeReason(models.TextChoices):
    PRICING = "pricing"
    NOT_RECEIVED = "not_received"
    QUALITY = "quality"
    DUPLICATE = "duplicate"
    ALREADY_PAID = "already_paid"
    OTHER = "other"


class DisputeStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeResolution(models.TextChoices):
    UPHELD = "upheld"
    REJECTED = "rejected"


class Dispute(models.Model):
    """A customer's dispute of an invoice. While open, the invoice is `disputed` and is not chased."""

    Reason = DisputeReason
    Status = DisputeStatus
    Resolution = DisputeResolution

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="disputes")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="disputes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="disputes")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(  # noqa: DJ001 (SPEC: null until resolved)
        max_length=10, choices=Resolution.choices, null=True, blank=True
    )
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, default="")
    resolution_note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, default="")
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status=DisputeStatus.OPEN),
                name="%(app_label)s_%(class)s_one_open_per_invoice",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=DisputeReason.values), name="%(app_label)s_%(class)s_reason"
            ),
            models.CheckConstraint(
                condition=Q(status=DisputeStatus.OPEN, resolution__isnull=True, resolved_at__isnull=True)
                | Q(
                    status=DisputeStatus.RESOLVED,
                    resolution__in=DisputeResolution.values,
                    resolved_at__isnull=False,
                ),
                name="%(app_label)s_%(class)s_resolution_agrees",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-opened_at"], name="dispute_company_new"),
            models.Index(fields=["customer", "status"], name="dispute_customer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.status})"
