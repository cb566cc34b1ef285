"""Events from the connections app's paths: `email_connection.updated` (PATCH, revoke, OAuth connect and
reconnect, Nylas grant webhooks, admin), and what Nylas mail webhooks cause in the apps above:
`reply.received`, the stops on reply and bounce (`enrollment.completed`, `queue_row.cancelled`).
Each is recorded once, in the transaction of the change; nothing for a change refused or repeated."""

import json

import pytest
import responses
from django.urls import reverse

from connections import webhooks
from connections.api.serializers import EmailConnectionSerializer
from connections.models import EmailConnection, WebhookDelivery
from enrollments.models import Enrollment, ScheduledStep
from events.models import Event
from events.types import (
    EMAIL_CONNECTION_UPDATED,
    ENROLLMENT_COMPLETED,
    QUEUE_ROW_CANCELLED,
    REPLY_RECEIVED,
)
from outreach_queue.api.serializers import ReplySerializer
from outreach_queue.models import Reply
from sequences.models import Sequence
from tests.conftest import company_url
from tests.connections.conftest import NYLAS_URI
from tests.connections.test_oauth import CALLBACK, TOKEN_URL, start, state_of, token_response
from tests.connections.test_webhooks import (
    URL,
    bounce,
    envelope,
    grant_expired,
    message_created,
    sign,
    thread_replied,
)
from tests.events.emission import event_data, recorded
from tests.events.helpers import as_api_json
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db


def api_connection(connection_id) -> dict:
    return as_api_json(EmailConnectionSerializer(EmailConnection.objects.get(pk=connection_id)).data)


def assert_updated_once(connection) -> dict:
    assert recorded() == [(EMAIL_CONNECTION_UPDATED, connection.pk)]
    data = event_data(EMAIL_CONNECTION_UPDATED, connection.pk)
    assert data == api_connection(connection.pk)
    return data


# --- email_connection.updated through the API -----------------------------------------------------------


def test_patching_shared_sending_records_updated_only_when_it_changes(api, company, member):
    connection = EmailConnectionFactory(company=company, member=member)
    url = company_url(company, f"email-connections/{connection.pk}")
    response = api.patch(url, {"allow_shared_sending": True}, format="json")
    assert response.status_code == 200
    assert assert_updated_once(connection) == response.json()
    assert api.patch(url, {"allow_shared_sending": True}, format="json").status_code == 200  # no change
    assert api.patch(url, {}, format="json").status_code == 200
    assert len(recorded()) == 1


def test_a_refused_patch_or_revoke_records_nothing(plain_api, company, member):
    connection = EmailConnectionFactory(company=company, member=member)  # not plain_member's
    url = company_url(company, f"email-connections/{connection.pk}")
    assert plain_api.patch(url, {"allow_shared_sending": True}, format="json").status_code == 403
    assert plain_api.post(f"{url}/revoke").status_code == 403
    assert recorded() == []


def test_revoking_records_updated_once(api, company, member):
    connection = EmailConnectionFactory(company=company, member=member)
    response = api.post(company_url(company, f"email-connections/{connection.pk}/revoke"))
    assert response.status_code == 200
    assert assert_updated_once(connection)["status"] == "revoked"
    assert api.post(company_url(company, f"email-connections/{connection.pk}/revoke")).status_code == 200
    assert len(recorded()) == 1


@responses.activate
def test_a_revoke_nylas_refuses_records_nothing(api, company, member, nylas_on):
    connection = EmailConnectionFactory(company=company, member=member, grant_id="g-down")
    responses.delete(f"{NYLAS_URI}/v3/grants/g-down", status=502, body="<html>bad gateway</html>")
    assert api.post(company_url(company, f"email-connections/{connection.pk}/revoke")).status_code == 502
    assert recorded() == []


@responses.activate
def test_connecting_through_oauth_records_updated_for_the_new_connection(api, anon, company, nylas_on):
    responses.post(TOKEN_URL, json=token_response())
    response = anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))})
    assert response.status_code == 201
    connection = EmailConnection.objects.get()
    assert assert_updated_once(connection) == response.json()


