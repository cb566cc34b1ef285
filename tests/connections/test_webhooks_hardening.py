"""Webhook bodies Nylas (or anyone holding the secret) can send that once gave a 500, a needless 400, or a
delivery that could never be processed. Helpers and payload shapes come from test_webhooks.py.
"""

import copy
import json
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.db import DataError
from django.utils import timezone
from nylas.models.errors import NylasApiError, NylasApiErrorResponse, NylasApiErrorResponseData

from connections import tasks, upstream
from connections.models import WebhookDelivery
from connections.signals import reply_received
from connections.tasks import sweep_webhook_deliveries
from connections.webhooks import handle_event
from daylit.errors import exception_handler
from enrollments.models import Enrollment
from tests.connections.test_webhooks import (
    URL,
    bounce,
    envelope,
    grant_expired,
    message_created,
    sign,
    thread_replied,
)
from tests.factories.connections import EmailConnectionFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_raw(anon, django_capture_on_commit_callbacks, eager_celery):
    """POST raw bytes, validly signed, and run the enqueued task."""

    def _post(raw: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))

    return _post


@pytest.fixture
def connection(company):
    return EmailConnectionFactory(company=company, email="ar@seller.example", grant_id="g-1")


@pytest.fixture
def sent_row(company, connection):
    enrollment = EnrollmentFactory(sequence=SequenceFactory(company=company, status="active"))
    return ScheduledStepFactory(
        enrollment=enrollment,
        status="sent",
        sender_connection=connection,
        provider_message_id="m-1",
        provider_thread_id="t-1",
    )


def post_json(post_raw, body: dict):
    return post_raw(json.dumps(body).encode())


def enrollment_status(row) -> str:
    return Enrollment.objects.get(pk=row.enrollment_id).status


# --- 6: nesting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [50_000, 990, 200])
def test_deeply_nested_body_is_400_not_500(post_raw, depth):
    raw = b'{"id": "n-deep", "type": "message.created", "data": ' + b"[" * depth + b"]" * depth + b"}"
    response = post_raw(raw)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert not WebhookDelivery.objects.exists()


def test_moderate_nesting_is_accepted(post_raw, connection):
    body = grant_expired()
    body["data"]["object"]["extra"] = json.loads("[" * 30 + "]" * 30)
    assert post_json(post_raw, body).status_code == 200


# --- 7: odd shapes never raise, and a poison delivery does not block the sweep ----------------------------

ODD_VALUES = [5, True, 1.5, None, "", "x", [], {}, [1, "a", None], {"email": 5}, [{"email": ["a@b.c"]}]]


@pytest.mark.parametrize("odd", [5, True, 1.5, "ap@customer.example", {"email": "ap@customer.example"}])
def test_message_from_that_is_not_a_list_is_ignored(post_raw, sent_row, odd):
    body = message_created()
    body["data"]["object"]["from"] = odd
    assert post_json(post_raw, body).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.processed_at is not None
    assert delivery.outcome == "ignored: message has no sender"
    assert enrollment_status(sent_row) == "active"


def test_message_from_keeps_the_valid_senders_of_a_mixed_list(post_raw, sent_row):
    body = message_created()
    body["data"]["object"]["from"] = [5, {"email": 7}, None, {"email": "ap@customer.example"}]
    post_json(post_raw, body)
    assert WebhookDelivery.objects.get().outcome == "other: stopped 1 enrollment"


def test_every_field_of_every_handled_event_tolerates_odd_values(sent_row):
    """Replace each field the handlers read (object, data, origin) with each odd value: never an exception."""
    events = [message_created(), thread_replied(), bounce(), grant_expired()]
    events.append(envelope("grant.updated", {"grant_id": "g-1", "grant_status": "invalid"}))
    events.append(envelope("grant.deleted", {"grant_id": "g-1"}))
    checked = 0
    for event in events:
        paths = [("data",), ("data", "object")]
        paths += [("data", "object", key) for key in event["data"]["object"]]
        paths += [("data", key) for key in event["data"] if key != "object"]
        if "origin" in event["data"]["object"]:
            paths += [("data", "object", "origin", key) for key in event["data"]["object"]["origin"]]
        for path in paths:
            for odd in ODD_VALUES:
                body = copy.deepcopy(event)
                target = body
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = odd
                assert isinstance(handle_event(event_type=body["type"], envelope=body), str), (path, odd)
                checked += 1
    assert checked > 300


@pytest.fixture
def failing_reply_receiver():
    """A receiver above connections that fails on every reply (a bug there, or a payload it chokes on)."""

    def _fail(**kwargs):
        raise RuntimeError("receiver exploded")

    reply_received.connect(_fail, dispatch_uid="test-failing-receiver")
    yield
    reply_received.disconnect(dispatch_uid="test-failing-receiver")


def _stale_delivery(notification_id: str, body: dict, minutes: int) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        notification_id=notification_id, event_type=body["type"], grant_id="g-1", payload=body
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=minutes)
    )
    return delivery


def test_sweep_marks_a_failing_delivery_processed_with_its_error(connection, failing_reply_receiver):
    poison = _stale_delivery("n-poison", message_created(), minutes=10)
    assert sweep_webhook_deliveries() == 0
    poison.refresh_from_db()
    assert poison.processed_at is not None
    assert poison.outcome == "error: RuntimeError: receiver exploded"
    assert sweep_webhook_deliveries() == 0  # not picked up again


