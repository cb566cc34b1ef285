"""Auto-send at scale: ready reminders leave through two real Celery workers, paced per mailbox.

    .venv/bin/python bench/bench_send.py [--connections 1000] [--per-connection 10] [--workers 2]
        [--threads 16] [--latency 0.05] [--backlog 100000] [--strict]

Runs against PostgreSQL (`make bench`: the embedded server's daylit_bench database, or DATABASE_URL;
its companies are replaced), Redis at 127.0.0.1:6379 (db 13, keys under a prefix of this run) and a
fake Nylas on 127.0.0.1 (tests/fakes/nylas.py) that answers every send after `--latency` seconds and
honours Idempotency-Key (a replayed key is answered, not delivered again). Workers are
`celery worker --pool threads --concurrency --threads` processes; this process acts as beat, sending
`queue.promote_due` (promote, then plan auto-send) and `queue.reconcile_sending` to them.

1. clean: `connections * per-connection` ready rows over 10 companies, one planner pass, until every
   row is settled. Prints deliveries/s (target >= 500/s), duplicates, unsettled rows, and the most
   sends one mailbox started in any 60 s (must not exceed AUTO_SEND_RATE_PER_MINUTE).
2. killed: the same, with one worker SIGKILLed once 30% are delivered and a new one started; beat
   runs every 5 s and the reconciler takes rows left `sending` after 10 s (SENDING_STUCK_AFTER_SECONDS).
3. fairness: one company with a `--backlog` of rows on 10 mailboxes (scheduled two days ago) and
   another with a single row scheduled now; prints how long the single one waited, and over 70 s of
   beat every 10 s (planning six times as often as beat does, so the claims must refuse the excess)
   the most sends one backlog mailbox started in 60 s.
Baseline, in the same run: the SDK's sends from `workers * threads` threads of one process, no
database: the most the fake and the machine allow.

Exits 1 on a duplicate, an unsettled row or a mailbox over its rate; `--strict` also on a missed target.
"""

import argparse
import datetime
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
from bench.send.workers import BROKER, Workers, purge_queue  # noqa: E402

os.environ["CELERY_BROKER_URL"] = BROKER

from bench.common import print_table  # noqa: E402

