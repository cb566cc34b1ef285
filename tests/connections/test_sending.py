import json

import pytest
import requests
import responses

from connections.models import EmailConnection, OutboxMessage
from connections.sending import (
    PermanentSendError,
    RetryableSendError,
    send_email,
    sender_connection_authorize,
)
from daylit.errors import BadRequest, Forbidden
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import MemberFactory
from tests.fakes.nylas import fake_nylas  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

API = "https://api.nylas.test"


def _send(connection, key="key-1", **extra):
    return send_email(
        connection=connection,
        to_email="ap@customer.example",
        subject="Invoice INV-1",
        body_plain="Please pay",
        body_html="<p>Please pay</p>",
        idempotency_key=key,
        **extra,
    )


@pytest.fixture
def nylas_api(settings):
    settings.NYLAS_API_KEY = "test-key"
    settings.NYLAS_API_URI = API
    with responses.RequestsMock() as mocked:
        yield mocked


def test_send_returns_ids_and_carries_the_idempotency_key(nylas_api):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(
        f"{API}/v3/grants/g1/messages/send",
        json={"request_id": "r1", "data": {"id": "m1", "grant_id": "g1", "thread_id": "t1"}},
        match=[responses.matchers.header_matcher({"Idempotency-Key": "key-1"})],
    )
    sent = _send(connection, reply_to_message_id="m0")
    assert (sent.message_id, sent.thread_id) == ("m1", "t1")
    body = json.loads(nylas_api.calls[0].request.body)
    assert body["to"] == [{"email": "ap@customer.example"}]
    assert body["subject"] == "Invoice INV-1" and body["body"] == "<p>Please pay</p>"
    assert body["reply_to_message_id"] == "m0"


def test_plain_only_email_is_sent_as_plaintext(nylas_api):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(
        f"{API}/v3/grants/g1/messages/send", json={"request_id": "r", "data": {"id": "m1", "grant_id": "g1"}}
    )
    sent = send_email(
        connection=connection,
        to_email="a@b.example",
        subject="s",
        body_plain="text",
        body_html="",
        idempotency_key="k",
    )
    body = json.loads(nylas_api.calls[0].request.body)
    assert body["is_plaintext"] is True and body["body"] == "text"
    assert "reply_to_message_id" not in body
    assert sent.thread_id == ""


def _error(status, error_type="api_error"):
    return {"request_id": "r", "error": {"type": error_type, "message": f"boom {status}"}}


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_permanent_failures(nylas_api, status):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(f"{API}/v3/grants/g1/messages/send", status=status, json=_error(status))
    with pytest.raises(PermanentSendError) as caught:
        _send(connection)
    assert str(status) in caught.value.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(nylas_api, status):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(f"{API}/v3/grants/g1/messages/send", status=status, json=_error(status))
    with pytest.raises(RetryableSendError) as caught:
        _send(connection)
    assert not caught.value.rate_limited


def test_429_is_retryable_and_honours_retry_after(nylas_api):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(
        f"{API}/v3/grants/g1/messages/send",
        status=429,
        json=_error(429, "rate_limit_error"),
        headers={"Retry-After": "7"},
    )
    with pytest.raises(RetryableSendError) as caught:
        _send(connection)
    assert caught.value.retry_after == 7 and caught.value.rate_limited


def test_concurrent_idempotent_request_is_retryable_but_payload_mismatch_is_not(nylas_api):
    connection = EmailConnectionFactory(grant_id="g1")
    url = f"{API}/v3/grants/g1/messages/send"
    nylas_api.post(url, status=409, json=_error(409, "api.concurrent_idempotent_request"))
    nylas_api.post(url, status=409, json=_error(409, "api.invalid_idempotent_request"))
    with pytest.raises(RetryableSendError):
        _send(connection)
    with pytest.raises(PermanentSendError):
        _send(connection)


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError("refused")],
    ids=["timeout", "connection-error"],
)
def test_network_failures_are_retryable(nylas_api, failure):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(f"{API}/v3/grants/g1/messages/send", body=failure)
    with pytest.raises(RetryableSendError):
        _send(connection)


def test_non_json_answer_is_retryable(nylas_api):
    connection = EmailConnectionFactory(grant_id="g1")
    nylas_api.post(f"{API}/v3/grants/g1/messages/send", status=502, body="<html>bad gateway</html>")
    with pytest.raises(RetryableSendError) as caught:
        _send(connection)
    assert "not JSON" in caught.value.reason


def test_same_key_twice_against_fake_nylas_delivers_once(fake_nylas):  # noqa: F811
    connection = EmailConnectionFactory(grant_id="g-fake")
    first = _send(connection, key="row-1")
    second = _send(connection, key="row-1")
    assert first == second
    assert len(fake_nylas.requests) == 2 and len(fake_nylas.deliveries) == 1


def test_timeout_after_delivery_then_retry_is_replayed(fake_nylas, settings):  # noqa: F811
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    connection = EmailConnectionFactory(grant_id="g-fake")
    fake_nylas.fail_next(deliver_then_hang=1.0)
    with pytest.raises(RetryableSendError):
        _send(connection, key="row-2")
    sent = _send(connection, key="row-2")
    assert len(fake_nylas.deliveries) == 1
    assert sent.message_id == fake_nylas.deliveries[0]["message_id"]


def test_outbox_transport_records_once_per_key_and_threads_replies(settings):
    settings.NYLAS_API_KEY = ""
    connection = EmailConnectionFactory()
    first = _send(connection, key="k1")
    assert _send(connection, key="k1") == first
    reply = _send(connection, key="k2", reply_to_message_id=first.message_id)
    assert OutboxMessage.objects.count() == 2
    assert reply.thread_id == first.thread_id and reply.message_id != first.message_id
    record = OutboxMessage.objects.get(message_id=reply.message_id)
    assert record.reply_to_message_id == first.message_id and record.from_email == connection.email


class TestSenderRules:
    def test_no_connection_is_400(self, member):
        with pytest.raises(BadRequest):
            sender_connection_authorize(connection=None, member=member, sequence_sender_id=None)

    def test_own_connection_is_allowed(self, member):
        own = EmailConnectionFactory(company=member.company, member=member)
        assert sender_connection_authorize(connection=own, member=member, sequence_sender_id=None) == own

    def test_sequence_sender_and_shared_are_allowed(self, member):
        other = MemberFactory(company=member.company)
        theirs = EmailConnectionFactory(company=member.company, member=other)
        shared = EmailConnectionFactory(company=member.company, member=other, allow_shared_sending=True)
        assert sender_connection_authorize(connection=theirs, member=member, sequence_sender_id=theirs.id)
        assert sender_connection_authorize(connection=shared, member=member, sequence_sender_id=None)

    def test_someone_elses_private_connection_is_403(self, member):
        theirs = EmailConnectionFactory(company=member.company, member=MemberFactory(company=member.company))
        with pytest.raises(Forbidden):
            sender_connection_authorize(connection=theirs, member=member, sequence_sender_id=None)

    def test_inactive_connection_is_403_even_if_own(self, member):
        own = EmailConnectionFactory(
            company=member.company, member=member, status=EmailConnection.Status.REVOKED
        )
        with pytest.raises(Forbidden):
            sender_connection_authorize(connection=own, member=member, sequence_sender_id=own.id)
