"""A person's review of a reply against a payment of the same customer, on real connections.

The review undoes the old action (an auto-reply's pause: scheduled rows, then enrollments) and then
applies the new one (a dispute: the invoice's lock). A payment, like a promise or a dispute, takes the
invoice first, then the customer, then the scheduled rows and enrollments. Held at the customer by a third
session, the payment waits with the invoice; the review must wait for the invoice before it touches any
enrollment, or the two deadlock once the customer is let go."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone

from daylit.models import Customer
from daylit.services import invoice_update
from outreach_queue.models import Reply
from outreach_queue.services.reply_actions import Reading, reply_review
from tests.connections.conftest import eager_celery  # noqa: F401 (fixture)
from tests.connections.test_webhooks import connection, deliver, message_created  # noqa: F401
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db(transaction=True)

SETTLE = 0.5  # seconds for a thread to reach the lock it waits on


def test_a_review_and_a_payment_of_the_same_customer_do_not_deadlock(company, connection, deliver):  # noqa: F811
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, amount_due=Decimal("500.00"))
    enrollment = EnrollmentFactory(
        sequence=SequenceFactory(company=company, status="active"), customer=customer, invoice=invoice
    )
    ScheduledStepFactory(
        enrollment=enrollment,
        status="sent",
        sender_connection=connection,
        provider_message_id="m-1",
        provider_thread_id="t-1",
    )
    ScheduledStepFactory(enrollment=enrollment, scheduled_for=timezone.now() + datetime.timedelta(days=3))
    body = message_created()
    body["data"]["object"].update(
        subject="Automatic reply", body="<p>I am out of the office until 30 December 2030.</p>"
    )
    deliver(body)
    reply = Reply.objects.get()
    enrollment.refresh_from_db()
    assert (reply.classification, enrollment.pause_reason) == ("auto_reply", "auto_reply")
    assert reply.invoice_id == invoice.pk  # so the review's dispute takes the invoice's lock

    customer_held, let_go, errors = threading.Event(), threading.Event(), []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
                errors.append(exc)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def hold_the_customer():
        with transaction.atomic():
            list(Customer.objects.select_for_update(no_key=True).filter(pk=invoice.customer_id))
            customer_held.set()
            assert let_go.wait(10)

    holder = in_thread(hold_the_customer)
    assert customer_held.wait(10)
    payment = in_thread(lambda: invoice_update(invoice=invoice, data={"status": "paid"}))
    time.sleep(SETTLE)  # the payment holds the invoice and waits for the customer
    review = in_thread(
        lambda: reply_review(reply=reply, reading=Reading(classification="dispute", dispute_reason="pricing"))
    )
    time.sleep(SETTLE)  # the review waits for the invoice (or, before the fix, holds the enrollment)
    let_go.set()
    for thread in (holder, payment, review):
        thread.join(20)
    assert not any(thread.is_alive() for thread in (holder, payment, review))
    assert errors == [], errors  # a deadlock aborts one of them with DeadlockDetected
    reply.refresh_from_db()
    enrollment.refresh_from_db()
    assert reply.classification == "dispute"
    assert (enrollment.status, enrollment.stop_reason) == ("completed", "paid")
