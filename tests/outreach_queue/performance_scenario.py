"""A sequence with a month of history, for the performance page's tests (admin and browser): an
experiment on its first reminder (two variants and a holdout), a second reminder, a call, payments in
two currencies and a few replies. Every figure the tests read is written next to what makes it."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from daylit.models import Invoice
from enrollments.models import Enrollment, ScheduledStep
from sequences.models import HOLDOUT_KEY, Sequence, SequenceStep
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.outreach_queue import ReplyFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

Status = ScheduledStep.Status
FRIENDLY, FIRM = "friendly", "firm"
# Enrollments per arm of the first reminder, and how many of each paid (after `PAID_AFTER` days).
ARMS = {FRIENDLY: 12, FIRM: 10, HOLDOUT_KEY: 3}
PAID = {FRIENDLY: 6, FIRM: 3, HOLDOUT_KEY: 1}
PAID_AFTER = {FRIENDLY: 3, FIRM: 10, HOLDOUT_KEY: 2}
STARTED = sum(ARMS.values())  # 25 enrollments, all started 21 days ago
FIRST_SENT = ARMS[FRIENDLY] + ARMS[FIRM]  # 22: the holdout's rows are cancelled, never sent
SECOND_SENT = 8  # the second reminder went to 8 of the enrollments that had not paid
CALLS_DONE = 2
EUR_AMOUNT = Decimal("800.00")  # one of the firm arm's invoices is in euros; every other is 1,250 USD
USD_COLLECTED = "USD 11,250.00"  # (6 + 2 + 1) × 1,250
EUR_COLLECTED = "EUR 800.00"


@dataclass
class Scenario:
    sequence: Sequence
    experiment: SequenceStep
    second: SequenceStep
    call: SequenceStep


def _variant(key: str) -> dict:
    return {
        "key": key,
        "weight": 50,
        "subject_template": f"[{key}] Invoice {{{{ invoice.number }}}}",
        "body_plain_template": "Hello {{ customer.name }}",
        "body_html_template": "",
    }


def build_performance(company, *, name: str = "Net-30 reminders") -> Scenario:
    now = timezone.now()
    started, first_at = now - datetime.timedelta(days=21), now - datetime.timedelta(days=20)
    sequence = SequenceFactory(company=company, name=name, status="active", timezone="America/Chicago")
    experiment = SequenceStepFactory(
        sequence=sequence,
        label="Day 0 reminder",
        variants=[_variant(FRIENDLY), _variant(FIRM)],
        holdout_percent=10,
    )
    second = SequenceStepFactory(sequence=sequence, label="Day 7 reminder", offset_days=7)
    call = SequenceStepFactory(sequence=sequence, label="Day 9 call", step_type="call", offset_days=9)
    unpaid = []
    for key, count in ARMS.items():
        for index in range(count):
            paid = index < PAID[key]
            currency, amount = ("EUR", EUR_AMOUNT) if key == FIRM and index == 0 else ("USD", Decimal("1250"))
            paid_at = first_at + datetime.timedelta(days=PAID_AFTER[key]) if paid else None
            customer = CustomerFactory(company=company)
            invoice = InvoiceFactory(
                customer=customer,
                currency=currency,
                amount_due=amount,
                status=Invoice.Status.PAID if paid else Invoice.Status.OPEN,
                paid_at=paid_at,
            )
            enrollment = EnrollmentFactory(
                sequence=sequence,
                customer=customer,
                invoice=invoice,
                status=Enrollment.Status.COMPLETED if paid else Enrollment.Status.ACTIVE,
                stop_reason="paid" if paid else None,
                completed_at=paid_at,
            )
            Enrollment.objects.filter(pk=enrollment.pk).update(created_at=started)
            held_out = key == HOLDOUT_KEY
            row = ScheduledStepFactory(
                enrollment=enrollment,
                step=experiment,
                variant_key=key,
                scheduled_for=first_at,
                ready_at=None if held_out else first_at,
                processed_at=first_at,
                status=Status.CANCELLED if held_out else Status.SENT,
                error="holdout" if held_out else "",
            )
            when = first_at + datetime.timedelta(hours=2)
            if key == FRIENDLY and index in (0, 7):  # two people answered, one mailbox was away
                ReplyFactory(row=row, classification="question", received_at=when)
            if key == FRIENDLY and index == 8:
                ReplyFactory(row=row, classification="auto_reply", received_at=when)
            if not paid:
                unpaid.append(enrollment)
    second_at = now - datetime.timedelta(days=13)
    for enrollment in unpaid[:SECOND_SENT]:
        ScheduledStepFactory(
            enrollment=enrollment,
            step=second,
            scheduled_for=second_at,
            ready_at=second_at,
            processed_at=second_at,
            status=Status.SENT,
        )
    for enrollment in unpaid[:CALLS_DONE]:
        at = now - datetime.timedelta(days=11)
        ScheduledStepFactory(
            enrollment=enrollment,
            step=call,
            scheduled_for=at,
            ready_at=at,
            processed_at=at,
            status=Status.COMPLETED,
        )
    return Scenario(sequence, experiment, second, call)
