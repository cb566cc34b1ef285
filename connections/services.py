"""Writes of the connections app. Each function owns its transaction and takes keyword arguments.

Nylas is called outside any transaction: decide, call, then record the outcome in a short one.
"""

import logging
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from nylas.models.errors import AbstractNylasApiError

from connections.models import EmailConnection, WebhookDelivery
from connections.nylas_client import nylas_client, nylas_configured
from connections.upstream import NYLAS_CALL_ERRORS, nylas_error_to_domain
from daylit.errors import Conflict, Forbidden
from daylit.models import Member

logger = logging.getLogger(__name__)


def _ensure_can_manage(*, connection: EmailConnection, member: Member) -> None:
    """Only the connection's owner or a company admin may change or revoke it."""
    if member.role == Member.Role.ADMIN or connection.member_id == member.id:
        return
    raise Forbidden(
        "Only the connection's owner or a company admin may change it.", code="not_connection_owner"
    )


def email_connection_update(
    *, connection: EmailConnection, member: Member, data: dict[str, Any]
) -> EmailConnection:
    """PATCH: today only `allow_shared_sending` is writable. 403 unless owner or admin."""
    _ensure_can_manage(connection=connection, member=member)
    if "allow_shared_sending" in data:
        EmailConnection.objects.filter(pk=connection.pk).update(
            allow_shared_sending=data["allow_shared_sending"], updated_at=timezone.now()
        )
        connection.refresh_from_db()
    return connection


def email_connection_revoke(*, connection: EmailConnection, member: Member) -> EmailConnection:
    """Destroy the grant at Nylas (skipped when Nylas is not configured), then mark the row revoked.

    Idempotent: a revoked connection is returned unchanged with no call. A grant Nylas no longer knows
    (404) counts as destroyed. If Nylas fails, the status does not change and the error says why.
    """
    _ensure_can_manage(connection=connection, member=member)
    if connection.status == EmailConnection.Status.REVOKED:
        return connection
    if nylas_configured():
        try:
            nylas_client().grants.destroy(connection.grant_id)
        except AbstractNylasApiError as exc:
            if exc.status_code != 404:
                raise nylas_error_to_domain(exc, action="revoke the grant") from exc
        except NYLAS_CALL_ERRORS as exc:
            raise nylas_error_to_domain(exc, action="revoke the grant") from exc
    EmailConnection.objects.filter(pk=connection.pk).exclude(status=EmailConnection.Status.REVOKED).update(
        status=EmailConnection.Status.REVOKED, updated_at=timezone.now()
    )
    connection.refresh_from_db()
    return connection


def email_connection_connect(
    *, member: Member, grant_id: str, email: str, provider: str
) -> tuple[EmailConnection, bool]:
    """Create or update the member's connection for a grant Nylas just issued; returns (row, created).

    Keyed by `grant_id` (unique): a re-auth of the same mailbox keeps its grant id, so it updates the row
    and puts it back to `active`. The row is locked while checked. A grant already connected in another
    company, or owned by another member, is a 409: OAuth proves mailbox access, not the right to take over
    someone else's connection.
    """
    now = timezone.now()
    with transaction.atomic():
        existing = EmailConnection.objects.select_for_update().filter(grant_id=grant_id).first()
        if existing is None:
            try:
                with transaction.atomic():
                    created = EmailConnection.objects.create(
                        company_id=member.company_id,
                        member=member,
                        grant_id=grant_id,
                        email=email,
                        provider=provider,
                        status=EmailConnection.Status.ACTIVE,
                    )
                return created, True
            except IntegrityError:
                # Two callbacks for the same grant raced; the other one inserted it. Update that row.
                existing = EmailConnection.objects.select_for_update().get(grant_id=grant_id)
        if existing.company_id != member.company_id:
            raise Conflict(
                "This mailbox is already connected to another company.", code="grant_in_other_company"
            )
        if existing.member_id not in (None, member.id):
            raise Conflict(
                "This mailbox is already connected by another member.", code="grant_of_other_member"
            )
        existing.member = member
        existing.email = email or existing.email
        existing.provider = provider or existing.provider
        existing.status = EmailConnection.Status.ACTIVE
        existing.updated_at = now
        existing.save(update_fields=["member", "email", "provider", "status", "updated_at"])
    return existing, False


def email_connection_set_status_by_grant(*, grant_id: str, status: str) -> str:
    """Webhook-driven status change (grant expired/invalid → error, deleted → revoked); an outcome string.

    A revoked connection stays revoked: an expiry notice arriving after a revoke changes nothing.
    """
    connection = EmailConnection.objects.filter(grant_id=grant_id).only("id", "status").first()
    if connection is None:
        return "ignored: unknown grant"
    changed = (
        EmailConnection.objects.filter(pk=connection.pk)
        .exclude(status__in=[status, EmailConnection.Status.REVOKED])
        .update(status=status, updated_at=timezone.now())
    )
    return (
        f"connection status set to {status}"
        if changed
        else f"no change: connection already {connection.status}"
    )


def webhook_delivery_record(*, envelope: dict[str, Any]) -> tuple[WebhookDelivery, bool]:
    """Store one verified notification and enqueue its processing after commit; returns (row, created).

    The unique `notification_id` dedupes Nylas's at-least-once delivery: a repeat only bumps
    `duplicates`, and is enqueued again only if the first one was never processed (a lost task).
    `envelope` is what `webhooks.parse_envelope` returned; the grant id is read as `handle_event` reads it.
    """
    from connections.webhooks import envelope_parts

    parts = envelope_parts(envelope)
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                notification_id=envelope["id"],
                event_type=envelope["type"],
                grant_id=parts.grant_id[:255],
                payload=_without_bodies(envelope, data=parts.data, obj=parts.obj),
            )
            transaction.on_commit(lambda: _enqueue(delivery.id))
        return delivery, True
    except IntegrityError:
        pass
    with transaction.atomic():
        WebhookDelivery.objects.filter(notification_id=envelope["id"]).update(duplicates=F("duplicates") + 1)
        delivery = WebhookDelivery.objects.get(notification_id=envelope["id"])
        if delivery.processed_at is None:
            transaction.on_commit(lambda: _enqueue(delivery.id))
    return delivery, False


def webhook_delivery_process(*, delivery_id: UUID | str) -> str | None:
    """Do the work of one delivery, once. Returns the outcome, or None when there was nothing to do.

    The delivery row is locked and `processed_at` is stamped in the same transaction as the work (the
    signal receivers' writes included), so a task that runs twice, or two workers at once, act once.
    No network I/O happens here.
    """
    from connections.webhooks import handle_event

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.processed_at is not None:
            return None
        outcome = handle_event(event_type=delivery.event_type, envelope=delivery.payload)
        delivery.outcome = outcome[:255]
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["outcome", "processed_at"])
    logger.info("Nylas webhook %s (%s): %s", delivery.notification_id, delivery.event_type, outcome)
    return outcome


def _enqueue(delivery_id: UUID) -> None:
    from connections.tasks import process_webhook_delivery

    try:
        process_webhook_delivery.delay(str(delivery_id))
    except KombuOperationalError:
        # Broker down: Nylas still gets its 200; the row stays unprocessed and the sweep task retries it.
        logger.exception("Could not enqueue webhook delivery %s; the sweep will pick it up", delivery_id)


def _without_bodies(envelope: dict[str, Any], *, data: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """Message bodies can be 1 MB and are never needed to act; keep the log small."""
    if "body" not in obj:
        return envelope
    obj = {k: v for k, v in obj.items() if k != "body"}
    return {**envelope, "data": {**data, "object": obj}}
