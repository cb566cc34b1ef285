"""Faults, each with the guarantee that holds through it.

- The broker is down while the API enqueues: the API still answers, the row is kept, a periodic
  task picks it up once the broker is back.
- The web process's PostgreSQL connection is killed (pg_terminate_backend, as a server restart does):
  the next request succeeds (CONN_HEALTH_CHECKS), against a real gunicorn process.
- A worker is SIGKILLed while a row is `sending`, after Nylas delivered: the reconciler resends with
  the same Idempotency-Key, Nylas replays, the row ends `sent` with the one message: never sent twice.
- Nylas answers 429, 500, slowly, or with garbage: the API answers 503/502 (never 500), the row stays
  `ready` with the reason, and the retry delivers exactly once.
"""

import contextlib
import datetime
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from connections.models import EmailConnection, WebhookDelivery
from connections.tasks import sweep_webhook_deliveries
from daylit.embedded_pg.server import connection_url
from daylit.services import api_token_issue
from enrollments.models import ScheduledStep
from outreach_queue.services import queue_rows_auto_send_plan, queue_rows_reconcile_sending
from outreach_queue.tasks import auto_send_row, promote_due
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory
from tests.outreach_queue.helpers import Status, due_row, ready_row, sequence_with_sender
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def subprocess_env(**extra) -> dict:
    """Settings for a child process on the test database (the test's rows are committed: transaction=True)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NYLAS_", "AI_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DATABASE_URL=connection_url(connection),
        CELERY_BROKER_URL="memory://",
        API_THROTTLE_RATE="off",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


# --- broker down ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_broker_down_webhook_is_answered_and_the_sweep_acts_on_it(client, company, settings, broker):
    sender = EmailConnectionFactory(company=company, grant_id="grant-broker-down")
    envelope = {
        "specversion": "1.0",
        "type": "grant.expired",
        "id": f"notif-{uuid.uuid4()}",
        "time": 1764160000,
        "data": {"object": {"grant_id": sender.grant_id, "code": 25009}},
    }
    raw = json.dumps(envelope).encode()
    signature = hmac.new(settings.NYLAS_WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()

    broker.down()
    response = client.post(
        "/api/webhooks/nylas", data=raw, content_type="application/json", HTTP_X_NYLAS_SIGNATURE=signature
    )
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get(notification_id=envelope["id"])
    assert delivery.processed_at is None
    sender.refresh_from_db()
    assert sender.status == EmailConnection.Status.ACTIVE  # nothing acted on it yet

    broker.up()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert sweep_webhook_deliveries() == 1
    sender.refresh_from_db()
    assert sender.status == EmailConnection.Status.ERROR
    assert sweep_webhook_deliveries() == 0


@pytest.mark.django_db(transaction=True)
def test_broker_down_during_promotion_loses_no_row(company, fake_nylas, broker):
    sequence = sequence_with_sender(company, auto_send=True)
    row = due_row(company, sequence=sequence)

    broker.down()
    with contextlib.suppress(BrokerDown):
        promote_due()  # the row is readied and committed before the enqueue fails
    row.refresh_from_db()
    assert row.status == Status.READY

    broker.up()
    assert [plan.row_id for plan in queue_rows_auto_send_plan()] == [row.pk]  # the next beat picks it up
    assert auto_send_row.run(str(row.pk)) == Status.SENT
    auto_send_row.run(str(row.pk))  # a duplicate task (the enqueue was retried) sends nothing more
    assert len(fake_nylas.deliveries) == 1


# --- database connection killed under the web process -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_killed_database_connection_the_next_request_succeeds(company, member, tmp_path):
    _, key = api_token_issue(user=member.user)
    CustomerFactory(company=company)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "daylit.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=subprocess_env(DAYLIT_VAR_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}" + company_url(company, "customers")

    def get() -> int:
        request = urllib.request.Request(url, headers={"Authorization": f"Token {key}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        for _ in range(100):
            try:
                status = get()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert status == 200
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchall(), "the web process held no connection to kill"
        assert [get() for _ in range(3)] == [200, 200, 200]
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- worker killed while a row is `sending` -------------------------------------------------------

WORKER = """
import django
django.setup()
from outreach_queue.tasks import auto_send_row
auto_send_row.run({row_id!r})
"""


@pytest.mark.django_db(transaction=True)
def test_worker_killed_while_sending_is_reconciled_without_a_second_delivery(company, fake_nylas, tmp_path):
    sequence = sequence_with_sender(company, auto_send=True)
    row = ready_row(company, sequence=sequence)
    fake_nylas.fail_next(deliver_then_hang=60)  # Nylas delivers, the worker waits for the answer...
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER.format(row_id=str(row.pk))],
        cwd=ROOT,
        env=subprocess_env(
            DAYLIT_VAR_DIR=str(tmp_path),
            NYLAS_API_KEY="test-nylas-key",
            NYLAS_API_URI=fake_nylas.url,
            NYLAS_TIMEOUT_SECONDS="120",
        ),
        stderr=open(tmp_path / "worker.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    try:
        for _ in range(300):
            if fake_nylas.deliveries or worker.poll() is not None:
                break
            time.sleep(0.1)
        assert fake_nylas.deliveries, (
            "the worker never reached Nylas: " + (tmp_path / "worker.log").read_text()
        )
    finally:
        worker.send_signal(signal.SIGKILL)  # ...and dies before recording it.
        worker.wait(timeout=10)
    row.refresh_from_db()
    assert row.status == Status.SENDING, (row.status, row.error, (tmp_path / "worker.log").read_text())

    later = timezone.now() + datetime.timedelta(minutes=10)
    assert queue_rows_reconcile_sending(now=later) == {"resent": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.provider_message_id == fake_nylas.deliveries[0]["message_id"]
    assert len(fake_nylas.deliveries) == 1
    assert len({request["key"] for request in fake_nylas.requests}) == 1
    assert queue_rows_reconcile_sending(now=later) == {"resent": 0, "failed": 0}


# --- Nylas misbehaving ----------------------------------------------------------------------------

RATE_LIMITED = {"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow down"}}


@pytest.mark.parametrize(
    "fault, expected_status",
    [
        (dict(status=429, body=RATE_LIMITED, headers={"Retry-After": "7"}), 503),
        (dict(status=500), 502),
        (dict(status=503, body=b"<html>upstream unavailable</html>"), 502),
        (dict(status=200, body=b'{"request_id": "r", "data": {"id": '), 502),  # truncated JSON
        (dict(status=200, body=b'["not", "an", "object"]'), 502),
        (dict(deliver_then_hang=1.0), 502),  # slower than NYLAS_TIMEOUT_SECONDS
    ],
    ids=["429", "500", "503-html", "truncated-json", "wrong-json", "slow"],
)
@pytest.mark.django_db(transaction=True)
def test_nylas_faults_answer_5xx_gateway_codes_and_the_retry_delivers_once(
    api, company, fake_nylas, settings, fault, expected_status
):
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    row = ready_row(company)
    url = company_url(company, f"sequences/queue/{row.pk}/send")
    fake_nylas.fail_next(**fault)

    response = api.post(url, {}, format="json")
    assert response.status_code == expected_status
    assert response.json()["code"] in ("upstream_error", "rate_limited")
    if expected_status == 503:
        assert response["Retry-After"] == "7"
    row.refresh_from_db()
    assert row.status == Status.READY and row.error

    retry = api.post(url, {}, format="json")
    assert retry.status_code == 200 and retry.json()["status"] == Status.SENT
    assert len(fake_nylas.deliveries) == 1
    assert len({request["key"] for request in fake_nylas.requests}) == 1
    assert ScheduledStep.objects.get(pk=row.pk).provider_message_id == fake_nylas.deliveries[0]["message_id"]
