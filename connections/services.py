"""Writes of the connections app. Each function owns its transaction and takes keyword arguments.

Nylas is called outside any transaction: decide, call, then record the outcome in a short one.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from nylas.models.errors import AbstractNylasApiError

from connections.models import EmailConnection
from connections.nylas_client import nylas_client, nylas_configured
from connections.upstream import NYLAS_CALL_ERRORS, nylas_error_to_domain
from daylit.errors import Conflict, Forbidden
from daylit.models import Member


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
