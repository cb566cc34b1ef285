"""The whole path a person takes, through the API only: enroll -> promote -> review -> edit -> send ->
threaded follow-up -> complete the call -> the enrollment finishes. Nylas is the fake server."""

import datetime

import pytest

from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory

pytestmark = pytest.mark.django_db


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def test_enroll_review_edit_send_threaded_followup_and_finish(api, company, member, fake_nylas):
    mailbox = EmailConnectionFactory(company=company, member=member, email="ar@seller.example")
    customer = ok(
        api.post(
            company_url(company, "customers"), {"name": "Acme", "email": "ap@acme.example"}, format="json"
        ),
        201,
    )
    invoice = ok(
        api.post(
            company_url(company, "invoices"),
            {
                "customer_id": customer["id"],
                "number": "INV-42",
                "amount_due": "900.00",
                "issue_date": "2026-01-01",
                "due_date": "2026-01-31",
            },
            format="json",
        ),
        201,
    )
    sequence = ok(
        api.post(
            company_url(company, "sequences"),
            {
                "name": "Net-30",
                "timezone": "UTC",
                "send_followups_in_thread": True,
                "sender_connection_id": str(mailbox.id),
            },
            format="json",
        ),
        201,
    )
    steps_url = company_url(company, f"sequences/{sequence['id']}/steps")
    for offset, step_type, subject in [
        (0, "reminder", "Invoice {{ invoice.number }} is due"),
        (3, "reminder", "Second notice"),
        (5, "call", ""),
    ]:
        ok(
            api.post(
                steps_url,
                {
                    "step_type": step_type,
                    "label": f"Day {offset}",
                    "offset_days": offset,
                    "offset_time": "09:00",
                    "subject_template": subject,
                    "body_plain_template": "Hi {{ customer.name }}" if subject else "",
                },
                format="json",
            ),
            201,
        )
    ok(api.post(company_url(company, f"sequences/{sequence['id']}"), {"action": "activate"}, format="json"))
    start = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    enrolled = ok(
        api.post(
            company_url(company, "sequence-enrollments"),
            {
                "sequence_id": sequence["id"],
                "customer_id": customer["id"],
                "invoice_id": invoice["id"],
                "start_date": start,
            },
            format="json",
        ),
        201,
    )
    enrollment_id = enrolled["enrollment"]["id"]

    # Review: reading the queue promotes the due rows, in schedule order.
    ready = ok(api.get(company_url(company, "sequences/queue")))["data"]
    assert [(r["step_type"], r["step_label"]) for r in ready] == [
        ("reminder", "Day 0"),
        ("reminder", "Day 3"),
        ("call", "Day 5"),
    ]
    first, second, call = ready
    assert first["subject"] == "Invoice INV-42 is due" and first["to_email"] == "ap@acme.example"

    # Edit before it goes out, then send.
    row_url = company_url(company, f"sequences/queue/{first['id']}")
    ok(api.patch(row_url, {"subject": "Invoice INV-42: friendly reminder"}, format="json"))
    sent = ok(api.post(f"{row_url}/send", {}, format="json"))
    assert sent["status"] == "sent" and sent["sender_connection_id"] == str(mailbox.id)
    assert fake_nylas.deliveries[0]["subject"] == "Invoice INV-42: friendly reminder"
    assert "reply_to_message_id" not in fake_nylas.deliveries[0]

    # The follow-up is a reply in the same thread, with "Re: <first subject>" recorded on the row.
    followup = ok(api.post(company_url(company, f"sequences/queue/{second['id']}/send"), {}, format="json"))
    delivery = fake_nylas.deliveries[1]
    assert delivery["reply_to_message_id"] == sent["provider_message_id"]
    assert delivery["subject"] == followup["subject"] == "Re: Invoice INV-42: friendly reminder"
    assert followup["provider_thread_id"] == sent["provider_thread_id"]
    assert ok(api.get(company_url(company, f"sequence-enrollments/{enrollment_id}")))["status"] == "active"

    # The call is done: the last open row ends and the enrollment finishes.
    ok(
        api.post(
            company_url(company, f"sequences/queue/{call['id']}/complete"),
            {"notes": "Left voicemail"},
            format="json",
        )
    )
    enrollment = ok(api.get(company_url(company, f"sequence-enrollments/{enrollment_id}")))
    assert enrollment["status"] == "completed" and enrollment["stop_reason"] == "finished"
    history = ok(api.get(company_url(company, "sequences/queue"), {"category": "history"}))["data"]
    assert [r["id"] for r in history] == [call["id"], second["id"], first["id"]]
    assert len(fake_nylas.deliveries) == 2
