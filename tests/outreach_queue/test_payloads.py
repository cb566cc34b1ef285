"""The `queue_row` and `reply` payload queries (outreach_queue/payloads.py) give exactly what the API's
serializers give, for rows in every state and for replies."""

import datetime

import pytest
from django.utils import timezone

from daylit.models import Company
from enrollments.models import ScheduledStep
from enrollments.payloads import QUEUE_ROW
from events.types import QUEUE_ROW_READY, REPLY_RECEIVED
from outreach_queue import selectors, services
from outreach_queue.api.serializers import QueueRowSerializer, ReplySerializer
from outreach_queue.models import Reply
from outreach_queue.payloads import REPLY
from tests.events.emission import payload
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.outreach_queue.helpers import Status, due_row, ready_row

pytestmark = pytest.mark.django_db


def api_row(row) -> dict:
    return as_api_json(QueueRowSerializer(selectors.queue_row_get(company=row.company, row_id=row.pk)).data)


def assert_payload_is_the_api_row(row) -> dict:
    event = payload(type=QUEUE_ROW_READY, subject_type=QUEUE_ROW, obj_id=row.pk)
    assert event.data == api_row(row)
    assert (event.company_id, event.customer_id, event.enrollment_id) == (
        row.company_id,
        row.customer_id,
        row.enrollment_id,
    )
    return event.data


def test_a_scheduled_row_with_its_nulls(company):
    row = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=2))
    data = assert_payload_is_the_api_row(row)
    assert data["status"] == "scheduled" and data["ready_at"] is None and data["sender_connection_id"] is None


def test_a_ready_reminder_with_its_rendered_email(company):
    row = ready_row(company)
    data = assert_payload_is_the_api_row(row)
    assert data["status"] == "ready" and data["subject"] and data["ready_at"].endswith("Z")


def test_a_sent_row_with_sender_and_provider_ids(company, member, fake_nylas):
    row = ready_row(company)
    sent = services.queue_row_send(row=row, member=member)
    assert sent.status == Status.SENT
    data = assert_payload_is_the_api_row(sent)
    assert data["sender_connection_id"] == str(row.sequence.sender_connection_id)
    assert data["provider_message_id"] and data["processed_at"]


def test_a_failed_row_and_a_completed_call_with_notes(company):
    failed = due_row(company, status=Status.FAILED, error='Could not render: "x" is undefined')
    assert_payload_is_the_api_row(failed)
    call = ready_row(company, step_type="call")
    done = services.queue_row_complete(
        row=call, notes="Promised to pay Friday \u2014 \u00e9t\u00e9 \U0001f4b8"
    )
    assert assert_payload_is_the_api_row(done)["notes"].endswith("\U0001f4b8")


def test_a_generated_draft_with_microsecond_times(company):
    row = ready_row(company)
    ScheduledStep.objects.filter(pk=row.pk).update(
        generated=True,
        prompt_version="drafts-v2",
        body_html="<p>Hello &amp; <b>welcome</b></p>\n",
        scheduled_for=datetime.datetime(2026, 3, 8, 7, 0, 0, 123456, tzinfo=datetime.UTC),
        ready_at=datetime.datetime(2026, 3, 8, 7, 0, tzinfo=datetime.UTC),
    )
    data = assert_payload_is_the_api_row(row)
    assert data["scheduled_for"] == "2026-03-08T07:00:00.123456Z"
    assert data["ready_at"] == "2026-03-08T07:00:00.000000Z"


@pytest.mark.parametrize("with_invoice", [True, False])
def test_a_reply_is_the_reply_serializers_shape(company, with_invoice):
    row = due_row(company, status=Status.SENT, provider_message_id="m-1", provider_thread_id="t-1")
    invoice = InvoiceFactory(customer=row.customer) if with_invoice else None
    reply = Reply.objects.create(
        company=company,
        customer=row.customer,
        enrollment=row.enrollment,
        invoice=invoice,
        row=row,
        provider_message_id="m-2",
        provider_thread_id="t-1",
        from_email="ap@customer.example",
        subject="Re: Invoice \u201cINV-1\u201d",
        text="We paid yesterday.\nThanks",
        received_at=datetime.datetime(2026, 11, 26, 12, 0, 5, tzinfo=datetime.UTC),
    )
    event = payload(type=REPLY_RECEIVED, subject_type=REPLY, obj_id=reply.pk)
    assert event.data == as_api_json(ReplySerializer(reply).data)
    assert (event.customer_id, event.enrollment_id) == (row.customer_id, row.enrollment_id)
    assert event.data["invoice_id"] == (str(invoice.pk) if invoice else None)


def test_a_row_moved_by_the_calendar_carries_its_schedule_note(company):
    row = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=2))
    ScheduledStep.objects.filter(pk=row.pk).update(
        schedule_note="2026-12-28 is a holiday in GB-ENG: Boxing Day (substitute) \u2014 \u00e9t\u00e9"
    )
    data = assert_payload_is_the_api_row(row)
    assert data["schedule_note"].startswith("2026-12-28 is a holiday") and data["warnings"] == []


def test_a_ready_reminder_within_the_companys_gap_carries_the_warning(company):
    Company.objects.filter(pk=company.pk).update(min_hours_between_emails=24)
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer)
    sent_at = timezone.now() - datetime.timedelta(hours=5, minutes=10)
    due_row(company, customer=customer, status=Status.SENT, scheduled_for=sent_at, processed_at=sent_at)
    row = ready_row(company, customer=customer)
    data = assert_payload_is_the_api_row(row)
    assert data["warnings"] == [
        "An email went to this customer 5 hours ago; auto-send waits 24 hours between emails (company "
        "setting), a person may still send."
    ]
    assert data["schedule_note"] is None
