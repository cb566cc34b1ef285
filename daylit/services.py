"""Writes of the core app. Each function owns its transaction and takes keyword arguments.

A calendar (a customer's `timezone`/`country`/`subdivision`, the company's fallback `country`/
`subdivision`) is checked by `calendar_validate`, the one rule the API fields, these services and the
admin forms share: codes as `daylit.calendar_codes` knows them, and a subdivision of its own country.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from daylit import calendar_codes
from daylit.errors import Conflict, Forbidden, violates
from daylit.models import ApiToken, Company, Customer, Invoice, Member
from daylit.promises import promise_settle_for_invoice
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


# --- Calendars: timezone, country, subdivision ----------------------------------------------------

CALENDAR_FIELDS = ("timezone", "country", "subdivision")
SUBDIVISION_MAX_LENGTH = Customer._meta.get_field("subdivision").max_length
SUGGESTED_SUBDIVISIONS = 6  # how many valid codes a refused subdivision's message lists
BLANK_SUBDIVISION = 'Use null for no subdivision; "" is not a subdivision code.'


def timezone_problem(name: str) -> str | None:
    """Why `name` is no timezone we plan in, or None when it is one."""
    if calendar_codes.is_valid_timezone(name):
        return None
    if name == "":
        return 'Use null for no timezone; "" is not a timezone.'
    return f"'{name}' is not a valid IANA timezone (e.g. America/New_York)."


def country_problem(code: str) -> str | None:
    """Why `code` is no country of the holiday calendar, or None when it is one."""
    if calendar_codes.is_known_country(code):
        return None
    if code == "":
        return 'Use null for no country; "" is not a country code.'
    message = f"'{code}' is not a country code the holiday calendar knows; "
    if isinstance(code, str) and calendar_codes.is_known_country(code.upper()):
        return message + f'codes are upper case: "{code.upper()}".'
    return message + 'use ISO 3166-1 alpha-2 such as "GB".'


def subdivision_problem(*, country: str | None, subdivision: str, kept: bool = False) -> str | None:
    """Why `subdivision` is no subdivision of `country`, or None when it is one. `kept`: it is the stored
    subdivision and only the country changes, so the message asks for a new subdivision with it."""
    if country is None:
        if kept:
            return f"'{subdivision}', the current subdivision, needs a country: send subdivision null too."
        return "A subdivision needs a country: set country too, or send null."
    if (
        calendar_codes.is_known_subdivision(country, subdivision)
        and len(subdivision) <= SUBDIVISION_MAX_LENGTH
    ):
        return None
    if subdivision == "" and not kept:
        return BLANK_SUBDIVISION
    codes = [c for c in calendar_codes.subdivisions_of(country) if len(c) <= SUBDIVISION_MAX_LENGTH]
    what = f"'{subdivision}', the current subdivision," if kept else f"'{subdivision}'"
    message = f"{what} is not a subdivision the holiday calendar knows for {country}"
    if not codes:
        return message + (
            ", which has none; send subdivision null too." if kept else ", which has none; use null."
        )
    if len(codes) > SUGGESTED_SUBDIVISIONS:
        valid = f"a code such as {', '.join(codes[:SUGGESTED_SUBDIVISIONS])} ({len(codes)} in all)"
    else:
        valid = f"one of {', '.join(codes)}"
    if kept:
        return message + f"; send a new subdivision (or null) with the new country: {valid}."
    return message + f"; use {valid}."


def calendar_validate(*, data: Mapping[str, Any], current: Customer | Company | None = None) -> None:
    """Check the calendar fields present in `data` (None is "none" and always fits), merged with the
    `current` values for the country/subdivision pair: a PATCH that changes only the country must not
    leave a subdivision of another country behind. Raises ValidationError {field: [message]} (a 400).

    Stored values that are not in `data` are not checked again, so a code a newer `holidays` release
    dropped does not block a change of something else."""
    errors: dict[str, list[str]] = {}
    if data.get("timezone") is not None and (problem := timezone_problem(data["timezone"])):
        errors["timezone"] = [problem]
    if data.get("country") is not None and (problem := country_problem(data["country"])):
        errors["country"] = [problem]
    if ("country" in data or "subdivision" in data) and "country" not in errors:
        country = data["country"] if "country" in data else getattr(current, "country", None)
        subdivision = data["subdivision"] if "subdivision" in data else getattr(current, "subdivision", None)
        if subdivision is not None:
            problem = subdivision_problem(
                country=country, subdivision=subdivision, kept="subdivision" not in data
            )
            if problem:
                errors["subdivision"] = [problem]
    if errors:
        raise ValidationError(errors)


# --- Customers -------------------------------------------------------------------------------------


def customer_create(
    *,
    company: Company,
    name: str,
    email: str = "",
    ar_owner: Member | None = None,
    timezone: str | None = None,
    country: str | None = None,
    subdivision: str | None = None,
) -> Customer:
    calendar = {"timezone": timezone, "country": country, "subdivision": subdivision}
    calendar_validate(data=calendar)
    return Customer.objects.create(company=company, name=name, email=email, ar_owner=ar_owner, **calendar)


def customers_lock(*, customer_ids: Iterable) -> None:
    """Lock these customers' rows until the caller's transaction ends, in id order: what serialises one
    customer's payments, promises, disputes and reply reviews, each of which asks whether another of the
    customer's invoices, promises or disputes is still open. Taken after the invoice's lock and before any
    scheduled row or enrollment. NO KEY UPDATE: an enroll's FOR SHARE on the customer waits, the
    foreign-key checks of new rows do not."""
    list(
        Customer.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(customer_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def customer_update(*, customer: Customer, data: dict[str, Any]) -> Customer:
    """Apply a PATCH. The calendar is checked against the locked row, so two PATCHes (one changing the
    country, one the subdivision) cannot together store a subdivision of another country. NO KEY UPDATE:
    enrolling (FOR SHARE on the customer) waits, foreign-key checks of new rows do not."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
        calendar_validate(data=data, current=locked)
        for field in ("name", "email", "ar_owner", *CALENDAR_FIELDS):
            if field in data:
                setattr(locked, field, data[field])
        locked.save()
    return locked


