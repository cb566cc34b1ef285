"""The event log (a transactional outbox) and the webhook endpoints and deliveries fed from it.

Events are written only by `events.services` with INSERT ... SELECT (one statement for any number of
objects), in the transaction of the change they describe. Their order is (`txid`, `seq`): the writing
transaction's id, then the insert order. Readers only see events of transactions older than every
transaction still running (plus their own), so an event can never appear behind a cursor that has
already passed its place (see `events.selectors`).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from daylit.models import Company
from events.types import EVENT_TYPES


class Event(models.Model):
    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # txid_current() of the writing transaction (a column default, so no caller can get it wrong).
    txid = models.BigIntegerField(editable=False, db_default=models.Func(function="txid_current"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64, choices=[(t, t) for t in EVENT_TYPES])
    occurred_at = models.DateTimeField(db_default=Now())
    subject_type = models.CharField(max_length=32)
    subject_id = models.UUIDField()
    # Plain ids, not foreign keys: the log outlives what it describes, and this app sits below them.
    customer_id = models.UUIDField(null=True, blank=True)
    enrollment_id = models.UUIDField(null=True, blank=True)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(type__in=EVENT_TYPES), name="event_type_known"),
        ]
        indexes = [
            models.Index(fields=["company", "txid", "seq"], name="event_company_order"),
            models.Index(fields=["company", "subject_id", "txid", "seq"], name="event_company_subject"),
            models.Index(
                fields=["company", "customer_id", "txid", "seq"],
                name="event_company_customer",
                condition=Q(customer_id__isnull=False),
            ),
            models.Index(
                fields=["company", "enrollment_id", "txid", "seq"],
                name="event_company_enrollment",
                condition=Q(enrollment_id__isnull=False),
            ),
            models.Index(fields=["occurred_at"], name="event_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_id}"


class WebhookEndpoint(models.Model):
    """A receiver of the company's events. `secret` signs deliveries (Standard Webhooks `whsec_...`);
    after a rotation `previous_secret` signs them too until `previous_secret_expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    event_types = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001  (SPEC: null)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The first failed attempt since the last delivered one: three days of nothing but failures
    # disable the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    # While failing, the endpoint's backoff: nothing more is claimed for it before this time, then one
    # delivery at a time probes it (events.delivery). Null when healthy.
    retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to one endpoint: created with the event, attempted until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # A worker's claim on the delivery while it attempts it; a claim past this time is free again
    # (the worker died), and the sweep hands the delivery to another.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set when a worker starts the attempt under the claim (null while the claim only waits in the
    # broker): a second task for the same claim sees it and leaves; the outcome is written only by the
    # attempt that set it.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        # "outbound": the Nylas deliveries received are connections' "webhook deliveries".
        verbose_name = "outbound webhook delivery"
        verbose_name_plural = "outbound webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="delivery_pending_has_next_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
            # The dispatcher's two reads per endpoint: its due deliveries, and its claims in flight. (A
            # due index across endpoints, once here, is gone: every read is per endpoint, and with it
            # the planner could pick a scan of every due row sorted, behind stale statistics.)
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                name="delivery_endpoint_due",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["endpoint", "locked_until"],
                name="delivery_endpoint_claimed",
                condition=Q(status="pending", locked_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"
