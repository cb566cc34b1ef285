"""The webhook's processing task, run inline in eager mode (the README's debugging mode), can fail without
failing the webhook request: Nylas gets its 200, the delivery stays unprocessed for the sweep."""

import json
import logging

import pytest

from connections.models import WebhookDelivery
from connections.signals import reply_received
from connections.tasks import sweep_webhook_deliveries
from tests.connections.test_webhooks import URL, message_created, sign
from tests.factories.connections import EmailConnectionFactory


@pytest.fixture
def failing_reply_receiver():
    def _fail(**kwargs):
        raise RuntimeError("receiver exploded")

    reply_received.connect(_fail, dispatch_uid="test-enqueue-failing-receiver")
    yield
    reply_received.disconnect(dispatch_uid="test-enqueue-failing-receiver")


# transaction=True: the on_commit hook runs inside the request, as it does in production.
@pytest.mark.django_db(transaction=True)
def test_eager_mode_a_failing_task_does_not_fail_the_webhook(
    anon, company, eager_as_configured, failing_reply_receiver, caplog
):
    EmailConnectionFactory(company=company, email="ar@seller.example", grant_id="g-1")
    raw = json.dumps(message_created()).encode()
    with caplog.at_level(logging.ERROR, logger="daylit.enqueue"):
        response = anon.post(URL, data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=sign(raw))
    assert response.status_code == 200, response.content
    assert "connections.process_webhook_delivery" in caplog.text and "receiver exploded" in caplog.text
    delivery = WebhookDelivery.objects.get()
    assert delivery.processed_at is None  # rolled back with the receiver's error: left for the sweep
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=delivery.received_at.replace(year=2000))
    sweep_webhook_deliveries()
    delivery.refresh_from_db()
    assert delivery.outcome == "error: RuntimeError: receiver exploded"
