"""Nylas webhooks end to end: signature, challenge, recording, and the work the task does.

Payload shapes follow /work/shared/notes/nylas.md (§4) and Nylas's notification reference.
"""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import EmailConnection, WebhookDelivery
from connections.tasks import process_webhook_delivery, sweep_webhook_deliveries
from enrollments.models import Enrollment, ScheduledStep
from tests.factories.connections import EmailConnectionFactory, WebhookDeliveryFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/nylas"
SECRET = "test-webhook-secret"  # daylit.settings_test


def sign(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def envelope(event_type: str, obj: dict, *, notification_id: str | None = None, **data) -> dict:
    return {
        "specversion": "1.0",
        "type": event_type,
        "source": "/google/emails/realtime",
        "id": notification_id or f"notif-{uuid.uuid4()}",
        "time": 1764160000,
        "webhook_delivery_attempt": 1,
        "data": {"application_id": "app-1", "object": obj, **data},
    }


def message_created(*, grant_id="g-1", thread_id="t-1", sender="ap@customer.example", message_id="m-reply"):
    return envelope(
        "message.created",
        {
            "id": message_id,
            "object": "message",
            "grant_id": grant_id,
            "thread_id": thread_id,
            "subject": "Re: Invoice INV-1 is due",
            "from": [{"name": "Accounts Payable", "email": sender}],
            "to": [{"email": "ar@seller.example"}],
            "date": 1764160000,
            "snippet": "We paid yesterday",
            "body": "<p>We paid yesterday</p>",
        },
    )


def thread_replied(*, grant_id="g-1", root_message_id="m-1", thread_id="t-1", from_self=False):
    return envelope(
        "thread.replied",
        {
            "message_id": "m-reply",
            "root_message_id": root_message_id,
            "thread_id": thread_id,
            "label": "outreach:1",
            "reply_data": {"count": 1},
            "reply_to_message_id": root_message_id,
            "from_self": from_self,
            "grant_id": grant_id,
            "timestamp": 1764160000,
        },
    )


def bounce(*, grant_id="g-1", origin_id="m-1"):
    return envelope(
        "message.bounce_detected",
        {
            "bounce_reason": "Mailbox not found",
            "bounce_date": "Wed, 26 Nov 2026 10:00:00 +0000",
            "bounced_addresses": "ap@customer.example",
            "type": "mailbox_unavailable",
            "code": "550",
            "grant_id": grant_id,
            "origin": {
                "to": ["ap@customer.example"],
                "from": "ar@seller.example",
                "subject": "Invoice",
                "id": origin_id,
            },
            "message_id": "m-ndr",
        },
        grant_id=grant_id,
    )


def grant_expired(grant_id="g-1"):
    return envelope(
        "grant.expired",
        {
            "code": 25009,
            "grant_id": grant_id,
            "integration_id": "int-1",
            "provider": "google",
            "email": "ar@seller.example",
            "grant_updated_at": 1764160000,
        },
    )


@pytest.fixture
def deliver(anon, django_capture_on_commit_callbacks, eager_celery):
    """POST a signed envelope the way Nylas does and run what was enqueued after commit."""

    def _deliver(body: dict, *, signature: str | None = None):
        raw = json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = anon.post(
                URL,
                data=raw,
                content_type="application/json",
                HTTP_X_NYLAS_SIGNATURE=signature if signature is not None else sign(raw),
            )
        return response

    return _deliver


@pytest.fixture
def connection(company):
    return EmailConnectionFactory(company=company, email="AR@seller.example", grant_id="g-1")


@pytest.fixture
def sent_row(company, connection):
    """A sent email in thread t-1 (message m-1) and a later step still scheduled, same enrollment."""
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    row = ScheduledStepFactory(
        enrollment=enrollment,
        status="sent",
        sender_connection=connection,
        provider_message_id="m-1",
        provider_thread_id="t-1",
    )
    ScheduledStepFactory(enrollment=enrollment, scheduled_for=timezone.now() + timedelta(days=3))
    return row


def outcome() -> str:
    return WebhookDelivery.objects.get().outcome


# --- challenge and signature ---------------------------------------------------------------------------


def test_challenge_is_echoed_as_plain_text(anon):
    response = anon.get(URL, {"challenge": "abc123-xyz"})
    assert response.status_code == 200
    assert response.content == b"abc123-xyz"
    assert response["Content-Type"].startswith("text/plain")


def test_get_without_challenge_is_400(anon):
    assert anon.get(URL).status_code == 400


def test_missing_signature_is_401(anon):
    raw = json.dumps(grant_expired()).encode()
    response = anon.post(URL, data=raw, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookDelivery.objects.exists()


def test_wrong_signature_is_401(deliver):
    assert deliver(grant_expired(), signature=sign(b"other body")).status_code == 401
    assert (
        deliver(grant_expired(), signature=sign(json.dumps(grant_expired()).encode(), "wrong")).status_code
        == 401
    )
    assert not WebhookDelivery.objects.exists()


def test_signature_over_a_different_body_is_401(anon):
    raw = json.dumps(grant_expired()).encode()
    tampered = raw.replace(b"g-1", b"g-2")
    response = anon.post(
        URL, data=tampered, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw)
    )
    assert response.status_code == 401


def test_uppercase_hex_signature_is_accepted(anon, connection):
    raw = json.dumps(grant_expired()).encode()
    response = anon.post(
        URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw).upper()
    )
    assert response.status_code == 200


