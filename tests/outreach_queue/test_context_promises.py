"""What emails say about disputes and promises: a disputed invoice leaves `invoices` and `total_due`,
`promise` is the invoice's open promise to pay, `invoice.payment_url` its payment link; templates that
use them validate."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollments.models import Enrollment
from outreach_queue.services import queue_rows_promote
from sequences.templating import template_errors
from tests.factories.core import CustomerFactory, DisputeFactory, InvoiceFactory, PromiseFactory
from tests.outreach_queue.helpers import Status, due_row

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "{{ total_due }} over {{ invoices|length }}: {% for i in invoices %}{{ i.number }} {% endfor %}"
    "| {{ invoice.number }} {{ invoice.payment_url }} | "
    "{% if promise %}promised {{ promise.amount }} by {{ promise.promised_date }}{% else %}none{% endif %}"
)


def render(company, customer, *, invoice=None) -> str:
    row = due_row(company, customer=customer)
    if invoice is not None:
        Enrollment.objects.filter(pk=row.enrollment_id).update(invoice=invoice)
    row.step.body_plain_template = TEMPLATE
    row.step.save()
    queue_rows_promote()
    row.refresh_from_db()
    assert row.status == Status.READY, row.error
    return row.body_plain


def test_the_templates_validate():
    assert template_errors(body_plain=TEMPLATE) == {}
    assert "body_plain_template" in template_errors(body_plain="{{ promise.note }}")
    assert "body_plain_template" in template_errors(body_plain="{{ invoice.disputed }}")


def test_a_dispute_on_one_of_two_invoices_leaves_the_other_in_invoices_and_total_due(company):
    customer = CustomerFactory(company=company)
    kept = InvoiceFactory(
        customer=customer, number="INV-A", amount_due=Decimal("100.00"), due_date=datetime.date(2026, 11, 1)
    )
    disputed = InvoiceFactory(
        customer=customer, number="INV-B", amount_due=Decimal("900.00"), due_date=datetime.date(2026, 10, 1)
    )
    DisputeFactory(invoice=disputed)
    # No invoice on the enrollment: it talks about the oldest open, undisputed one.
    assert render(company, customer) == "100.00 over 1: INV-A | INV-A  | none"
    assert kept.pk != disputed.pk


def test_the_enrollments_own_disputed_invoice_is_still_its_invoice_but_not_in_the_total(company):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, number="INV-A", amount_due=Decimal("100.00"))
    disputed = InvoiceFactory(customer=customer, number="INV-B", amount_due=Decimal("900.00"))
    DisputeFactory(invoice=disputed)
    assert render(company, customer, invoice=disputed) == "100.00 over 1: INV-A | INV-B  | none"


def test_promise_and_payment_url_of_the_invoice(company):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(
        customer=customer, number="INV-P", amount_due=Decimal("500.00"), payment_url="https://pay.example/p"
    )
    PromiseFactory(invoice=invoice, amount=Decimal("200.00"), promised_date=datetime.date(2026, 12, 20))
    PromiseFactory(  # settled promises are history, never in an email
        invoice=invoice, amount=Decimal("1.00"), status="broken", settled_at=timezone.now()
    )
    body = render(company, customer, invoice=invoice)
    assert body == "500.00 over 1: INV-P | INV-P https://pay.example/p | promised 200.00 by 2026-12-20"
