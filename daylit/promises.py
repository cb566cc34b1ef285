"""Promises to pay: create, cancel, settle (kept or broken). Each function owns its transaction.

Lock order: the invoice row (FOR NO KEY UPDATE, as `daylit.services.invoice_update` takes it), then its
promise rows. Under that lock "cancel the open promise, create the new one" cannot race another create
on the same invoice, and paying the invoice (which settles its promise in `invoice_update`) cannot race
a cancel. The beat's `promises_settle` claims promises with their invoices FOR UPDATE SKIP LOCKED: it
never waits for a request, and a promise it skips is settled on the next pass.

The deadline of a promise is 00:00 UTC of `promised_date` + the company's `promise_grace_days` + 1 day:
paid before it, the promise is kept; not paid by it, broken. "Today" (the first date a promise may name)
is the UTC date.

Signals (`daylit.signals`), sent inside the transaction after the rows are written: `promise_created`
(promise, pause_until = the deadline, replaced = the open promise it cancelled or None) for every new
promise, and `promises_ended` (promises: a list, outcome) for every promise that stops being open,
except the one a new promise replaced (its `promise.cancelled` event is recorded all the same, by the
events app's receiver of `promise_created`).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateField, ExpressionWrapper, F, Q
from django.utils import timezone

from daylit.errors import Conflict, violates
from daylit.models import Invoice, Promise
from daylit.signals import promise_created, promises_ended

PROMISE_HORIZON_DAYS = 365
ONE_OPEN_PROMISE = "daylit_promise_one_open_per_invoice"
SETTLE_BATCH = 1000

Outcome = Promise.Status


def promise_deadline(*, promised_date: datetime.date, grace_days: int) -> datetime.datetime:
    """00:00 UTC of the day after `promised_date` + `grace_days`: the first instant a promise is broken."""
    day = promised_date + datetime.timedelta(days=grace_days + 1)
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=datetime.UTC)


def _today(now: datetime.datetime) -> datetime.date:
    return now.astimezone(datetime.UTC).date()


def _lock_invoice(invoice_id) -> Invoice:
    # of=("self",): the invoice row only, not its company's (read along for promise_grace_days).
    return (
        Invoice.objects.select_for_update(no_key=True, of=("self",))
        .select_related("company")
        .get(pk=invoice_id)
    )


def promise_validate(
    *, invoice: Invoice, promised_date: datetime.date, amount: Decimal, now: datetime.datetime
) -> None:
    """The date from today (UTC) to a year ahead, the amount > 0 and at most the invoice's amount_due.
    Raises ValidationError {field: [message]} (a 400)."""
    errors: dict[str, list[str]] = {}
    today = _today(now)
    last = today + datetime.timedelta(days=PROMISE_HORIZON_DAYS)
    if promised_date < today:
        errors["promised_date"] = [
            f"promised_date cannot be in the past (today is {today.isoformat()}, UTC)."
        ]
    elif promised_date > last:
        errors["promised_date"] = [f"promised_date must be within a year: on or before {last.isoformat()}."]
    if amount <= 0:
        errors["amount"] = ["amount must be greater than 0."]
    elif amount > invoice.amount_due:
        errors["amount"] = [f"amount cannot exceed the invoice's amount_due ({invoice.amount_due})."]
    if errors:
        raise ValidationError(errors)


def promise_create(
    *,
    invoice: Invoice,
    promised_date: datetime.date,
    amount: Decimal | None = None,
    note: str = "",
    source: str = Promise.Source.API,
    now: datetime.datetime | None = None,
) -> Promise:
    """A new open promise on an open invoice (409 `invoice_not_open` otherwise), `amount` defaulting to
    the invoice's amount_due. The invoice's open promise, if any, is cancelled first (status cancelled,
    its `promise.cancelled` event) without `promises_ended`: the new promise keeps the pause going."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_invoice(invoice.pk)
        if locked.status != Invoice.Status.OPEN:
            raise Conflict(
                f"Invoice {locked.number} is {locked.status}: only an open invoice can be promised.",
                code="invoice_not_open",
            )
        amount = locked.amount_due if amount is None else amount
        promise_validate(invoice=locked, promised_date=promised_date, amount=amount, now=now)
        replaced = Promise.objects.filter(invoice=locked, status=Promise.Status.OPEN).first()
        if replaced is not None:
            replaced.status, replaced.settled_at = Promise.Status.CANCELLED, now
            replaced.save(update_fields=["status", "settled_at"])
        try:
            with transaction.atomic():
                promise = Promise.objects.create(
                    company_id=locked.company_id,
                    invoice=locked,
                    customer_id=locked.customer_id,
                    amount=amount,
                    currency=locked.currency,
                    promised_date=promised_date,
                    source=source,
                    note=note,
                    created_at=now,
                )
        except IntegrityError as exc:  # cannot happen under the invoice lock; answered, not a 500
            if violates(exc, ONE_OPEN_PROMISE):
                raise Conflict("The invoice already has an open promise.", code="promise_open") from exc
            raise
        pause_until = promise_deadline(
            promised_date=promised_date, grace_days=locked.company.promise_grace_days
        )
        promise_created.send(sender=Promise, promise=promise, pause_until=pause_until, replaced=replaced)
    return promise


