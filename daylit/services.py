"""Writes of the core app. Each function owns its transaction and takes keyword arguments."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from daylit.errors import Conflict, violates
from daylit.models import ApiToken, Company, Customer, Invoice, Member
from daylit.signals import invoice_due_date_changed, invoice_paid
from daylit.tokens import generate_key, hash_key, key_prefix

INVOICE_NUMBER_CONSTRAINT = "daylit_invoice_number_unique"


def api_token_issue(*, user, description: str = "") -> tuple[ApiToken, str]:
    """Create a token and return it with its key: the key exists only in this return value."""
    key = generate_key()
    token = ApiToken.objects.create(
        user=user, prefix=key_prefix(key), key_hash=hash_key(key), description=description
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def member_create(
    *, company: Company, username: str, email: str = "", role: str = Member.Role.MEMBER
) -> Member:
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        member, _ = Member.objects.get_or_create(company=company, user=user, defaults={"role": role})
    return member


def customer_create(
    *, company: Company, name: str, email: str = "", ar_owner: Member | None = None
) -> Customer:
    return Customer.objects.create(company=company, name=name, email=email, ar_owner=ar_owner)


def customer_update(*, customer: Customer, data: dict[str, Any]) -> Customer:
    for field in ("name", "email", "ar_owner"):
        if field in data:
            setattr(customer, field, data[field])
    customer.save()
    return customer


def invoice_create(*, company: Company, customer: Customer, **fields: Any) -> Invoice:
    if fields.get("status") == Invoice.Status.PAID and not fields.get("paid_at"):
        fields["paid_at"] = timezone.now()
    try:
        with transaction.atomic():
            return Invoice.objects.create(company=company, customer=customer, **fields)
    except IntegrityError as exc:
        _raise_for_invoice_integrity(exc)


def invoice_update(*, invoice: Invoice, data: dict[str, Any]) -> Invoice:
    """Apply a PATCH. Becoming paid stamps `paid_at` and sends `invoice_paid` in the same transaction,
    so the enrollments it stops stop atomically with the payment. The invoice row is locked so two
    concurrent PATCHes cannot both see the transition and fire twice; NO KEY UPDATE, so the foreign-key
    checks of enrollments being created for this invoice (KEY SHARE) neither wait nor deadlock on it.
    """
    try:
        with transaction.atomic():
            locked = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
            was_paid = locked.status == Invoice.Status.PAID
            was_due = locked.due_date
            for field, value in data.items():
                setattr(locked, field, value)
            if locked.status == Invoice.Status.PAID and not locked.paid_at:
                locked.paid_at = timezone.now()
            if locked.status != Invoice.Status.PAID:
                locked.paid_at = None
            locked.save()
            if locked.due_date != was_due:
                invoice_due_date_changed.send(sender=Invoice, invoice=locked)
            if locked.status == Invoice.Status.PAID and not was_paid:
                invoice_paid.send(sender=Invoice, invoice=locked)
    except IntegrityError as exc:
        _raise_for_invoice_integrity(exc)
    return locked


def _raise_for_invoice_integrity(exc: IntegrityError):
    """A duplicate number is the client's 409; any other broken constraint is ours and propagates."""
    if violates(exc, INVOICE_NUMBER_CONSTRAINT):
        raise Conflict(
            "An invoice with this number already exists in this company.", code="duplicate_number"
        ) from exc
    raise exc
