"""Webhook bodies Nylas (or anyone holding the secret) can send that once gave a 500, a needless 400, or a
delivery that could never be processed. Helpers and payload shapes come from test_webhooks.py.
"""

import json

import pytest

from connections.models import WebhookDelivery
from enrollments.models import Enrollment
from tests.connections.test_webhooks import (
    URL,
    grant_expired,
    sign,
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