TARGET_PER_SECOND = 500
COMPANIES = 10
STUCK_AFTER_SECONDS = 10


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--per-connection", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker process")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake Nylas takes to send")
    parser.add_argument(
        "--backlog", type=int, default=100_000, help="rows of the fairness phase's big company"
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for a phase")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from daylit.celery import app
    from daylit.embedded_pg.server import connection_url
    from tests.fakes.nylas import FakeNylas

    if not _redis_up():
        print(f"bench_send needs Redis at {BROKER} (docker compose up -d redis)")
        return 1
    call_command("ensure_database")
    call_command("migrate", verbosity=0)
    prefix = f"bench-send-{uuid.uuid4().hex[:12]}:"
    app.conf.broker_transport_options = {"global_keyprefix": prefix, "visibility_timeout": 3600}
    fake = FakeNylas(latency=args.latency).start()
    env = {
        "DATABASE_URL": connection_url(connection),
        "CELERY_BROKER_URL": BROKER,
        "NYLAS_API_KEY": "bench-nylas-key",
        "NYLAS_API_URI": fake.url,
        "NYLAS_TIMEOUT_SECONDS": "5",  # below SENDING_STUCK_AFTER_SECONDS (check queue.E001)
        "SENDING_STUCK_AFTER_SECONDS": str(STUCK_AFTER_SECONDS),
    }
    workers = Workers(prefix=prefix, threads=args.threads, env=env)
    rate = settings.AUTO_SEND_RATE_PER_MINUTE
    results, failed = [], False
    try:
        for kill in (False, True):
            result = _phase(args, fake, workers, app, kill=kill)
            results.append(result)
            failed |= bool(result["duplicates"] or result["unsettled"] or result["worst"] > rate)
        fairness = _fairness(args, fake, workers, app)
        failed |= bool(fairness["duplicates"] or fairness["worst"] > rate or fairness["wait"] is None)
    finally:
        workers.stop()
    baseline = _baseline(fake, threads=args.workers * args.threads, count=3000)
    fake.stop()
    _cleanup(prefix)

    total = args.connections * args.per_connection
    print(
        f"\nAuto-send: {total:,} ready reminders on {args.connections:,} mailboxes ({COMPANIES} companies), "
        f"{args.workers} worker processes x {args.threads} threads, Redis, fake Nylas answering after "
        f"{args.latency * 1000:.0f} ms; pacing {rate}/min per mailbox"
    )
    print_table(
        ["run", "rows", "seconds", "deliveries/s", "duplicates", "unsettled", "worst mailbox, 60 s"],
        [
            (
                r["label"],
                f"{total:,}",
                f"{r['seconds']:.1f}",
                f"{r['rate']:.0f}",
                str(r["duplicates"]),
                str(r["unsettled"]),
                f"{r['worst']} (limit {rate})",
            )
            for r in results
        ]
        + [
            (
                "baseline: SDK sends from one process, no database",
                "3,000",
                f"{baseline:.1f}",
                f"{3000 / baseline:.0f}",
                "",
                "",
                "",
            )
        ],
    )
    clean = results[0]
    print(f"service / baseline: {clean['rate'] / (3000 / baseline):.2f}x")
    print(
        f"worker CPU per delivery: {clean['cpu_ms']:.1f} ms (clean), {results[1]['cpu_ms']:.1f} ms (killed), "
        f"on {os.cpu_count()} cores shared with PostgreSQL, Redis and the fake"
    )
    killed = results[1]
    settled = "every row settled" if not killed["unsettled"] else f"{killed['unsettled']} rows NOT settled"
    print(
        f"killed run: worker SIGKILLed at {killed['killed_at']:.1f} s, {killed['replays']} sends replayed "
        f"by Nylas (same key), {settled} after {killed['seconds']:.1f} s"
    )
    wait = fairness["wait"]
    waited = f"delivered {wait:.2f} s after the planner pass started" if wait is not None else "NOT delivered"
    beyond = fairness["ahead"] >= fairness["scan_limit"]
    print(
        f"fairness: one email of a small company behind a {args.backlog:,}-row backlog of another: {waited} "
        f"({fairness['ahead']:,} older candidates ahead of it"
        + (f"; a scan of the oldest {fairness['scan_limit']:,} alone would not reach it)" if beyond else ")")
    )
    print(
        f"backlog mailboxes sent {fairness['backlog_sent']:,} in {fairness['seconds']:.0f} s, the planner "
        f"every 10 s; most one mailbox started in 60 s: {fairness['worst']} (limit {rate})"
    )
    met = clean["rate"] >= TARGET_PER_SECOND
    print(f"target >= {TARGET_PER_SECOND} deliveries/s: {'met' if met else 'MISSED'} ({clean['rate']:.0f}/s)")
    if failed:
        workers.print_logs()
        return 1
    workers.remove_logs()
    return 1 if args.strict and not met else 0


def _phase(args, fake, workers, app, *, kill: bool) -> dict:
    from bench.send.measure import duplicates, worst_window
    from bench.send.seed import reset, seed_company

    reset()
    fake.clear()
    purge_queue(workers.prefix)
    per_company = args.connections // COMPANIES
    companies = [
        seed_company(
            name=f"Send bench {i}",
            connections=per_company,
            per_connection=args.per_connection,
            age=datetime.timedelta(minutes=5),
        )
        for i in range(COMPANIES)
    ]
    total = per_company * COMPANIES * args.per_connection
    _start_workers(args, workers, app)
    cpu_before = workers.cpu_seconds()
    started = time.monotonic()
    app.send_task("queue.promote_due")
    killed_at = None
    next_beat = started + (5 if kill else 60)
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        if kill and killed_at is None and len(fake.deliveries) >= total * 0.3:
            workers.kill(0)
            killed_at = now - started
            workers.start(0)
        if now >= next_beat:
            app.send_task("queue.promote_due")
            app.send_task("queue.reconcile_sending")
            next_beat = now + (5 if kill else 60)
        if _unsettled(companies) == 0:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    cpu = workers.cpu_seconds() - cpu_before
    workers.stop()
    replays = len(fake.requests) - len(fake.deliveries)
    return {
        "label": "killed: one worker SIGKILLed and restarted" if kill else "clean: two workers",
        "seconds": seconds,
        "rate": total / seconds,
        "duplicates": duplicates(fake.deliveries),
        "unsettled": _unsettled(companies),
        "worst": worst_window(fake.requests),
        "killed_at": killed_at or 0.0,
        "replays": replays,
        "cpu_ms": cpu / total * 1000,
    }


def _fairness(args, fake, workers, app) -> dict:
    from bench.send.measure import duplicates, worst_window
    from bench.send.seed import reset, seed_company
    from enrollments.models import ScheduledStep
    from outreach_queue.services.autosend import CANDIDATE_SCAN_LIMIT

    reset()
    fake.clear()
    purge_queue(workers.prefix)
    big = seed_company(
        name="Backlog Co", connections=10, per_connection=args.backlog // 10, age=datetime.timedelta(days=2)
    )
    small = seed_company(name="Small Co", connections=1, per_connection=1, age=datetime.timedelta(0))
    single = ScheduledStep.objects.get(company=small)
    ahead = ScheduledStep.objects.filter(status="ready", scheduled_for__lt=single.scheduled_for).count()
    big_grants = set(big.email_connections.values_list("grant_id", flat=True))
    _start_workers(args, workers, app)
    started = time.monotonic()
    app.send_task("queue.promote_due")
    wait, next_beat, until = None, started + 10, started + 70
    while time.monotonic() < until:
        if wait is None and ScheduledStep.objects.filter(pk=single.pk, status="sent").exists():
            wait = time.monotonic() - started
        if time.monotonic() >= next_beat:
            app.send_task("queue.promote_due")
            next_beat += 10
        time.sleep(0.05)
    seconds = time.monotonic() - started
    workers.stop()
    return {
        "wait": wait,
        "ahead": ahead,
        "scan_limit": CANDIDATE_SCAN_LIMIT,
        "seconds": seconds,
        "backlog_sent": sum(1 for d in fake.deliveries if d["grant"] in big_grants),
        "worst": worst_window(fake.requests, grants=big_grants),
        "duplicates": duplicates(fake.deliveries),
    }


def _start_workers(args, workers, app) -> None:
    for slot in range(args.workers):
        workers.start(slot)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5) or []) >= args.workers:
            return
    workers.print_logs()
    raise SystemExit("the workers did not start")


def _unsettled(companies) -> int:
    from enrollments.models import ScheduledStep

    return ScheduledStep.objects.filter(company__in=companies).exclude(status__in=["sent", "failed"]).count()


def _baseline(fake, *, threads: int, count: int) -> float:
    """Seconds for `count` sends through the nylas SDK from `threads` threads of this process."""
    from nylas import Client

    client = Client(api_key="bench", api_uri=fake.url, timeout=10)
    todo = iter(range(count))
    lock = threading.Lock()

    def send() -> None:
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            client.messages.send(
                identifier="baseline-grant",
                request_body={"to": [{"email": "ap@customer.example"}], "subject": "s", "body": "b"},
                overrides={"headers": {"Idempotency-Key": f"baseline-{n}"}},
            )

    started = time.perf_counter()
    pool = [threading.Thread(target=send) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _cleanup(prefix: str) -> None:
    import redis

    from bench.send.seed import reset

    reset()
    client = redis.Redis.from_url(BROKER)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


if __name__ == "__main__":
    sys.exit(main())
