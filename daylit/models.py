import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

MAX_PROMISE_GRACE_DAYS = 30
MAX_HOURS_BETWEEN_EMAILS = 720
PAYMENT_URL_MAX_LENGTH = 2000


class Company(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Settings (GET|PATCH .../settings). country/subdivision: the holiday calendar of customers that
    # have none of their own; codes of the `holidays` package (daylit.calendar_codes).
    country = models.CharField(max_length=2, null=True, blank=True)  # noqa: DJ001 (SPEC: null = none)
    subdivision = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    promise_grace_days = models.PositiveSmallIntegerField(default=2, db_default=2)
    # 0 = off: auto-send does not wait for the last email to the customer.
    min_hours_between_emails = models.PositiveSmallIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(promise_grace_days__lte=MAX_PROMISE_GRACE_DAYS),
                name="%(app_label)s_%(class)s_promise_grace_days_range",
            ),
            models.CheckConstraint(
                condition=Q(min_hours_between_emails__lte=MAX_HOURS_BETWEEN_EMAILS),
                name="%(app_label)s_%(class)s_min_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(subdivision__isnull=True) | Q(country__isnull=False),
                name="%(app_label)s_%(class)s_subdivision_needs_country",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    ADMIN = "admin"
    MEMBER = "member"


class Member(models.Model):
    """A user's membership in a company. Its id is what `ar_owner` and connections point at."""

    Role = MemberRole

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="%(app_label)s_%(class)s_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="%(app_label)s_%(class)s_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200)
    # Search reads this copy (PostgreSQL's lower(), kept by the database): a plain LIKE, no per-row
    # case conversion when the trigram index's candidates are rechecked.
    name_lower = models.GeneratedField(
        expression=Lower("name"), output_field=models.TextField(), db_persist=True
    )
    email = models.EmailField(max_length=254, blank=True)
    ar_owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_customers"
    )
    # The customer's own calendar: where its emails are timed (sequences with time_zone_source
    # "customer") and whose public holidays they skip. Null: the sequence's zone, the company's holidays.
    timezone = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (SPEC: null)
    country = models.CharField(max_length=2, null=True, blank=True)  # noqa: DJ001
    subdivision = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["company", "-created_at"], name="customer_company_new")]
        constraints = [
            models.CheckConstraint(
                condition=Q(subdivision__isnull=True) | Q(country__isnull=False),
                name="%(app_label)s_%(class)s_subdivision_needs_country",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InvoiceStatus(models.TextChoices):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class Invoice(models.Model):
    Status = InvoiceStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, default="USD")
    amount_due = models.DecimalField(max_digits=14, decimal_places=2)
    issue_date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Where the customer pays (templates: `invoice.payment_url`); https or null.
    payment_url = models.URLField(  # noqa: DJ001 (SPEC: null = none)
        max_length=PAYMENT_URL_MAX_LENGTH,
        null=True,
        blank=True,
        validators=[URLValidator(schemes=["https"])],  # admin forms too; the check below holds the rest
    )
    # An open dispute exists (kept by daylit.disputes under the invoice's row lock; read-only in the API).
    disputed = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="%(app_label)s_%(class)s_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gte=0), name="%(app_label)s_%(class)s_amount_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")),
                name="%(app_label)s_%(class)s_due_after_issue",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvoiceStatus.values), name="%(app_label)s_%(class)s_status"
            ),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False) | ~Q(status="paid"),
                name="%(app_label)s_%(class)s_paid_has_paid_at",
            ),
            models.CheckConstraint(
                condition=Q(payment_url__isnull=True) | Q(payment_url__startswith="https://"),
                name="%(app_label)s_%(class)s_payment_url_https",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "due_date"], name="invoice_customer_status"),
            # A company's payments by when they came (sequence performance: what each sequence collected),
            # index-only for the columns it sums.
            models.Index(
                fields=["company", "paid_at"],
                include=["id", "currency", "amount_due"],
                condition=Q(status="paid"),
                name="invoice_company_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ApiToken(models.Model):
    """An API key, stored as its SHA-256 hash; only the short prefix is kept readable (shown in admin)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# Promises to pay and disputes live in their own module (kept small); imported here so Django finds them.
from daylit.collections_models import (  # noqa: E402
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    Promise,
    PromiseSource,
    PromiseStatus,
)

__all__ = [
    "ApiToken",
    "Company",
    "Customer",
    "Dispute",
    "DisputeReason",
    "DisputeResolution",
    "DisputeStatus",
    "Invoice",
    "InvoiceStatus",
    "Member",
    "MemberRole",
    "Promise",
    "PromiseSource",
    "PromiseStatus",
]
