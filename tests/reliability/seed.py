"""A company with one of everything, so path ids and body ids can hit real objects."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from daylit.models import Company, Member
from enrollments.models import ScheduledStep
from events.models import Event
from outreach_queue.services import queue_rows_promote
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory, DisputeFactory, InvoiceFactory, PromiseFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.events import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.factories.outreach_queue import ReplyFactory, SuppressionFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

Status = ScheduledStep.Status


@dataclass
class Seeded:
    company: Company
    member: Member
    ids: dict[str, str] = field(default_factory=dict)  # path parameter name -> an object id

    @property
    def all_ids(self) -> set[str]:
        return set(self.ids.values())


def seed_company(*, company: Company, member: Member, customers: int = 3) -> Seeded:
    """Customers with open invoices, the member's email connection, an active sequence with three steps
    (reminder, call, task), a draft sequence, enrollments and queue rows in every live state, a webhook
    endpoint with a failed delivery."""
    sender = EmailConnectionFactory(company=company, member=member)
    sequence = SequenceFactory(
        company=company, status="active", sender_connection=sender, timezone="America/New_York"
    )
    steps = [
        SequenceStepFactory(sequence=sequence, step_type=kind, offset_days=3 * i, label=f"{kind} step")
        for i, kind in enumerate(["reminder", "call", "task"])
    ]
    draft = SequenceFactory(company=company, status="draft")
    SequenceStepFactory(sequence=draft)
    people = [CustomerFactory(company=company, ar_owner=member) for _ in range(customers)]
    invoices = [InvoiceFactory(customer=c, company=company, amount_due=Decimal("420.00")) for c in people]
    past = timezone.now() - datetime.timedelta(minutes=5)
    future = timezone.now() + datetime.timedelta(days=3)
    enrollment = EnrollmentFactory(
        sequence=sequence, company=company, customer=people[0], invoice=invoices[0]
    )
    rows = {
        "reminder": ScheduledStepFactory(enrollment=enrollment, step=steps[0], scheduled_for=past),
        "call": ScheduledStepFactory(enrollment=enrollment, step=steps[1], scheduled_for=past),
        "task": ScheduledStepFactory(enrollment=enrollment, step=steps[2], scheduled_for=future),
    }
    second = EnrollmentFactory(sequence=sequence, company=company, customer=people[1])
    ScheduledStepFactory(enrollment=second, step=steps[0], scheduled_for=future)
    queue_rows_promote(company=company)
    for row in rows.values():
        row.refresh_from_db()
    assert rows["reminder"].status == Status.READY, rows["reminder"].error
    # A webhook endpoint (a public https URL) with one failed delivery: retry and ping have work to do.
    endpoint = WebhookEndpointFactory(company=company)
    webhook_delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status="failed", attempts=13, next_attempt_at=None, last_error="HTTP 500"
    )
    # An open promise on the first invoice and an open dispute on the second: cancel and resolve have
    # work to do (the first positive call does it, later ones are the 409 of a settled object).
    promise = PromiseFactory(
        invoice=invoices[0], promised_date=timezone.now().date() + datetime.timedelta(days=7)
    )
    dispute = DisputeFactory(invoice=invoices[1])
    # A reply to the sent row to review, and a suppressed address to read and remove.
    reply = ReplyFactory(row=rows["reminder"], enrollment=rows["reminder"].enrollment)
    suppression = SuppressionFactory(company=company)
    return Seeded(
        company=company,
        member=member,
        ids={
            "company_id": str(company.id),
            "customer_id": str(people[0].id),
            "invoice_id": str(invoices[0].id),
            "connection_id": str(sender.id),
            "sequence_id": str(sequence.id),
            "draft_sequence_id": str(draft.id),
            "step_id": str(steps[0].id),
            "enrollment_id": str(enrollment.id),
            "row_id": str(rows["reminder"].id),
            "call_row_id": str(rows["call"].id),
            "member_id": str(member.id),
            "webhook_endpoint_id": str(endpoint.id),
            "webhook_delivery_id": str(webhook_delivery.id),
            "promise_id": str(promise.id),
            "dispute_id": str(dispute.id),
            "reply_id": str(reply.id),
            "email": suppression.email,
            # Promotion recorded queue_row.ready events: a real cursor for the event lists.
            "event_id": str(Event.objects.filter(company=company).values_list("id", flat=True)[0]),
        },
    )
