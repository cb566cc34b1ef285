"""Writes of the connections app. Each function owns its transaction and takes keyword arguments.

Nylas is called outside any transaction: decide, call, then record the outcome in a short one.
Every change of a connection's status or settings records `email_connection.updated` (the connection
after the change) in the transaction of the change; a request that changes nothing records nothing.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from nylas.models.errors import AbstractNylasApiError

from connections.models import EmailConnection
from connections.nylas_client import nylas_client, nylas_configured
from connections.payloads import EMAIL_CONNECTION
from connections.upstream import NYLAS_CALL_ERRORS, nylas_error_to_domain
from daylit.errors import Conflict, Forbidden
from daylit.models import Member
from daylit.updates import update_returning_pks
from events.services import events_record
from events.types import EMAIL_CONNECTION_UPDATED


def email_connections_record_updated(*, connection_ids: list) -> int:
    """Record `email_connection.updated` for connections just changed, in the caller's transaction
    (also for the one writer outside this module, the admin's change form)."""
    return events_record(type=EMAIL_CONNECTION_UPDATED, subject_type=EMAIL_CONNECTION, ids=connection_ids)


def _update(connections: QuerySet[EmailConnection], **fields: Any) -> bool:
    """A conditional UPDATE and the events of exactly the connections it changed, in one transaction."""
    with transaction.atomic():
        changed = update_returning_pks(connections, **fields, updated_at=timezone.now())
        email_connections_record_updated(connection_ids=changed)
    return bool(changed)


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
        value = data["allow_shared_sending"]
        _update(
            EmailConnection.objects.filter(pk=connection.pk).exclude(allow_shared_sending=value),
            allow_shared_sending=value,
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
    _update(
        EmailConnection.objects.filter(pk=connection.pk).exclude(status=EmailConnection.Status.REVOKED),
        status=EmailConnection.Status.REVOKED,
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
    someone else's connection. A new connection, or a reconnect that changed its owner, address, provider
    or status, records `email_connection.updated` (there is no `created` type for connections).
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
                    email_connections_record_updated(connection_ids=[created.pk])
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
        before = (existing.member_id, existing.email, existing.provider, existing.status)
        existing.member = member
        existing.email = email or existing.email
        existing.provider = provider or existing.provider
        existing.status = EmailConnection.Status.ACTIVE
        existing.updated_at = now
        existing.save(update_fields=["member", "email", "provider", "status", "updated_at"])
        if (existing.member_id, existing.email, existing.provider, existing.status) != before:
            email_connections_record_updated(connection_ids=[existing.pk])
    return existing, False


def email_connection_set_status_by_grant(*, grant_id: str, status: str) -> str:
    """Webhook-driven status change (grant expired/invalid → error, deleted → revoked); an outcome string.

    A revoked connection stays revoked: an expiry notice arriving after a revoke changes nothing.
    """
    connection = EmailConnection.objects.filter(grant_id=grant_id).only("id", "status").first()
    if connection is None:
        return "ignored: unknown grant"
    changed = _update(
        EmailConnection.objects.filter(pk=connection.pk).exclude(
            status__in=[status, EmailConnection.Status.REVOKED]
        ),
        status=status,
    )
    return (
        f"connection status set to {status}"
        if changed
        else f"no change: connection already {connection.status}"
    )
