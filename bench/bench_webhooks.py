"""Webhook delivery: 10,000 events to a local receiver through two real Celery workers, against a
baseline of raw signed POSTs from one process.

    .venv/bin/python bench/bench_webhooks.py [--events 10000] [--workers 2] [--threads 8]
        [--endpoints 1] [--baseline 3000] [--rounds 3] [--strict]

Runs against PostgreSQL (`make bench`: the embedded server's daylit_bench database, or DATABASE_URL),
creating and migrating the database when needed, and Redis at 127.0.0.1:6379 as the broker (db 13,
keys under a prefix of this run, so other runs on the machine do not share its queue). Everything is
on 127.0.0.1:

- the receiver: tests/fakes/webhook_receiver.py in this process (threads), verifying every request
  with `standardwebhooks.Webhook(secret).verify` and recording its `webhook-id`;
- the service path: one `events_record` of N events (one statement, as a bulk change records them)
  fans out to the company's endpoints, wakes the dispatcher after commit, and `--workers` processes
  of `celery worker -Q webhooks --pool threads --concurrency --threads` claim, sign, POST and record
  each delivery (events.delivery), at most WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT per endpoint;
- the baseline: the same bodies signed and POSTed one after another by one process over one
  keep-alive connection (requests), no database: the least a delivery costs here.

The two take turns, `--rounds` times each (default 3). Prints seconds and deliveries/s of both as
median (min-max) and the ratio of medians (target: the service's median >= 300/s). Exits 1 when a
delivery of any round is lost (not delivered, or delivered in the database but never verified by the
receiver) or duplicated (a `webhook-id` received twice); `--strict` also exits 1 on a missed target.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
BROKER = "redis://127.0.0.1:6379/13"
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["WEBHOOK_ALLOW_HTTP"] = "true"
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"

from bench.common import interleaved, median_ratio, print_table, spread  # noqa: E402

TARGET_PER_SECOND = 300
SUBJECT = "bench_item"
WORKER = """
import sys
from daylit.celery import app
app.conf.broker_transport_options = {"global_keyprefix": sys.argv[1], "visibility_timeout": 3600}
app.worker_main(["worker", "-Q", "webhooks", "-n", sys.argv[2], "--pool", "threads",
                 "--concurrency", sys.argv[3], "--loglevel", "WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--endpoints", type=int, default=1, help="endpoints (each gets every event)")
    parser.add_argument("--baseline", type=int, default=3000, help="raw POSTs for the baseline")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of service + baseline")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for a round's deliveries")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from daylit.celery import app
    from tests.fakes.webhook_receiver import WebhookReceiver

    if not _redis_up():
        print(f"bench_webhooks needs Redis at {BROKER} (docker compose up -d redis)")
        return 1
    call_command("ensure_database")
    call_command("migrate", verbosity=0)
    prefix = f"bench-webhooks-{uuid.uuid4().hex[:12]}:"
    app.conf.broker_transport_options = {"global_keyprefix": prefix, "visibility_timeout": 3600}

    receiver = WebhookReceiver().start()
    company, endpoints = _setup(receiver, args.endpoints)
    workers = [
        _start_worker(prefix, f"bench{i}-{prefix[15:-1]}@%h", args.threads) for i in range(args.workers)
    ]
    try:
        _record(company, 20)  # warm-up: workers connected, pools open
        if not _wait(company, receiver, 20 * args.endpoints, timeout=120):
            print("the workers did not deliver the warm-up events")
            _print_worker_logs()
            return 1
        total = args.events * args.endpoints
        outcome = {"lost": 0, "duplicated": 0, "refused": 0, "finished": True}
        cpu_before = sum(_cpu_seconds(w.pid) for w in workers)

        def service_round() -> float:
            _reset(company, receiver)
            started = time.perf_counter()
            _record(company, args.events)
            outcome["finished"] &= _wait(company, receiver, total, timeout=args.timeout)
            seconds = time.perf_counter() - started
            checked = _check(company, receiver, total)
            for key, count in zip(("lost", "duplicated", "refused"), checked, strict=True):
                outcome[key] += count
            return seconds

        # The workers idle while the baseline runs: the machine is the same for both, in turns.
        runs = interleaved(
            {
                "service": service_round,
                "baseline": lambda: _baseline(receiver, endpoints[0], args.baseline),
            },
            rounds=args.rounds,
        )
        worker_cpu = sum(_cpu_seconds(w.pid) for w in workers) - cpu_before
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)

    lost, duplicated, refused, finished = (outcome[k] for k in ("lost", "duplicated", "refused", "finished"))
    receiver.stop()
    _cleanup(company, prefix)

    service_rates = [total / seconds for seconds in runs["service"]]
    baseline_rates = [args.baseline / seconds for seconds in runs["baseline"]]
    service_rate = statistics.median(service_rates)
    print(
        f"\nWebhook delivery: {args.events:,} events x {args.endpoints} endpoint(s) = {total:,} deliveries, "
        f"{args.workers} worker processes x {args.threads} threads, PostgreSQL, Redis, receiver on "
        f"127.0.0.1; {args.rounds} rounds, the service and the baseline in turns"
    )
    print_table(
        ["method", "deliveries", "seconds", "deliveries/s"],
        [
            (
                "service: events_record -> dispatch -> Celery -> POST",
                f"{total:,}",
                spread(runs["service"]),
                spread(service_rates),
            ),
            (
                "baseline: raw signed POSTs, one process",
                f"{args.baseline:,}",
                spread(runs["baseline"]),
                spread(baseline_rates),
            ),
        ],
    )
    print("Seconds and rates are the median (min-max) of the rounds; the ratio is of the medians.")
    print(f"service / baseline: {median_ratio(service_rates, baseline_rates):.2f}x")
    per_delivery = worker_cpu / (total * args.rounds) * 1000
    print(f"worker CPU: {worker_cpu:.1f} s in all, {per_delivery:.1f} ms a delivery")
    print(
        f"lost: {lost}  duplicated: {duplicated}  refused by the receiver: {refused}"
        + ("" if finished else "  (timed out)")
    )
    met = service_rate >= TARGET_PER_SECOND
    print(
        f"target >= {TARGET_PER_SECOND} deliveries/s: {'met' if met else 'MISSED'} "
        f"({service_rate:.0f}/s, the median round)"
    )
    if lost or duplicated or refused or not finished:
        _print_worker_logs()
        return 1
    _remove_worker_dirs()
    return 1 if args.strict and not met else 0