def test_valid_signature_is_accepted(deliver, connection):
    response = deliver(grant_expired())
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    assert WebhookDelivery.objects.get().event_type == "grant.expired"


def test_no_secret_configured_is_503(anon, settings):
    settings.NYLAS_WEBHOOK_SECRET = ""
    raw = b"{}"
    response = anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw, ""))
    assert response.status_code == 503


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"type": "message.created"}', "`id`"),
        (b'{"id": "n1", "type": 5}', "`type`"),
    ],
)
def test_bad_json_with_valid_signature_is_400(anon, raw, message):
    response = anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()


def test_the_log_keeps_only_the_start_of_a_long_body(deliver, sent_row):
    long = message_created()
    long["data"]["object"]["body"] = "<p>" + "x" * 50_000 + "</p>"
    deliver(long)
    stored = WebhookDelivery.objects.get().payload["data"]["object"]
    assert len(stored["body"]) == 20_000 and stored["thread_id"] == "t-1"


# --- replies --------------------------------------------------------------------------------------------


def test_reply_in_thread_stops_the_enrollment(deliver, sent_row):
    assert deliver(message_created()).status_code == 200
    enrollment = Enrollment.objects.get(pk=sent_row.enrollment_id)
    assert enrollment.status == "completed" and enrollment.stop_reason == "replied"
    statuses = set(ScheduledStep.objects.filter(enrollment=enrollment).values_list("status", flat=True))
    assert statuses == {"sent", "cancelled"}
    assert outcome() == "other: stopped 1 enrollment"


def test_reply_does_not_stop_when_sequence_keeps_going(deliver, sent_row):
    sent_row.sequence.__class__.objects.filter(pk=sent_row.sequence_id).update(stop_on_reply=False)
    deliver(message_created())
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
    assert outcome() == "other: no enrollment stops on reply"


def test_message_from_the_connections_own_address_is_ignored(deliver, sent_row):
    deliver(message_created(sender="ar@SELLER.example", message_id="m-other"))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
    assert outcome() == "ignored: sent from the connection's own address"


def test_our_own_sent_message_is_not_a_reply(deliver, sent_row):
    deliver(message_created(message_id="m-1", sender="alias@seller.example"))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


def test_message_in_an_unrelated_thread_changes_nothing(deliver, sent_row):
    deliver(message_created(thread_id="t-elsewhere"))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
    assert outcome() == "ignored: no sent row in this thread"


def test_unknown_grant_changes_nothing(deliver, sent_row):
    deliver(message_created(grant_id="g-unknown"))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
    assert outcome() == "ignored: unknown grant"


def test_grant_of_another_company_cannot_stop_our_enrollment(deliver, sent_row, other_company):
    """Another tenant's mailbox reporting a message in 'our' thread id matches none of our rows."""
    EmailConnectionFactory(company=other_company, grant_id="g-foreign")
    deliver(message_created(grant_id="g-foreign"))
    deliver(thread_replied(grant_id="g-foreign"))
    deliver(bounce(grant_id="g-foreign"))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"
    assert ScheduledStep.objects.get(pk=sent_row.pk).error == ""
    assert set(WebhookDelivery.objects.values_list("outcome", flat=True)) == {
        "ignored: no sent row in this thread",
        "ignored: no sent row for the bounced message",
    }


def test_thread_replied_matches_root_message(deliver, sent_row):
    deliver(thread_replied(thread_id=""))
    enrollment = Enrollment.objects.get(pk=sent_row.enrollment_id)
    assert enrollment.status == "completed" and enrollment.stop_reason == "replied"


def test_thread_replied_from_self_is_ignored(deliver, sent_row):
    deliver(thread_replied(from_self=True))
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


def test_reply_to_a_row_not_yet_sent_is_ignored(deliver, sent_row):
    ScheduledStep.objects.filter(pk=sent_row.pk).update(status="sending")
    deliver(message_created())
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


# --- bounces and grants ---------------------------------------------------------------------------------


