import pytest

from daylit.celery import app as celery_app
from events import delivery
from tests.factories.events import WebhookEndpointFactory
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
def local_targets(settings):
    """A receiver on 127.0.0.1 over plain http is a target (both WEBHOOK_ALLOW_* on)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def receiver(local_targets):
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(company, receiver):
    """An enabled endpoint of `company`, subscribed to everything, whose secret `receiver` knows."""
    endpoint = WebhookEndpointFactory(company=company, url=receiver.url)
    receiver.secrets = [endpoint.secret]
    return endpoint


class WebhooksQueue:
    """The `webhooks` Celery queue run by hand on a fake clock: what dispatch enqueues is recorded at
    the broker boundary (`send_task`), and `deliver` runs each task's service at a given time."""

    def __init__(self, sent: list, capture):
        self.sent = sent
        self.capture = capture

    def new_deliveries(self, since: int) -> list[str]:
        return [args[0] for name, args in self.sent[since:] if name == delivery.DELIVER_TASK]

    def dispatch(self, now, **kwargs) -> list[str]:
        """Run the dispatcher at `now`; the delivery ids it enqueued a task for."""
        since = len(self.sent)
        with self.capture(execute=True):
            delivery.deliveries_dispatch(now=now, **kwargs)
        return self.new_deliveries(since)

    def deliver(self, delivery_id, now, chain_seconds: float = 0) -> str | None:
        """One deliver task at `now`; by default it hands the next delivery to a new task at once."""
        with self.capture(execute=True):
            return delivery.delivery_deliver(delivery_id=delivery_id, now=now, chain_seconds=chain_seconds)

    def drain(self, now) -> list[str | None]:
        """Dispatch at `now`, then run every deliver task, and those their successes enqueue."""
        pending = self.dispatch(now)
        outcomes = []
        while pending:
            since = len(self.sent)
            outcomes.append(self.deliver(pending.pop(0), now))
            pending += self.new_deliveries(since)
        return outcomes


@pytest.fixture
def sent_tasks(monkeypatch):
    """Every task handed to the broker, as (name, args): the broker boundary, nothing else faked."""
    sent = []

    def send_task(name, args=(), countdown=None, **kwargs):
        sent.append((name, list(args)))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


@pytest.fixture
def queue(sent_tasks, django_capture_on_commit_callbacks):
    return WebhooksQueue(sent_tasks, django_capture_on_commit_callbacks)
