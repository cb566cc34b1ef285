"""A reply the rules cannot read goes to the AI provider before the webhook delivery's transaction: while
the provider thinks, the worker holds no transaction open and no lock, and what it read is what acts."""

import datetime
import json
import threading
import time

import pytest
from django.db import connection as db
from django.utils import timezone

from connections import webhooks
from connections.signals import reply_arriving
from daylit.collections_models import Promise
from outreach_queue.models import Reply
from tests.connections.test_webhooks import message_created
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db(transaction=True)

THINKING = 1.0  # seconds the fake provider takes to answer


def _open_transactions() -> list[str]:
    """Other sessions of this database that sit inside a transaction."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        )
        return [state for (state,) in cursor.fetchall()]


def sent_email(company, name: str):
    """An enrollment whose email went out from mailbox g-<name>, in thread t-<name>; returns it."""
    mailbox = EmailConnectionFactory(company=company, grant_id=f"g-{name}")
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    ScheduledStepFactory(
        enrollment=enrollment,
        status="sent",
        sender_connection=mailbox,
        provider_message_id=f"m-{name}",
        provider_thread_id=f"t-{name}",
        processed_at=timezone.now(),
    )
    return enrollment


def test_the_ai_reads_a_reply_outside_the_deliverys_transaction(company, fake_ai):
    enrollment = sent_email(company, "ahead")
    invoice = InvoiceFactory(customer=enrollment.customer)
    promised = (timezone.now() + datetime.timedelta(days=9)).date()
    fake_ai.answer(
        json.dumps(
            {
                "classification": "promise",
                "confidence": 0.9,
                "promised_date": str(promised),
                "promised_amount": None,
                "dispute_reason": None,
            }
        ),
        delay=THINKING,
    )
    body = message_created(grant_id="g-ahead", thread_id="t-ahead")
    body["data"]["object"].update(body="<p>Our payment run is next week; you will have it then.</p>")
    delivery, _ = webhooks.webhook_delivery_record(
        envelope=webhooks.parse_envelope(json.dumps(body).encode())
    )
    outcome = {}

    def process():
        try:
            outcome["value"] = webhooks.webhook_delivery_process(delivery_id=delivery.pk)
        finally:
            db.close()

    worker = threading.Thread(target=process)
    worker.start()
    deadline = time.monotonic() + 10
    while not fake_ai.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_ai.requests, "the provider was never asked"
    during = _open_transactions()  # the provider has the request and is still thinking
    worker.join(timeout=30)

    assert during == []
    assert outcome["value"].startswith("promise"), outcome
    reply = Reply.objects.get()
    assert (reply.classification, reply.classified_by, reply.promised_date) == ("promise", "ai", promised)
    assert Promise.objects.get(invoice=invoice).promised_date == promised
    assert len(fake_ai.requests) == 1  # read once, ahead; not again inside the transaction

    # Nylas reports the same message again (a new notification): it is recorded, so nobody reads it.
    body["id"] = "notif-repeat"
    repeat, _ = webhooks.webhook_delivery_record(envelope=webhooks.parse_envelope(json.dumps(body).encode()))
    assert repeat.pk != delivery.pk
    assert webhooks.webhook_delivery_process(delivery_id=repeat.pk).startswith("ignored"), repeat.pk
    assert len(fake_ai.requests) == 1 and Reply.objects.count() == 1


def test_a_failing_read_ahead_loses_no_reply(company, caplog):
    """A receiver of `reply_arriving` that raises (a bug, a database error) is logged and left out: the
    reply is read inside the delivery's transaction instead, and acts."""
    enrollment = sent_email(company, "broken")

    def broken_reader(**kwargs):
        raise RuntimeError("reader bug")

    body = message_created(grant_id="g-broken", thread_id="t-broken")
    body["data"]["object"].update(body="<p>Thanks, we will look into it and come back to you.</p>")
    delivery, _ = webhooks.webhook_delivery_record(
        envelope=webhooks.parse_envelope(json.dumps(body).encode())
    )
    reply_arriving.connect(broken_reader, dispatch_uid="test-broken-reader")
    try:
        outcome = webhooks.webhook_delivery_process(delivery_id=delivery.pk)
    finally:
        reply_arriving.disconnect(dispatch_uid="test-broken-reader")

    reply = Reply.objects.get()
    assert reply.row.enrollment_id == enrollment.pk
    delivery.refresh_from_db()
    assert delivery.processed_at is not None and delivery.outcome == outcome
    assert not delivery.outcome.startswith("error"), delivery.outcome
    assert "reading a reply ahead failed" in caplog.text and "reader bug" in caplog.text