# --- Company settings ------------------------------------------------------------------------------

COMPANY_SETTINGS = ("country", "subdivision", "promise_grace_days", "min_hours_between_emails")


def company_settings_authorize(*, member: Member) -> None:
    """403 `admin_only` unless the member is a company admin: every member reads the settings."""
    if member.role != Member.Role.ADMIN:
        raise Forbidden(
            "Only a company admin may change the company settings: they apply to every sequence and "
            "customer of the company.",
            code="admin_only",
        )


def company_settings_update(*, company: Company, data: dict[str, Any]) -> Company:
    """Apply a PATCH of the settings (keys of COMPANY_SETTINGS; others are ignored). The company row is
    locked while the country/subdivision pair is merged and checked, NO KEY UPDATE so that inserts of
    the company's rows (foreign-key checks take KEY SHARE) neither wait nor deadlock on it. The ranges
    are the serializer's and the database's (`daylit_company_*_range`)."""
    changes = {field: data[field] for field in COMPANY_SETTINGS if field in data}
    with transaction.atomic():
        locked = Company.objects.select_for_update(no_key=True).get(pk=company.pk)
        calendar_validate(data=changes, current=locked)
        for field, value in changes.items():
            setattr(locked, field, value)
        if changes:
            locked.save(update_fields=list(changes))
    return locked


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
    so the enrollments it stops stop atomically with the payment; a new `due_date` sends
    `invoice_due_date_changed` the same way (the enrollments app re-plans the rows it anchors). Becoming
    paid or void then settles the invoice's open promise (`daylit.promises`), after `invoice_paid`.
    The invoice row is locked so two concurrent PATCHes cannot both see the transition and fire twice;
    NO KEY UPDATE, so the foreign-key checks of enrollments being created for this invoice (KEY SHARE)
    neither wait nor deadlock on it.
    """
    try:
        with transaction.atomic():
            locked = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
            was_paid = locked.status == Invoice.Status.PAID
            was_status = locked.status
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
            if locked.status != was_status:
                # Paid: its open promise is kept (broken when paid after the deadline); void: cancelled.
                promise_settle_for_invoice(invoice=locked)
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