@responses.activate
def test_reconnecting_records_updated_when_the_connection_changes(api, anon, company, member, nylas_on):
    existing = EmailConnectionFactory(company=company, member=member, grant_id="grant-new", status="error")
    responses.post(TOKEN_URL, json=token_response(email=existing.email))
    response = anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))})
    assert response.status_code == 200
    assert assert_updated_once(existing)["status"] == "active"
    # The same grant again, nothing to change: no event.
    assert anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))}).status_code == 200
    assert len(recorded()) == 1


@responses.activate
def test_a_connect_refused_with_409_records_nothing(api, anon, company, other_company, nylas_on):
    EmailConnectionFactory(company=other_company, grant_id="grant-new")
    responses.post(TOKEN_URL, json=token_response())
    assert anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))}).status_code == 409
    assert recorded() == []


# --- email_connection.updated from admin ----------------------------------------------------------------


def test_changing_a_connection_in_admin_records_updated(admin_client, company):
    connection = EmailConnectionFactory(company=company)
    url = reverse("admin:connections_emailconnection_change", args=[connection.pk])
    form = {
        "company": str(company.pk),
        "member": "",
        "email": connection.email,
        "provider": connection.provider,
        "status": "error",
    }
    assert admin_client.post(url, form).status_code == 302
    assert assert_updated_once(connection)["status"] == "error"
    assert admin_client.post(url, form).status_code == 302  # saved again unchanged: no event
    assert len(recorded()) == 1


# --- Nylas webhooks -------------------------------------------------------------------------------------


@pytest.fixture
def deliver(anon, django_capture_on_commit_callbacks, eager_celery):
    """POST a signed envelope the way Nylas does and run the processing task it enqueues."""

    def _deliver(body: dict):
        raw = json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = anon.post(
                URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw)
            )
        assert response.status_code == 200
        return response

    return _deliver


@pytest.fixture
def connection(company):
    return EmailConnectionFactory(company=company, email="AR@seller.example", grant_id="g-1")


@pytest.fixture
def sent_row(company, connection):
    """A sent email in thread t-1 (message m-1) of an enrollment on an invoice, a later step scheduled."""
    sequence = SequenceFactory(company=company, status="active")
    enrollment = EnrollmentFactory(sequence=sequence)
    Enrollment.objects.filter(pk=enrollment.pk).update(invoice=InvoiceFactory(customer=enrollment.customer))
    row = ScheduledStepFactory(
        enrollment=enrollment,
        status="sent",
        sender_connection=connection,
        provider_message_id="m-1",
        provider_thread_id="t-1",
    )
    later = ScheduledStepFactory(enrollment=enrollment)
    Event.objects.all().delete()
    row.later = later
    return row


@pytest.mark.parametrize(("event_type", "status"), [("grant.expired", "error"), ("grant.deleted", "revoked")])
def test_grant_webhooks_record_updated_once(deliver, connection, event_type, status):
    body = (
        grant_expired() if event_type == "grant.expired" else envelope("grant.deleted", {"grant_id": "g-1"})
    )
    deliver(body)
    assert assert_updated_once(connection)["status"] == status
    deliver({**body, "id": "notif-again"})  # a second notice: the status is already that
    assert len(recorded()) == 1


def test_an_invalid_grant_update_records_updated(deliver, connection):
    deliver(envelope("grant.updated", {"grant_id": "g-1", "grant_status": "invalid"}))
    assert assert_updated_once(connection)["status"] == "error"
    deliver(envelope("grant.updated", {"grant_id": "g-1", "grant_status": "valid"}))  # ignored
    assert len(recorded()) == 1