def test_poison_deliveries_do_not_block_newer_lost_ones(connection, failing_reply_receiver, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 1)  # one poison message fills the whole batch
    poison = _stale_delivery("n-poison", message_created(), minutes=20)
    lost = _stale_delivery("n-lost", grant_expired(), minutes=10)
    sweep_webhook_deliveries()
    sweep_webhook_deliveries()
    poison.refresh_from_db()
    lost.refresh_from_db()
    assert poison.outcome.startswith("error:")
    assert lost.processed_at is not None and lost.outcome == "connection status set to error"


# --- 8: bodies once refused by the database --------------------------------------------------------------


@pytest.mark.parametrize("length", [101, 255])
def test_long_event_type_is_recorded_and_ignored(post_raw, length):
    event_type = "x" * length
    response = post_json(post_raw, envelope(event_type, {"grant_id": "g-1"}))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == event_type
    assert delivery.outcome.startswith("ignored: unhandled event type xxx")


def test_event_type_over_255_characters_is_400(post_raw):
    response = post_json(post_raw, envelope("x" * 256, {"grant_id": "g-1"}))
    assert response.status_code == 400 and response.json()["code"] == "invalid_envelope"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def test_nul_characters_are_stripped_and_the_reply_is_acted_on(post_raw, sent_row):
    body = message_created()
    body["id"] = "notif-\x00nul"
    body["data"]["object"]["snippet"] = "We paid\x00 yesterday"
    body["data"]["object"]["headers\x00"] = [{"na\x00me": "X-\x00"}]
    body["data"]["object"]["from"][0]["name"] = "A\x00P"
    response = post_json(post_raw, body)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert not _has_nul(delivery.payload) and delivery.notification_id == "notif-nul"
    assert delivery.payload["data"]["object"]["snippet"] == "We paid yesterday"
    assert delivery.outcome == "other: stopped 1 enrollment"
    assert enrollment_status(sent_row) == "completed"


def test_lone_surrogate_in_a_string_is_accepted(post_raw, sent_row):
    raw = json.dumps(message_created()).replace('"We paid yesterday"', '"We paid \\ud800 yesterday"')
    response = post_raw(raw.encode())
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().outcome == "other: stopped 1 enrollment"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400_bad_json(post_raw, constant):
    raw = json.dumps(grant_expired()).replace('"webhook_delivery_attempt": 1', f'"x": {constant}')
    response = post_raw(raw.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json" and "NaN" in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()


def test_a_database_data_error_is_a_400_in_the_error_shape():
    response = exception_handler(DataError("value too long for type character varying(100)"), {})
    assert response.status_code == 400
    assert response.data == {
        "detail": "A value is out of range or not valid for its field.",
        "code": "invalid_value",
    }


# --- P3: one envelope parser, one Retry-After parser -----------------------------------------------------


def test_grant_id_that_is_not_a_string_is_not_stored_as_its_repr(post_raw, connection):
    body = grant_expired()
    body["data"]["object"]["grant_id"] = {"id": "g-1"}
    body["data"]["grant_id"] = " g-1 "
    assert post_json(post_raw, body).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.grant_id == "g-1" and delivery.outcome == "connection status set to error"


def test_grant_id_of_no_usable_kind_is_stored_empty(post_raw):
    body = grant_expired()
    body["data"]["object"]["grant_id"] = ["g-1"]
    post_json(post_raw, body)
    delivery = WebhookDelivery.objects.get()
    assert delivery.grant_id == "" and delivery.outcome == "ignored: no grant id"


def _rate_limited(retry_after: str) -> NylasApiError:
    error = NylasApiErrorResponse(
        request_id="r", error=NylasApiErrorResponseData(type="rate", message="slow")
    )
    return NylasApiError(error, status_code=429, headers={"Retry-After": retry_after})


def test_retry_after_accepts_delta_seconds_and_http_dates():
    assert upstream.retry_after_seconds({"Retry-After": "30"}) == 30
    assert upstream.retry_after_seconds({"Retry-After": " 7 "}) == 7
    future = format_datetime(timezone.now() + timedelta(hours=1), usegmt=True)
    assert 3000 < upstream.retry_after_seconds({"Retry-After": future}) <= 3600
    past = format_datetime(timezone.now() - timedelta(hours=1), usegmt=True)
    assert upstream.retry_after_seconds({"Retry-After": past}) == 0
    for junk in ("soon", "-5", "", "1.5"):
        assert upstream.retry_after_seconds({"Retry-After": junk}) is None
    assert upstream.retry_after_seconds(None) is None and upstream.retry_after_seconds({}) is None


def test_rate_limit_with_an_http_date_keeps_its_retry_after():
    future = format_datetime(timezone.now() + timedelta(minutes=10), usegmt=True)
    error = upstream.nylas_error_to_domain(_rate_limited(future), action="revoke the grant")
    assert error.status_code == 503 and 500 < error.retry_after <= 600


def test_a_number_too_large_for_a_float_is_400_not_500(client, settings):
    import hashlib
    import hmac

    raw = b'{"id": "n-inf", "type": "message.created", "data": {"object": {"size": 1e400}}}'
    signature = hmac.new(settings.NYLAS_WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/webhooks/nylas", data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=signature
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_json"