def test_bounce_marks_the_row_and_stops_the_enrollment(deliver, sent_row):
    deliver(bounce())
    row = ScheduledStep.objects.get(pk=sent_row.pk)
    assert row.error == "bounced: 550 Mailbox not found" and row.status == "sent"
    enrollment = Enrollment.objects.get(pk=sent_row.enrollment_id)
    assert enrollment.status == "completed" and enrollment.stop_reason == "bounced"
    assert outcome() == "bounce recorded; stopped 1 enrollment"


def test_bounce_stops_even_when_sequence_keeps_going_on_reply(deliver, sent_row):
    sent_row.sequence.__class__.objects.filter(pk=sent_row.sequence_id).update(stop_on_reply=False)
    deliver(bounce())
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).stop_reason == "bounced"


def test_bounce_for_unknown_message_changes_nothing(deliver, sent_row):
    deliver(bounce(origin_id="m-unknown"))
    assert ScheduledStep.objects.get(pk=sent_row.pk).error == ""
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


def test_grant_expired_sets_connection_error(deliver, connection):
    deliver(grant_expired())
    connection.refresh_from_db()
    assert connection.status == EmailConnection.Status.ERROR
    assert outcome() == "connection status set to error"


def test_invalid_grant_update_sets_connection_error(deliver, connection):
    deliver(envelope("grant.updated", {"grant_id": "g-1", "grant_status": "invalid", "provider": "google"}))
    connection.refresh_from_db()
    assert connection.status == "error"


def test_grant_expired_does_not_unrevoke(deliver, connection):
    EmailConnection.objects.filter(pk=connection.pk).update(status="revoked")
    deliver(grant_expired())
    connection.refresh_from_db()
    assert connection.status == "revoked"


def test_grant_expired_for_unknown_grant_changes_nothing(deliver, connection):
    deliver(grant_expired("g-nobody"))
    connection.refresh_from_db()
    assert connection.status == "active" and outcome() == "ignored: unknown grant"


def test_unknown_event_is_acknowledged_and_ignored(deliver, sent_row):
    response = deliver(envelope("message.opened", {"message_id": "m-1", "grant_id": "g-1"}))
    assert response.status_code == 200
    assert outcome() == "ignored: unhandled event type message.opened"
    assert Enrollment.objects.get(pk=sent_row.enrollment_id).status == "active"


# --- idempotency and the task ---------------------------------------------------------------------------


def test_duplicate_delivery_is_recorded_once_and_acts_once(deliver, sent_row):
    body = bounce()
    assert deliver(body).json() == {"status": "accepted"}
    first = WebhookDelivery.objects.get()
    ScheduledStep.objects.filter(pk=sent_row.pk).update(error="")  # would reappear if the work ran again
    assert deliver(body).json() == {"status": "duplicate"}
    delivery = WebhookDelivery.objects.get()
    assert delivery.duplicates == 1 and delivery.processed_at == first.processed_at
    assert ScheduledStep.objects.get(pk=sent_row.pk).error == ""


def test_task_called_directly_is_idempotent(connection, sent_row, anon):
    raw = json.dumps(message_created()).encode()
    # Record without running the task (no on_commit capture): the delivery waits, unprocessed.
    anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))
    delivery = WebhookDelivery.objects.get()
    assert delivery.processed_at is None
    assert process_webhook_delivery(str(delivery.id)) == "other: stopped 1 enrollment"
    assert process_webhook_delivery(str(delivery.id)) is None
    assert process_webhook_delivery(str(uuid.uuid4())) is None
    delivery.refresh_from_db()
    assert delivery.outcome == "other: stopped 1 enrollment"


def test_task_through_eager_delay(connection, eager_celery):
    delivery = WebhookDeliveryFactory(grant_id="g-1")
    process_webhook_delivery.delay(str(delivery.id))
    connection.refresh_from_db()
    assert connection.status == "error"


def test_duplicate_of_an_unprocessed_delivery_is_enqueued_again(anon, deliver, connection):
    body = grant_expired()
    raw = json.dumps(body).encode()
    anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))  # task lost
    assert WebhookDelivery.objects.get().processed_at is None
    assert deliver(body).json() == {"status": "duplicate"}
    assert WebhookDelivery.objects.get().processed_at is not None
    connection.refresh_from_db()
    assert connection.status == "error"


def test_sweep_processes_deliveries_whose_task_was_lost(connection):
    delivery = WebhookDelivery.objects.create(
        notification_id="n-lost", event_type="grant.expired", payload=grant_expired()
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    fresh = WebhookDelivery.objects.create(
        notification_id="n-fresh", event_type="grant.expired", payload=grant_expired("g-x")
    )
    assert sweep_webhook_deliveries() == 1
    assert WebhookDelivery.objects.get(pk=fresh.pk).processed_at is None
    assert sweep_webhook_deliveries() == 0