def promise_cancel(*, promise: Promise, now: datetime.datetime | None = None) -> Promise:
    """Cancel an open promise (409 `promise_not_open` when it is kept, broken or cancelled already)."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_invoice(promise.invoice_id)
        changed = Promise.objects.filter(pk=promise.pk, status=Promise.Status.OPEN).update(
            status=Promise.Status.CANCELLED, settled_at=now
        )
        fresh = Promise.objects.get(pk=promise.pk)
        if not changed:
            raise Conflict(
                f"The promise is {fresh.status}: only an open promise can be cancelled.",
                code="promise_not_open",
            )
        promises_ended.send(sender=Promise, promises=[fresh], outcome=Outcome.CANCELLED.value)
    return fresh


def _outcome(promise: Promise, invoice: Invoice, grace_days: int, now: datetime.datetime) -> str | None:
    """What an open promise has become by `now`: kept (paid before its deadline), broken (paid after it,
    or not paid by it), cancelled (its invoice was voided), or None (still open)."""
    deadline = promise_deadline(promised_date=promise.promised_date, grace_days=grace_days)
    if invoice.status == Invoice.Status.PAID:
        paid_at = invoice.paid_at or now
        return Outcome.KEPT if paid_at < deadline else Outcome.BROKEN
    if invoice.status == Invoice.Status.VOID:
        return Outcome.CANCELLED
    return Outcome.BROKEN if now >= deadline else None


def _settle(promises: list[Promise], outcomes: dict, now: datetime.datetime) -> dict[str, int]:
    """Write each outcome in one UPDATE and send one `promises_ended` per outcome."""
    counts = {}
    for outcome in (Outcome.KEPT, Outcome.BROKEN, Outcome.CANCELLED):
        ended = [p for p in promises if outcomes.get(p.pk) == outcome]
        if not ended:
            continue
        Promise.objects.filter(pk__in=[p.pk for p in ended], status=Promise.Status.OPEN).update(
            status=outcome, settled_at=now
        )
        for promise in ended:
            promise.status, promise.settled_at = outcome, now
        promises_ended.send(sender=Promise, promises=ended, outcome=outcome.value)
        counts[str(outcome)] = len(ended)
    return counts


def promise_settle_for_invoice(*, invoice: Invoice, now: datetime.datetime | None = None) -> str | None:
    """Settle the invoice's open promise if the invoice's state decides it (paid: kept or broken; void:
    cancelled). For the caller's transaction, which holds the invoice's row lock (`invoice_update`)."""
    now = now or timezone.now()
    promise = Promise.objects.filter(invoice_id=invoice.pk, status=Promise.Status.OPEN).first()
    if promise is None or invoice.status == Invoice.Status.OPEN:
        return None
    outcome = _outcome(promise, invoice, invoice.company.promise_grace_days, now)
    if outcome is not None:
        _settle([promise], {promise.pk: outcome}, now)
    return outcome


def promises_settle(*, now: datetime.datetime, batch_size: int = SETTLE_BATCH) -> dict[str, int]:
    """The beat's pass: every open promise whose invoice is no longer open, or whose deadline has passed,
    becomes kept, broken or cancelled (see `_outcome`). Set-based: per batch one SELECT (FOR UPDATE SKIP
    LOCKED of the promises and their invoices), one UPDATE and one `promises_ended` per outcome. Safe to
    run twice and concurrently: only open promises are read, and a locked one is left for the next pass.
    Returns how many promises got each outcome."""
    # Deadline passed <=> 00:00 UTC of promised_date + grace + 1 <= now <=> promised_date + grace < today.
    last_day = ExpressionWrapper(
        F("promised_date") + F("company__promise_grace_days"), output_field=DateField()
    )
    due = (
        Promise.objects.filter(status=Promise.Status.OPEN)
        .alias(last_day=last_day)
        .filter(~Q(invoice__status=Invoice.Status.OPEN) | Q(last_day__lt=_today(now)))
    )
    totals: dict[str, int] = {}
    while True:
        with transaction.atomic():
            batch = list(
                due.select_related("invoice", "company")
                .select_for_update(skip_locked=True, of=("self", "invoice"), no_key=True)
                .order_by("promised_date", "id")[:batch_size]
            )
            outcomes = {p.pk: _outcome(p, p.invoice, p.company.promise_grace_days, now) for p in batch}
            for outcome, count in _settle(batch, outcomes, now).items():
                totals[outcome] = totals.get(outcome, 0) + count
        if len(batch) < batch_size or not any(outcomes.values()):
            return totals