def _setup(receiver, count: int):
    from daylit.models import Company
    from events.subjects import register_subject
    from tests.factories.events import WebhookEndpointFactory

    company = Company.objects.create(name=f"Webhook bench {uuid.uuid4().hex[:8]}")
    # Events about stand-in objects of this company: data about the size of a queue row's.
    register_subject(
        SUBJECT,
        f"""
        SELECT i AS id, '{company.pk}'::uuid AS company_id, NULL::uuid AS customer_id,
               NULL::uuid AS enrollment_id,
               jsonb_build_object('id', i, 'status', 'sent', 'subject', 'Invoice INV-00042 is due',
                                  'to_email', 'ap@customer.example', 'body_plain', repeat('Hello. ', 40))
                 AS data
        FROM unnest(%(ids)s::uuid[]) AS i
        """,
    )
    endpoints = [WebhookEndpointFactory(company=company, url=receiver.url) for _ in range(count)]
    receiver.secrets = [e.secret for e in endpoints]
    return company, endpoints


def _record(company, count: int) -> None:
    from django.db import transaction

    from events.services import events_record
    from events.types import QUEUE_ROW_SENT

    with transaction.atomic():  # the dispatcher is woken after commit
        events_record(type=QUEUE_ROW_SENT, subject_type=SUBJECT, ids=[uuid.uuid4() for _ in range(count)])


def _delivered(company) -> int:
    from events.models import WebhookDelivery

    return WebhookDelivery.objects.filter(endpoint__company=company, status="delivered").count()


def _wait(company, receiver, total: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(receiver.received) >= total and _delivered(company) >= total:
            return True
        time.sleep(0.05)
    return False


def _reset(company, receiver) -> None:
    from events.models import WebhookDelivery

    WebhookDelivery.objects.filter(endpoint__company=company).delete()
    receiver.received.clear()
    receiver.refused.clear()


def _check(company, receiver, total: int) -> tuple[int, int, int]:
    from events.models import WebhookDelivery

    deliveries = WebhookDelivery.objects.filter(endpoint__company=company)
    pairs = Counter((r.webhook_id, secret) for r in receiver.received for secret in r.verified_with[:1])
    expected = {
        (str(event_id), secret)
        for event_id, secret in deliveries.values_list("event__id", "endpoint__secret")
    }
    lost = deliveries.exclude(status="delivered").count() + len(expected - set(pairs))
    duplicated = sum(n - 1 for n in pairs.values() if n > 1)
    assert deliveries.count() == total, (deliveries.count(), total)
    return lost, duplicated, len(receiver.refused)


def _baseline(receiver, endpoint, count: int) -> float:
    """Sign and POST `count` bodies from this process, one after another, on one Session."""
    import datetime

    import requests
    from standardwebhooks import Webhook

    from events.delivery import delivery_body
    from events.models import Event

    event = Event.objects.filter(company=endpoint.company).first()
    body = delivery_body(event)
    signer = Webhook(endpoint.secret)
    session = requests.Session()
    receiver.received.clear()
    started = time.perf_counter()
    for n in range(count):
        msg_id = f"baseline-{n}"
        now = datetime.datetime.now(tz=datetime.UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(msg_id, now, body),
            "content-type": "application/json",
        }
        response = session.post(endpoint.url, data=body.encode(), headers=headers, timeout=10)
        assert response.status_code == 200, response.status_code
    elapsed = time.perf_counter() - started
    assert len(receiver.received) == count
    return elapsed


def _start_worker(prefix: str, name: str, threads: int) -> subprocess.Popen:
    from django.db import connection

    from daylit.embedded_pg.server import connection_url

    env = dict(
        os.environ,
        DATABASE_URL=connection_url(connection),
        CELERY_BROKER_URL=BROKER,
        DAYLIT_VAR_DIR=tempfile.mkdtemp(prefix="daylit-bench-"),
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-c", WORKER, prefix, name, str(threads)]
    # The worker's own output (its banner, the root-user warning, any traceback) goes to a log file,
    # printed when the run fails.
    log = Path(env["DAYLIT_VAR_DIR"]) / "worker.log"
    _worker_logs.append(log)
    output = open(log, "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


_worker_logs: list[Path] = []


def _print_worker_logs() -> None:
    for log in _worker_logs:
        print(f"--- {log}\n" + log.read_text()[-3000:])


def _remove_worker_dirs() -> None:
    import shutil

    for log in _worker_logs:
        shutil.rmtree(log.parent, ignore_errors=True)


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cleanup(company, prefix: str) -> None:
    import redis

    company.delete()  # its endpoints, deliveries and events go with it
    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


if __name__ == "__main__":
    sys.exit(main())
