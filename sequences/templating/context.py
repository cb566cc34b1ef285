"""What a template may read, and that context built as plain data (never model instances)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

INVOICE_FIELDS = ("number", "amount_due", "currency", "due_date", "days_overdue", "payment_url")
PROMISE_FIELDS = ("amount", "promised_date")

# The one definition of the context: each name and the attributes a template may read on it. The
# checker (validation.py) derives its schema from this, `build_context` produces exactly these keys,
# and the tests read it from here.
CONTEXT_VARIABLES: dict[str, tuple[str, ...]] = {
    "customer": ("name", "email"),
    "company": ("name",),
    "invoice": INVOICE_FIELDS,
    "invoices": INVOICE_FIELDS,
    "total_due": (),
    # The open promise to pay of `invoice`, or None: `{% if promise %}... by {{ promise.promised_date }}`.
    "promise": PROMISE_FIELDS,
    "sender": ("name", "email"),
    "enrollment": ("start_date",),
}
# Names whose value is a list of items with those attributes; every other name is one value (a
# value with no attributes, like `total_due`, is a plain number or string).
LIST_VARIABLES = frozenset({"invoices"})


def _as_decimal(value: Any) -> Decimal:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def invoice_context(
    *, number, amount_due, currency, due_date, today: datetime.date, payment_url: str | None = None
) -> dict:
    """An invoice as template data; `days_overdue` is 0 until the due date has passed; `payment_url` is
    "" when the invoice has none (an email never says "None"; `{% if invoice.payment_url %}` is false)."""
    due = _as_date(due_date)
    return {
        "number": str(number),
        "amount_due": _as_decimal(amount_due),
        "currency": str(currency),
        "due_date": due,
        "days_overdue": max(0, (today - due).days),
        "payment_url": str(payment_url) if payment_url else "",
    }


def promise_context(promise: dict | None) -> dict | None:
    """An open promise to pay as template data (keys amount, promised_date), or None."""
    if promise is None:
        return None
    return {"amount": _as_decimal(promise["amount"]), "promised_date": _as_date(promise["promised_date"])}


def _normalise_invoice(invoice: dict, today: datetime.date) -> dict:
    return invoice_context(
        number=invoice["number"],
        amount_due=invoice["amount_due"],
        currency=invoice["currency"],
        due_date=invoice["due_date"],
        today=today,
        payment_url=invoice.get("payment_url"),
    )


def build_context(
    *,
    company_name: str,
    customer_name: str,
    customer_email: str,
    invoice: dict | None,
    open_invoices: list[dict],
    sender_name: str,
    sender_email: str,
    enrollment_start_date: datetime.date,
    today: datetime.date,
    promise: dict | None = None,
) -> dict:
    """The template context as plain data, never model instances (so templates reach no method).

    `invoice` and each of `open_invoices` need the keys number, amount_due, currency, due_date
    (extra keys, e.g. from `.values()`, are ignored; `days_overdue` is recomputed against `today`).
    `invoice` None means the customer has no invoice to talk about: rendering `{{ invoice.number }}`
    then fails with a clear TemplateRenderError, while `{% if invoice %}` is simply false.
    `total_due` is the sum of the open invoices' amount_due (currencies are not converted); the caller
    leaves disputed invoices out of `open_invoices`, so they are in neither. `promise` is the open
    promise to pay of `invoice` (keys amount, promised_date) or None; an invoice may carry
    `payment_url`.
    """
    invoices = [_normalise_invoice(item, today) for item in open_invoices]
    return {
        "customer": {"name": customer_name or "", "email": customer_email or ""},
        "company": {"name": company_name or ""},
        "invoice": _normalise_invoice(invoice, today) if invoice is not None else None,
        "invoices": invoices,
        "total_due": sum((item["amount_due"] for item in invoices), Decimal("0.00")),
        "promise": promise_context(promise) if invoice is not None else None,
        "sender": {"name": sender_name or "", "email": sender_email or ""},
        "enrollment": {"start_date": _as_date(enrollment_start_date)},
    }