def test_a_reply_stops_its_enrollment_and_its_event_says_so(deliver, sent_row):
    deliver(message_created())
    reply = Reply.objects.get()
    assert recorded() == [  # the reply's event comes once it has acted, and says what it did
        (ENROLLMENT_COMPLETED, sent_row.enrollment_id),
        (QUEUE_ROW_CANCELLED, sent_row.later.pk),
        (REPLY_RECEIVED, reply.pk),
    ]
    data = event_data(REPLY_RECEIVED, reply.pk)
    assert data == as_api_json(ReplySerializer(reply).data)
    enrollment = Enrollment.objects.get(pk=sent_row.enrollment_id)
    assert data == {
        "id": str(reply.pk),
        "customer_id": str(sent_row.customer_id),
        "enrollment_id": str(sent_row.enrollment_id),
        "invoice_id": str(enrollment.invoice_id),
        "from_email": "ap@customer.example",
        "subject": "Re: Invoice INV-1 is due",
        "received_at": "2025-11-26T12:26:40.000000Z",  # the message's `date`
        "text": "We paid yesterday",
        "classification": "other",
        "confidence": data["confidence"],
        "return_date": None,
        "promised_date": None,
        "promised_amount": None,
        "action": "stopped",
        "reviewed_at": None,
    }
    assert event_data(ENROLLMENT_COMPLETED, enrollment.pk)["stop_reason"] == "replied"
    assert Event.objects.get(subject_id=reply.pk).enrollment_id == enrollment.pk  # on its timeline


def test_the_same_reply_reported_again_records_nothing_more(deliver, sent_row):
    deliver(message_created())
    deliver(thread_replied())  # Nylas's other notification of the same message m-reply
    deliver(message_created())  # a new notification id, same message
    assert Reply.objects.count() == 1
    assert len(recorded(REPLY_RECEIVED)) == 1 and len(recorded(ENROLLMENT_COMPLETED)) == 1


def test_a_thread_replied_notification_alone_records_a_reply(deliver, sent_row):
    deliver(thread_replied(thread_id=""))
    reply = Reply.objects.get()
    assert reply.provider_message_id == "m-reply" and reply.row_id == sent_row.pk
    assert recorded(REPLY_RECEIVED) == [(REPLY_RECEIVED, reply.pk)]
    assert event_data(REPLY_RECEIVED, reply.pk)["received_at"] == "2025-11-26T12:26:40.000000Z"


def test_a_reply_to_a_sequence_that_keeps_going_is_still_recorded(deliver, sent_row):
    Sequence.objects.filter(pk=sent_row.sequence_id).update(stop_on_reply=False)
    deliver(message_created())
    assert recorded() == [(REPLY_RECEIVED, Reply.objects.get().pk)]
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


def test_what_is_not_a_reply_records_nothing(deliver, sent_row):
    deliver(message_created(message_id="m-1", sender="alias@seller.example"))  # our own sent message
    deliver(message_created(sender="ar@SELLER.example", message_id="m-2"))  # from the mailbox itself
    deliver(message_created(thread_id="t-elsewhere", message_id="m-3"))  # no sent row in that thread
    deliver(thread_replied(from_self=True))
    assert recorded() == [] and not Reply.objects.exists()


def test_a_bounce_stops_the_enrollment_without_a_row_event(deliver, sent_row):
    deliver(bounce())
    assert recorded() == [
        (ENROLLMENT_COMPLETED, sent_row.enrollment_id),
        (QUEUE_ROW_CANCELLED, sent_row.later.pk),
    ]
    assert event_data(ENROLLMENT_COMPLETED, sent_row.enrollment_id)["stop_reason"] == "bounced"
    row = ScheduledStep.objects.get(pk=sent_row.pk)
    assert row.status == "sent" and row.error.startswith("bounced")  # its status did not change
    deliver({**bounce(), "id": "notif-again"})
    assert len(recorded()) == 2


def test_a_webhook_whose_processing_fails_leaves_no_event(anon, sent_row, monkeypatch):
    """The work and its events commit with the delivery's `processed_at`, or not at all."""
    raw = json.dumps(message_created()).encode()
    anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))  # not run
    delivery = WebhookDelivery.objects.get()
    real = webhooks.handle_event

    def crash_after_the_work(**kwargs):
        raise RuntimeError(f"crashed after: {real(**kwargs)}")

    monkeypatch.setattr(webhooks, "handle_event", crash_after_the_work)
    with pytest.raises(RuntimeError, match="stopped 1 enrollment"):
        webhooks.webhook_delivery_process(delivery_id=delivery.pk)
    assert recorded() == [] and not Reply.objects.exists()
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
