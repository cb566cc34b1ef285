"""Promises and disputes under concurrency (real transactions, threads): the invoice's row lock makes
"cancel the open one, create the new one" and "open a dispute" safe to race."""

import datetime

import pytest
from django.utils import timezone

from daylit import disputes, promises
from daylit.errors import Conflict
from daylit.models import Dispute, Invoice, Promise
from daylit.services import invoice_update
from tests.enrollments.test_concurrency import run_together
from tests.factories.core import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def test_concurrent_promises_on_one_invoice_leave_one_open(company):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    results = run_together(
        *[lambda: promises.promise_create(invoice=invoice, promised_date=today()) for _ in range(4)]
    )
    assert all(isinstance(r, Promise) for r in results), results
    assert Promise.objects.filter(invoice=invoice, status="open").count() == 1
    assert Promise.objects.filter(invoice=invoice, status="cancelled").count() == 3


def test_concurrent_disputes_on_one_invoice_open_one_and_409_the_rest(company):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    results = run_together(
        *[lambda: disputes.dispute_open(invoice=invoice, reason="other") for _ in range(4)]
    )
    assert sum(isinstance(r, Dispute) for r in results) == 1
    assert [r.get_codes() for r in results if isinstance(r, Conflict)] == ["dispute_open"] * 3
    invoice.refresh_from_db()
    assert invoice.disputed is True


def test_a_promise_racing_the_payment_is_refused_or_kept(company):
    for _ in range(3):
        invoice = InvoiceFactory(customer=CustomerFactory(company=company))
        made, _ = run_together(
            lambda invoice=invoice: promises.promise_create(invoice=invoice, promised_date=today()),
            lambda invoice=invoice: invoice_update(invoice=invoice, data={"status": Invoice.Status.PAID}),
        )
        if isinstance(made, Promise):  # created first: the payment kept it
            assert Promise.objects.get(pk=made.pk).status == "kept"
        else:  # paid first: no promise on a paid invoice
            assert (
                made.get_codes() == "invoice_not_open"
                and not Promise.objects.filter(invoice=invoice).exists()
            )
