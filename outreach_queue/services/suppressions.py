"""The suppression list: addresses a company's reminders must not go to (SPEC "Replies that act").

Addresses are stored lowercased, so "AP@Acme.example" and "ap@acme.example" are one entry. A bounce, an
unsubscribe or a wrong-contact reply adds one; a person adds (`manual`) or removes them. Promotion fails
a reminder to a suppressed address, and a person's send of one is 409 `suppressed`.
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import connection

from daylit.errors import Conflict, NotFound
from outreach_queue.models import Suppression

_INSERT = f"""
INSERT INTO {Suppression._meta.db_table} (id, company_id, email, reason, created_at)
SELECT gen_random_uuid(), %s, lower(e), %s, now() FROM unnest(%s::text[]) AS e
ON CONFLICT (company_id, email) DO NOTHING
"""  # noqa: S608 (our table name)


def normalized(email: str) -> str:
    return email.strip().lower()


def suppression_add(*, company_id: UUID, email: str, reason: str) -> None:
    """Suppress `email` (kept as it is when already suppressed, with its first reason)."""
    suppressions_add(company_id=company_id, emails=[email], reason=reason)


def suppressions_add(*, company_id: UUID, emails: Iterable[str], reason: str) -> int:
    """Suppress every address of `emails` in one statement. Returns how many were new."""
    addresses = sorted({normalized(e) for e in emails if e and e.strip()})
    if not addresses:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [company_id, reason, addresses])
        return cursor.rowcount


def suppression_create(
    *, company_id: UUID, email: str, reason: str = Suppression.Reason.MANUAL
) -> Suppression:
    """A person's suppression: 409 `already_suppressed` when the address is on the list."""
    if not suppressions_add(company_id=company_id, emails=[email], reason=reason):
        raise Conflict(f"{normalized(email)} is already suppressed.", code="already_suppressed")
    return Suppression.objects.get(company_id=company_id, email=normalized(email))


def suppression_delete(*, company_id: UUID, email: str) -> None:
    deleted, _ = Suppression.objects.filter(company_id=company_id, email=normalized(email)).delete()
    if not deleted:
        raise NotFound(f"{normalized(email)} is not suppressed.", code="not_found")


def suppression_lift(*, company_id: UUID, email: str, reason: str) -> None:
    """Undo a suppression a reply added (a review), only if it still has that reason."""
    Suppression.objects.filter(company_id=company_id, email=normalized(email), reason=reason).delete()


def suppressed_reasons(pairs: Iterable[tuple[UUID, str]]) -> dict[tuple[UUID, str], str]:
    """(company id, address) -> reason, for the suppressed ones among `pairs` (one query)."""
    wanted = {(company_id, normalized(email)) for company_id, email in pairs if email}
    if not wanted:
        return {}
    found = Suppression.objects.filter(
        company_id__in={c for c, _ in wanted}, email__in={e for _, e in wanted}
    ).values_list("company_id", "email", "reason")
    return {(c, e): reason for c, e, reason in found if (c, e) in wanted}
