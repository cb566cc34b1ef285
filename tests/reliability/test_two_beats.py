"""Two beat schedulers at once (a deployment that runs two by mistake): every periodic task is sent
twice, and still no row is promoted, sent or recorded twice.

Real processes over Redis: two `celery beat` with the queue's periodic tasks every second, one worker
(threads), the fake Nylas in this process. Promotion and the auto-send plan run under one lock
(daylit.periodic); the reconciler and the rest are idempotent by construction (conditional UPDATEs);
each row's send is claimed once whatever the number of tasks.
"""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from daylit.embedded_pg.server import connection_url
from daylit.periodic import PERIODIC_LOCK_CLASS
from enrollments.models import ScheduledStep
from events.models import Event
from events.types import QUEUE_ROW_READY, QUEUE_ROW_SENT
from outreach_queue import tasks
from tests.outreach_queue.helpers import Status, due_row, sequence_with_sender

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/12"
PREFIX_OPTIONS = (
    'app.conf.broker_transport_options = {"global_keyprefix": sys.argv[1], "visibility_timeout": 3600}'
)
BEAT = f"""
import sys
from daylit.celery import app
{PREFIX_OPTIONS}
every_second = ["queue.promote_due", "queue.reconcile_sending", "queue.compact_status_counts"]
app.conf.beat_schedule = {{name: {{"task": name, "schedule": 1.0}} for name in every_second}}
app.start(["beat", "--schedule", sys.argv[2], "--loglevel", "WARNING"])
"""
WORKER = f"""
import sys
from daylit.celery import app
{PREFIX_OPTIONS}
app.worker_main(["worker", "-Q", "celery", "-n", sys.argv[2], "--pool", "threads", "--concurrency", "8",
                 "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def test_a_periodic_task_skips_while_another_run_holds_its_lock(company, django_db_blocker):
    sequence = sequence_with_sender(company, auto_send=True)
    row = due_row(company, sequence=sequence)
    with django_db_blocker.unblock(), _other_session() as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext('queue.promote_due'))", [PERIODIC_LOCK_CLASS])
        assert tasks.promote_due.run() is None  # the other run is doing this pass
        other.execute("SELECT pg_advisory_unlock(%s, hashtext('queue.promote_due'))", [PERIODIC_LOCK_CLASS])
    assert tasks.promote_due.run() == 1
    row.refresh_from_db()
    assert row.status == Status.READY


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_promote_send_and_record_each_row_once(company, fake_nylas, tmp_path):
    sequences = [sequence_with_sender(company, auto_send=True) for _ in range(2)]
    rows = [due_row(company, sequence=sequences[i % 2]) for i in range(12)]
    prefix = f"two-beats-{uuid.uuid4().hex[:8]}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NYLAS_", "AI_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DATABASE_URL=connection_url(connection),
        CELERY_BROKER_URL=BROKER,
        DAYLIT_VAR_DIR=str(tmp_path),
        NYLAS_API_KEY="test-nylas-key",
        NYLAS_API_URI=fake_nylas.url,
        LOG_LEVEL="WARNING",
    )
    commands = [
        [BEAT, prefix, str(tmp_path / "beat-a")],
        [BEAT, prefix, str(tmp_path / "beat-b")],
        [WORKER, prefix, f"two-beats-{prefix[10:-1]}@%h"],
    ]
    logs = [tmp_path / f"process-{i}.log" for i in range(len(commands))]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", *command],
            cwd=ROOT,
            env=env,
            stdout=open(log, "w"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
        for command, log in zip(commands, logs, strict=True)
    ]
    ids = [row.pk for row in rows]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if ScheduledStep.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids):
                break
            time.sleep(0.2)
        time.sleep(3)  # both beats keep sending their tasks: nothing more may happen
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        _drop_keys(prefix)
    output = "\n".join(log.read_text()[-2000:] for log in logs)
    assert ScheduledStep.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids), output
    assert len(fake_nylas.deliveries) == len(ids)
    assert Counter(d["key"] for d in fake_nylas.deliveries).most_common(1)[0][1] == 1
    events = Counter(
        (event_type, subject)
        for event_type, subject in Event.objects.filter(subject_id__in=ids).values_list("type", "subject_id")
    )
    assert {t for t, _ in events} == {QUEUE_ROW_READY, QUEUE_ROW_SENT}
    assert len(events) == 2 * len(ids) and set(events.values()) == {1}, events


@contextlib.contextmanager
def _other_session():
    """A second database session (its own connection), as another worker's would be."""
    import psycopg

    with psycopg.connect(connection_url(connection), autocommit=True) as other:
        yield other


def _drop_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
