"""A queue support staff would recognise, for the admin tests: customers by name, one row whose send
failed and waits to be retried, one ready to cancel, one that failed to render, a call, a future step."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from daylit.errors import UpstreamError
from enrollments.models import ScheduledStep
from outreach_queue import services
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceStepFactory
from tests.outreach_queue.helpers import past, sequence_with_sender

PASSWORD = "support-pw"


@dataclass
class Queue:
    retrying: ScheduledStep  # Acme Rockets: Nylas answered 503, the row is ready with the reason
    to_cancel: ScheduledStep  # Bluebird Bakery: ready
    render_failed: ScheduledStep  # Crimson Consulting: its template divides by zero
    call: ScheduledStep  # Acme Rockets: a ready call
    upcoming: ScheduledStep  # Acme Rockets: due in three days


def _row(enrollment, *, when=None, **step_fields):
    step = SequenceStepFactory(sequence=enrollment.sequence, **step_fields)
    return ScheduledStepFactory(enrollment=enrollment, step=step, scheduled_for=when or past())


def _enrolled(sequence, name):
    customer = CustomerFactory(
        company=sequence.company, name=name, email=f"ap@{name.split()[0].lower()}.example"
    )
    InvoiceFactory(customer=customer, amount_due=Decimal("1250.00"))
    return EnrollmentFactory(sequence=sequence, company=sequence.company, customer=customer)


def build_queue(company, fake_nylas) -> Queue:
    sequence = sequence_with_sender(company, name="Net-30 reminders", timezone="America/Chicago")
    acme, bluebird, crimson = (
        _enrolled(sequence, name) for name in ("Acme Rockets", "Bluebird Bakery", "Crimson Consulting")
    )
    html = "<p>Hello <b>{{ customer.name }}</b>, invoice {{ invoice.number }} is due.</p>"
    retrying = _row(acme, label="Day 0 reminder", body_html_template=html)
    call = _row(acme, label="Day 5 call", step_type="call")
    upcoming = _row(acme, label="Day 10 reminder", when=timezone.now() + datetime.timedelta(days=3))
    to_cancel = _row(bluebird, label="Day 0 reminder")
    render_failed = _row(crimson, label="Day 3 reminder", body_plain_template="{{ invoice.amount_due / 0 }}")
    services.queue_rows_promote(company=company)
    fake_nylas.fail_next(status=503)
    with pytest.raises(UpstreamError):
        services.queue_row_send(row=retrying, member=None)
    for row in (retrying, to_cancel, render_failed, call, upcoming):
        row.refresh_from_db()
    return Queue(retrying, to_cancel, render_failed, call, upcoming)


def superuser():
    return get_user_model().objects.create_superuser("support", "support@example.com", PASSWORD)
