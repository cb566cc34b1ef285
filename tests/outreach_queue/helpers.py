"""Builders shared by the queue tests: a company with a sender, a sequence and due rows."""

import datetime
from decimal import Decimal

from django.utils import timezone

from enrollments.models import ScheduledStep
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

Status = ScheduledStep.Status


def past(minutes: int = 5) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def sequence_with_sender(company, member=None, **fields):
    sender = EmailConnectionFactory(company=company, member=member)
    return SequenceFactory(company=company, status="active", sender_connection=sender, **fields)


def due_row(
    company, *, sequence=None, customer=None, step_type="reminder", status=Status.SCHEDULED, **fields
):
    """A row of a fresh enrollment; the customer gets one open invoice so templates render."""
    sequence = sequence or sequence_with_sender(company)
    if customer is None:
        customer = CustomerFactory(company=company)
        InvoiceFactory(customer=customer, amount_due=Decimal("100.00"))
    enrollment = EnrollmentFactory(sequence=sequence, company=company, customer=customer)
    step = SequenceStepFactory(sequence=sequence, step_type=step_type)
    fields.setdefault("scheduled_for", past())
    return ScheduledStepFactory(enrollment=enrollment, step=step, status=status, **fields)


def ready_row(company, **kwargs):
    """A promoted reminder, as a person would find it in the ready tab."""
    row = due_row(company, **kwargs)
    from outreach_queue.services import queue_rows_promote

    queue_rows_promote(company=company)
    row.refresh_from_db()
    assert row.status == Status.READY, row.error
    return row
