import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from daylit.models import Company, Member


class EmailConnectionStatus(models.TextChoices):
    ACTIVE = "active"
    REVOKED = "revoked"
    ERROR = "error"


class EmailConnection(models.Model):
    """A mailbox connected through Nylas; the grant id is the only credential we hold for it."""

    Status = EmailConnectionStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="email_connections")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="email_connections"
    )
    email = models.EmailField(max_length=254)
    provider = models.CharField(max_length=32, default="google")
    grant_id = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    allow_shared_sending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant_id"], name="%(app_label)s_%(class)s_grant_unique"),
            models.CheckConstraint(
                condition=Q(status__in=EmailConnectionStatus.values), name="%(app_label)s_%(class)s_status"
            ),
        ]
        indexes = [models.Index(fields=["company", "status"], name="conn_company_status")]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class MailboxPacing(models.Model):
    """When one mailbox last started sends: the shared counter behind per-mailbox pacing (connections.pacing).

    One row per connection, holding the start times of its sends in the last minute (at most the
    limit's worth), so every worker on every machine counts against the same window.
    """

    connection = models.OneToOneField(
        EmailConnection, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    recent_sends = ArrayField(models.DateTimeField(), default=list)

    def __str__(self) -> str:
        return f"pacing of {self.connection_id}"


class OutboxMessage(models.Model):
    """What the local outbox transport 'sent' when no NYLAS_API_KEY is set: a record, never a delivery.

    Unique per (grant, idempotency key), like Nylas's own replay window, so a retried send records once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey(EmailConnection, on_delete=models.CASCADE, related_name="outbox_messages")
    grant_id = models.CharField(max_length=255)
    idempotency_key = models.CharField(max_length=256)
    message_id = models.CharField(max_length=255)
    thread_id = models.CharField(max_length=255)
    reply_to_message_id = models.CharField(max_length=255, blank=True)
    from_email = models.EmailField(max_length=254)
    to_email = models.EmailField(max_length=254)
    subject = models.TextField(blank=True)
    body_plain = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grant_id", "idempotency_key"], name="%(app_label)s_%(class)s_idempotent"
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.to_email}: {self.subject[:60]}"


class OAuthState(models.Model):
    """The one-time half of a hosted-auth `state`: the signed token carries this nonce, and the callback
    consumes the row with one conditional UPDATE, so a replayed state finds it already used.
    """

    nonce = models.CharField(max_length=64, primary_key=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.nonce[:8]}… ({'used' if self.used_at else 'open'})"


class WebhookDelivery(models.Model):
    """Every Nylas notification we accepted, keyed by its envelope `id` (Nylas delivers at least once).

    The unique `notification_id` is the dedupe: a repeated delivery inserts nothing. `processed_at` is set
    in the same transaction as the work, so a task run twice does the work once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=255)  # as long as parse_envelope accepts
    grant_id = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True, default="")
    duplicates = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification_id"], name="%(app_label)s_%(class)s_notification_unique"
            ),
        ]
        indexes = [models.Index(fields=["-received_at"], name="webhook_received")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.notification_id}"
