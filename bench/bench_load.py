"""Load: gunicorn workers on PostgreSQL, a fake Nylas, 50 concurrent API clients, 3 rounds of 20 s.

    .venv/bin/python bench/bench_load.py [--clients 50] [--seconds 20] [--rounds 3] [--floor-seconds 10]
        [--workers 4] [--customers 3000]

Everything runs on 127.0.0.1: the fake Nylas server (tests/fakes/nylas.py, in this process), gunicorn
(`make bench`: the embedded server's daylit_bench database, or DATABASE_URL; created and migrated
when needed) and the load generator (threads over http.client, bounded by --seconds and a per-request
timeout). The mix: queue reads (which promote due rows), single enrolls, bulk enrolls of 50, sends of
rows the client saw ready, enrollment lists. Per-token throttling is off for the run (one token).

The load runs `--rounds` times (`--seconds` each), in turns with a baseline of `--floor-seconds`: the
same clients reading the company's settings (authentication, one row, a serializer), the least an
API request costs on this stack and machine. Prints requests/s of both as median (min-max) over the
rounds and the ratio of medians, then p50/p95/p99 per endpoint over all the load's rounds, then
checks consistency: every enrollment has all its rows, no customer has two active enrollments, no row
was sent twice, sent rows match the fake Nylas's deliveries one to one. Exits 1 on any 5xx, transport
error or failed check (the baseline's included).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from bench.common import interleaved, median_ratio, print_table, spread  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20, help="seconds of each load round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floor-seconds", type=float, default=10, help="seconds of each baseline round")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--customers", type=int, default=3000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from bench.load.checks import consistency_failures, counts
    from bench.load.client import FloorClient, Stats, run_load
    from bench.load.seed import seed_world
    from tests.fakes.nylas import FakeNylas

    call_command("ensure_database")
    call_command("migrate", verbosity=0)
    world = seed_world(customers=args.customers)
    nylas = FakeNylas().start()
    port = _free_port()
    server = _start_gunicorn(port=port, workers=args.workers, nylas_url=nylas.url)
    try:
        _wait_until_up(port)
        print(
            f"\nLoad: {args.clients} clients, {args.rounds} rounds of {args.seconds:.0f} s in turns with "
            f"{args.floor_seconds:.0f} s of the baseline, gunicorn {args.workers} sync workers, PostgreSQL, "
            f"fake Nylas; {args.customers:,} customers"
        )
        rounds: dict[str, list[Stats]] = {"load": [], "floor": []}
        elapsed: dict[str, float] = {"load": 0.0, "floor": 0.0}

        def one_round(kind: str, **options) -> float:
            """Requests/s of one round (`interleaved` takes its number, whatever it measures)."""
            stats, seconds = run_load(port=port, world=world, clients=args.clients, **options)
            rounds[kind].append(stats)
            elapsed[kind] += seconds
            return sum(len(samples) for samples in stats.latencies.values()) / seconds

        rates = interleaved(
            {
                "load": lambda: one_round("load", seconds=args.seconds),
                "floor": lambda: one_round("floor", seconds=args.floor_seconds, client_class=FloorClient),
            },
            rounds=args.rounds,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        nylas.stop()

    print_table(
        ["mix", "rounds", "req/s: median (min-max)"],
        [
            ("the API mix", len(rates["load"]), spread(rates["load"])),
            ("baseline: GET settings", len(rates["floor"]), spread(rates["floor"])),
        ],
    )
    stats = _merged(rounds["load"])
    floor = _merged(rounds["floor"])
    floor_codes = " ".join(f"{s}:{n}" for s, n in sorted(floor.statuses["GET settings"].items()))
    print(
        f"the mix answers {1 / median_ratio(rates['floor'], rates['load']):.2f}x the baseline's req/s "
        f"(ratio of medians); baseline statuses {floor_codes}"
    )
    rows = []
    total = 0
    for endpoint in sorted(stats.latencies):
        samples = sorted(stats.latencies[endpoint])
        total += len(samples)
        q = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
        codes = " ".join(f"{s}:{n}" for s, n in sorted(stats.statuses[endpoint].items()))
        rows.append(
            (
                endpoint,
                len(samples),
                f"{len(samples) / elapsed['load']:.1f}",
                *(f"{q[i] * 1000:.0f}" for i in (49, 94, 98)),
                codes,
            )
        )
    print_table(["endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "statuses"], rows)
    print(f"total {total:,} requests in {elapsed['load']:.1f} s: {total / elapsed['load']:.1f} req/s")
    errors = sum(stats.errors.values()) + sum(floor.errors.values())
    server_errors = stats.server_errors + floor.server_errors
    print(f"5xx: {server_errors}   transport errors: {errors} (baseline included)")

    print("\nAfter the run:", ", ".join(f"{k} {v:,}" for k, v in counts(company_id=world.company_id).items()))
    print(f"fake Nylas: {len(nylas.requests):,} send requests, {len(nylas.deliveries):,} deliveries")
    failures = consistency_failures(
        company_id=world.company_id, steps=world.steps, deliveries=nylas.deliveries, requests=nylas.requests
    )
    for failure in failures:
        print(f"CONSISTENCY FAILURE: {failure}")
    ok = not failures and server_errors == 0 and errors == 0 and total > 0
    print(
        "consistency: every enrollment's rows present, no row sent twice, sent rows == deliveries: "
        + ("ok" if not failures else "FAILED")
    )
    return 0 if ok else 1


def _merged(rounds: list):
    """One Stats of every round's requests."""
    from bench.load.client import Stats

    merged = Stats()
    for stats in rounds:
        for endpoint, samples in stats.latencies.items():
            merged.latencies[endpoint] += samples
        for endpoint, by_status in stats.statuses.items():
            for status, n in by_status.items():
                merged.statuses[endpoint][status] += n
        for endpoint, n in stats.errors.items():
            merged.errors[endpoint] += n
    return merged


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(*, port: int, workers: int, nylas_url: str) -> subprocess.Popen:
    from django.db import connection

    from daylit.embedded_pg.server import connection_url

    env = dict(
        os.environ,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-secret-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DAYLIT_VAR_DIR=tempfile.mkdtemp(prefix="daylit-bench-"),
        DATABASE_URL=connection_url(connection),
        NYLAS_API_KEY="bench-nylas-key",
        NYLAS_API_URI=nylas_url,
        NYLAS_TIMEOUT_SECONDS="10",
        API_THROTTLE_RATE="off",
        API_SEND_THROTTLE_RATE="off",
        AI_API_KEY="",
        LOG_LEVEL="WARNING",
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "daylit.wsgi",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def _wait_until_up(port: int) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    sys.exit(main())
