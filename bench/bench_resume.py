"""Beat's auto-resume of 10,000 paused enrollments with 5 scheduled rows each, shifted under the calendar.

    .venv/bin/python bench/bench_resume.py [--enrollments 10000] [--repeat 3] [--strict]

Runs against PostgreSQL (`make bench`: the embedded daylit_bench database, or DATABASE_URL). The
enrollments are bulk-enrolled into a sequence with weekdays and a 09:00-17:00 window (each shifted row
is settled by the calendar), then paused two days and 5 hours ago until a minute ago. Each round pauses
them again and times:

- service: enrollments.pausing.enrollments_resume_due (what beat runs): batches of 1,000, each a few
           statements (lock the rows, flip the enrollments, shift the rows, record the events)
- raw SQL: one UPDATE of the enrollments and one UPDATE ... FROM shifting their rows by the pause,
           no calendar and no events: the floor for moving the same rows

Target: at least 5,000 enrollments/s re-planned by the service. `--strict` exits 1 on a miss.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from bench.common import interleaved, median_ratio, print_table, spread  # noqa: E402

STEPS = 5
PAUSED_FOR = datetime.timedelta(days=2, hours=5)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enrollments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("ensure_database")
    call_command("migrate", verbosity=0)

    company, sequence = _setup(args.enrollments)
    try:
        runs = interleaved(
            {
                "service": lambda: _service(sequence, args.enrollments),
                "raw": lambda: _raw(sequence, args.enrollments),
            },
            rounds=args.repeat,
        )
    finally:
        _cleanup(company)
    service, raw = runs["service"], runs["raw"]
    rate = args.enrollments / sorted(service)[len(service) // 2]
    print(
        f"\nAuto-resume {args.enrollments:,} paused enrollments x {STEPS} scheduled rows, shifted, PostgreSQL"
    )
    print("Methods take turns in each round; seconds are the median (min-max).")
    print_table(
        ["method", "seconds", "x raw SQL", "enrollments/s"],
        [
            (
                "service enrollments_resume_due",
                spread(service),
                f"{median_ratio(service, raw):.2f}",
                f"{rate:,.0f}",
            ),
            (
                "raw SQL shift, no calendar or events",
                spread(raw),
                "1.00",
                f"{args.enrollments / sorted(raw)[len(raw) // 2]:,.0f}",
            ),
        ],
    )
    met = rate >= 5_000
    print(f"target >= 5,000 enrollments/s re-planned: {'met' if met else 'MISSED'} ({rate:,.0f}/s)")
    return 1 if args.strict and not met else 0


def _paused(sequence) -> datetime.datetime:
    """Pause every enrollment of the sequence (set-based), as if two days and 5 hours ago, ended a
    minute ago; puts their rows back where the enrollment planned them. Returns `now` for the resume."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollments_scheduledstep SET scheduled_for = created_at + interval '30 days', "
            "schedule_note = NULL, status = 'scheduled' WHERE sequence_id = %s",
            [sequence.pk],
        )
        cursor.execute(
            "UPDATE enrollments_enrollment SET status = 'paused', paused_at = %s, paused_until = %s, "
            "pause_reason = 'bench' WHERE sequence_id = %s",
            [now - PAUSED_FOR, now - datetime.timedelta(minutes=1), sequence.pk],
        )
    return now


def _service(sequence, count: int) -> float:
    from enrollments.models import Enrollment
    from enrollments.pausing import enrollments_resume_due

    now = _paused(sequence)
    started = time.perf_counter()
    resumed = enrollments_resume_due(now=now)
    elapsed = time.perf_counter() - started
    assert resumed == count, resumed
    assert not Enrollment.objects.filter(sequence=sequence, status="paused").exists()
    return elapsed


def _raw(sequence, count: int) -> float:
    from django.db import connection, transaction

    now = _paused(sequence)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollments_scheduledstep s SET scheduled_for = s.scheduled_for + (%s - e.paused_at), "
            "updated_at = %s FROM enrollments_enrollment e "
            "WHERE e.id = s.enrollment_id AND e.sequence_id = %s AND e.status = 'paused' "
            "AND s.status = 'scheduled'",
            [now, now, sequence.pk],
        )
        cursor.execute(
            "UPDATE enrollments_enrollment SET status = 'active', paused_at = NULL, paused_until = NULL, "
            "pause_reason = NULL, updated_at = %s WHERE sequence_id = %s AND status = 'paused'",
            [now, sequence.pk],
        )
        assert cursor.rowcount == count
    return time.perf_counter() - started


def _setup(count: int):
    from django.db import connection

    from daylit.models import Company, Customer
    from enrollments.services import enrollments_bulk_create
    from sequences.models import Sequence, SequenceStep

    company = Company.objects.create(name=f"bench-resume {time.time():.0f}")
    customers = Customer.objects.bulk_create(
        [Customer(company=company, name=f"Customer {n}", email=f"r{n}@bench.example") for n in range(count)],
        batch_size=10_000,
    )
    sequence = Sequence.objects.create(
        company=company,
        name="bench resume",
        status="active",
        timezone="Europe/Berlin",
        send_days=["mon", "tue", "wed", "thu", "fri"],
        send_window_start=datetime.time(9, 0),
        send_window_end=datetime.time(17, 0),
    )
    SequenceStep.objects.bulk_create(
        SequenceStep(sequence=sequence, step_type="reminder", label=f"Step {n}", offset_days=2 * n + 1)
        for n in range(STEPS)
    )
    for start in range(0, count, 10_000):
        enrollments_bulk_create(
            sequence=sequence, customer_ids=[c.pk for c in customers[start : start + 10_000]]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enrollments_enrollment")
        cursor.execute("ANALYZE enrollments_scheduledstep")
    return company, sequence


def _cleanup(company) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("events_event", "enrollments_scheduledstep", "enrollments_enrollment"):
            cursor.execute(f"DELETE FROM {table} WHERE company_id = %s", [company.pk])  # noqa: S608
        cursor.execute(
            "DELETE FROM sequences_sequencestep WHERE sequence_id IN "
            "(SELECT id FROM sequences_sequence WHERE company_id = %s)",
            [company.pk],
        )
        cursor.execute("DELETE FROM sequences_sequence WHERE company_id = %s", [company.pk])
        cursor.execute("DELETE FROM daylit_customer WHERE company_id = %s", [company.pk])
        cursor.execute("DELETE FROM daylit_company WHERE id = %s", [company.pk])


if __name__ == "__main__":
    sys.exit(main())
