"""Faults with real processes and threads: a webhook worker SIGKILLed mid-delivery (its claim stays, the
lease runs out, the sweep sends the delivery again with the same `webhook-id`: at least once, the
receiver sees that id twice), and dispatchers racing for one endpoint."""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from daylit.embedded_pg.server import connection_url
from events.delivery import deliveries_dispatch
from events.models import WebhookDelivery
from tests.factories.events import WebhookDeliveryFactory
from tests.fakes.webhook_receiver import Hang

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import django
django.setup()
from events.tasks import deliver_webhook
deliver_webhook.run({delivery_id!r})
"""


def worker_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NYLAS_", "AI_", "WEBHOOK_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DATABASE_URL=connection_url(connection),
        CELERY_BROKER_URL="memory://",
        DAYLIT_VAR_DIR=str(tmp_path),
        WEBHOOK_ALLOW_HTTP="true",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        LOG_LEVEL="WARNING",
    )
    return env


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_leaves_a_claim_the_sweep_delivers_again(
    endpoint, receiver, queue, tmp_path
):
    row = WebhookDeliveryFactory(endpoint=endpoint)
    now = row.created_at
    (claimed,) = queue.dispatch(now)
    receiver.script(Hang(60))  # the receiver has it, the worker waits for the answer...
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER.format(delivery_id=claimed)],
        cwd=ROOT,
        env=worker_env(tmp_path),
        stderr=open(log, "w"),  # noqa: SIM115 (closed with the process)
    )
    try:
        for _ in range(300):
            if receiver.received or worker.poll() is not None:
                break
            time.sleep(0.05)
        assert receiver.received, "the worker never reached the receiver: " + log.read_text()
    finally:
        worker.send_signal(signal.SIGKILL)  # ...and dies before recording anything.
        worker.wait(timeout=10)

    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.PENDING and row.attempts == 0
    assert row.attempt_started_at is not None and row.locked_until is not None  # the claim it left
    started = row.attempt_started_at
    assert queue.dispatch(started + datetime.timedelta(seconds=30)) == []  # the lease still holds

    after_lease = row.locked_until + datetime.timedelta(seconds=1)
    assert queue.drain(after_lease) == [WebhookDelivery.Status.DELIVERED]
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == str(row.event.id)
    assert first.raw == second.raw
    row.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookDelivery.Status.DELIVERED, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_claim_past_an_endpoints_cap(endpoint, sent_tasks, settings):
    """Dispatchers of one endpoint take turns (its row locked, then counted in a fresh snapshot)."""
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 3
    now = timezone.now()
    WebhookDeliveryFactory.create_batch(40, endpoint=endpoint, next_attempt_at=now)
    start = threading.Barrier(4)

    def dispatcher():
        start.wait(10)
        try:
            for _ in range(5):
                deliveries_dispatch(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    claimed = WebhookDelivery.objects.filter(locked_until__gt=now).count()
    assert claimed == 3
    assert len([name for name, _ in sent_tasks if name == "events.deliver_webhook"]) == 3
