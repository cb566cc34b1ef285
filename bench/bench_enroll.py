"""Bulk-enroll 10,000 customers into a 5-step sequence: the service against two baselines.

    .venv/bin/python bench/bench_enroll.py [--customers 10000] [--repeat 3] [--naive-repeat 1] [--strict]

Runs against PostgreSQL (`make bench`: the embedded server's daylit_bench database, or DATABASE_URL),
creating the database and migrating it when needed. Each method writes the same rows (N enrollments,
5N scheduled steps) into its own fresh active sequence:

- service:  enrollments.services.enrollments_bulk_create (what the API calls), one transaction
- calendar: the same service with the collections calendar on: weekdays only, a 09:00-17:00 window,
            holidays skipped, each customer planned in its own zone with its own country's holidays
            (20 countries)
- variants: the same service with both reminders running an experiment (docs/variants.md): one with
            2 variants and a 10% holdout, one with 3 variants; each row's variant assigned in the INSERT
- naive:    a per-customer ORM loop (Enrollment.objects.create + one create per step), one transaction
            per customer as looping over single enrolls would
- raw SQL:  INSERT ... SELECT of the enrollments, then INSERT ... SELECT of their rows, one transaction

Targets: service <= 3x raw SQL and >= 20x faster than the naive loop; calendar <= 1.5x service and
<= 3x raw SQL; variants <= 1.2x service. `--strict` exits 1 on a miss.
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
START = datetime.date(2027, 3, 10)  # spans New York's spring-forward: the times are not all alike
# (zone, country, subdivision) of the customers, in turn: the calendar method plans 20 groups.
CALENDARS = [
    ("America/New_York", "US", "NY"),
    ("Europe/London", "GB", "ENG"),
    ("Europe/Berlin", "DE", "BY"),
    ("Europe/Paris", "FR", None),
    ("Asia/Tokyo", "JP", None),
    ("Australia/Sydney", "AU", "NSW"),
    ("America/Toronto", "CA", "ON"),
    ("Europe/Amsterdam", "NL", None),
    ("Europe/Madrid", "ES", "MD"),
    ("Europe/Rome", "IT", None),
    ("America/Sao_Paulo", "BR", "SP"),
    ("America/Mexico_City", "MX", None),
    ("Asia/Kolkata", "IN", None),
    ("Asia/Singapore", "SG", None),
    ("Pacific/Auckland", "NZ", None),
    ("Africa/Johannesburg", "ZA", None),
    ("Europe/Dublin", "IE", None),
    ("Europe/Stockholm", "SE", None),
    ("Europe/Zurich", "CH", "ZH"),
    ("Europe/Warsaw", "PL", None),
]
CALENDAR_RULES = {
    "send_days": ["mon", "tue", "wed", "thu", "fri"],
    "send_window_start": datetime.time(9, 0),
    "send_window_end": datetime.time(17, 0),
    "skip_holidays": True,
    "time_zone_source": "customer",
}


def _variants(*keys: str) -> list[dict]:
    return [
        {
            "key": key,
            "weight": 10 * (index + 1),
            "subject_template": f"[{key}] Invoice {{{{ invoice.number }}}}",
            "body_plain_template": f"{key}: Hello {{{{ customer.name }}}}",
            "body_html_template": "",
        }
        for index, key in enumerate(keys)
    ]


# Step index -> its experiment, for the variants method (steps 0 and 3 are the reminders).
EXPERIMENTS = {
    0: {"variants": _variants("friendly", "firm"), "holdout_percent": 10},
    3: {"variants": _variants("short", "long", "formal"), "holdout_percent": 0},
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each runs every method once")
    parser.add_argument("--naive-repeat", type=int, default=1, help="rounds of the slow naive loop")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("ensure_database")
    call_command("migrate", verbosity=0)

    company, customer_ids = _setup(args.customers)
    try:
        runs = interleaved(
            {
                "service": lambda: _service(company, customer_ids),
                # Right after the service: the pair judged against each other runs back to back.
                "variants": lambda: _service(company, customer_ids, variants=True),
                "calendar": lambda: _service(company, customer_ids, calendar=True),
                "raw": lambda: _raw_sql(company, customer_ids),
                "naive": lambda: _naive(company, customer_ids),
            },
            rounds=args.repeat,
            fewer={"naive": args.naive_repeat},
        )
    finally:
        _cleanup(company)

    service, calendar, raw, naive = runs["service"], runs["calendar"], runs["raw"], runs["naive"]
    variants = runs["variants"]
    variants_vs_service = median_ratio(variants, service)
    vs_raw, vs_naive = median_ratio(service, raw), median_ratio(naive, service)
    calendar_vs_service, calendar_vs_raw = median_ratio(calendar, service), median_ratio(calendar, raw)
    rows = [
        ("service enrollments_bulk_create", service, median_ratio(service, raw), vs_naive),
        ("service with the calendar on", calendar, calendar_vs_raw, median_ratio(naive, calendar)),
        ("service with variants", variants, median_ratio(variants, raw), median_ratio(naive, variants)),
        ("raw SQL INSERT ... SELECT", raw, 1.0, median_ratio(naive, raw)),
        ("naive per-customer ORM loop", naive, median_ratio(naive, raw), 1.0),
    ]
    total = args.customers * STEPS
    print(f"\nBulk enroll {args.customers:,} customers x {STEPS} steps ({total:,} rows), PostgreSQL")
    print("Methods take turns in each round; seconds are the median (min-max), ratios are of medians.")
    print_table(
        ["method", "seconds", "x raw SQL", "naive / this"],
        [(name, spread(secs), f"{vs_raw:.2f}", f"{speedup:.1f}") for name, secs, vs_raw, speedup in rows],
    )
    targets = [
        ("service <= 3x raw SQL", vs_raw <= 3, f"{vs_raw:.2f}x"),
        ("service >= 20x faster than naive", vs_naive >= 20, f"{vs_naive:.1f}x"),
        ("calendar <= 1.5x service without it", calendar_vs_service <= 1.5, f"{calendar_vs_service:.2f}x"),
        ("calendar <= 3x raw SQL", calendar_vs_raw <= 3, f"{calendar_vs_raw:.2f}x"),
        ("variants <= 1.2x service without them", variants_vs_service <= 1.2, f"{variants_vs_service:.2f}x"),
    ]
    for name, met, figure in targets:
        print(f"target {name}: {'met' if met else 'MISSED'} ({figure})")
    return 1 if args.strict and not all(met for _, met, _ in targets) else 0


# --- the three methods: each gets a fresh sequence and must write N enrollments and 5N rows --------


def _service(company, customer_ids, *, calendar: bool = False, variants: bool = False) -> float:
    from enrollments.services import enrollments_bulk_create

    sequence = _sequence(
        company, experiments=EXPERIMENTS if variants else {}, **(CALENDAR_RULES if calendar else {})
    )
    started = time.perf_counter()
    result = enrollments_bulk_create(sequence=sequence, customer_ids=customer_ids, start_date=START)
    elapsed = time.perf_counter() - started
    assert result.enrolled_count == len(customer_ids), result
    _check(sequence, len(customer_ids), variants=variants)
    return elapsed


def _naive(company, customer_ids) -> float:
    from django.db import transaction

    from enrollments.models import Enrollment, ScheduledStep
    from enrollments.scheduling import scheduled_instant
    from sequences.models import SequenceStep

    sequence = _sequence(company)
    started = time.perf_counter()
    # One transaction per customer, as looping over the single-enroll path (one request each) would.
    for customer_id in customer_ids:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                company=company,
                sequence=sequence,
                customer_id=customer_id,
                start_date=START,
                time_zone=sequence.timezone,
            )
            for step in SequenceStep.objects.filter(sequence=sequence, is_active=True):
                ScheduledStep.objects.create(
                    company=company,
                    enrollment=enrollment,
                    sequence=sequence,
                    step=step,
                    customer_id=customer_id,
                    step_type=step.step_type,
                    scheduled_for=scheduled_instant(
                        start_date=START,
                        offset_days=step.offset_days,
                        offset_time=step.offset_time,
                        tz_name=sequence.timezone,
                    ),
                )
    elapsed = time.perf_counter() - started
    _check(sequence, len(customer_ids))
    return elapsed


def _raw_sql(company, customer_ids) -> float:
    from django.db import connection, transaction

    sequence = _sequence(company)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO enrollments_enrollment
                (id, company_id, sequence_id, customer_id, status, start_date, time_zone, created_at,
                 updated_at)
            SELECT gen_random_uuid(), c.company_id, %s, c.id, 'active', %s, %s, now(), now()
            FROM daylit_customer c WHERE c.company_id = %s AND c.id = ANY(%s)
            """,
            [sequence.pk, START, sequence.timezone, company.pk, list(customer_ids)],
        )
        cursor.execute(
            """
            INSERT INTO enrollments_scheduledstep
                (id, company_id, enrollment_id, sequence_id, step_id, customer_id, step_type, status,
                 scheduled_for, to_email, subject, body_plain, body_html, provider_message_id,
                 provider_thread_id, error, notes, attempts, created_at, updated_at)
            SELECT gen_random_uuid(), e.company_id, e.id, e.sequence_id, s.id, e.customer_id, s.step_type,
                   'scheduled', ((e.start_date + s.offset_days) + s.offset_time) AT TIME ZONE q.timezone,
                   '', '', '', '', '', '', '', '', 0, now(), now()
            FROM enrollments_enrollment e
            JOIN sequences_sequence q ON q.id = e.sequence_id
            JOIN sequences_sequencestep s ON s.sequence_id = e.sequence_id AND s.is_active
            WHERE e.sequence_id = %s AND e.status = 'active'
            """,
            [sequence.pk],
        )
    elapsed = time.perf_counter() - started
    _check(sequence, len(customer_ids))
    return elapsed


# --- fixtures ----------------------------------------------------------------------------------------


def _setup(count: int):
    from django.db import connection

    from daylit.models import Company, Customer

    company = Company.objects.create(name=f"bench-enroll {time.time():.0f}")
    customers = Customer.objects.bulk_create(
        [
            Customer(
                company=company,
                name=f"Customer {n}",
                email=f"c{n}@bench.example",
                timezone=zone,
                country=country,
                subdivision=subdivision,
            )
            for n in range(count)
            for zone, country, subdivision in [CALENDARS[n % len(CALENDARS)]]
        ],
        batch_size=10_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE daylit_customer")
    return company, [c.pk for c in customers]


def _sequence(company, experiments=None, **rules):
    from sequences.models import Sequence, SequenceStep

    sequence = Sequence.objects.create(
        company=company,
        name=f"bench {time.perf_counter_ns()}",
        status="active",
        timezone="America/New_York",
        **rules,
    )
    SequenceStep.objects.bulk_create(
        SequenceStep(
            sequence=sequence,
            step_type=["reminder", "call", "task"][n % 3],
            label=f"Step {n + 1}",
            offset_days=2 * n,
            offset_time=datetime.time(2, 30) if n == 2 else datetime.time(9, 0),
            **(experiments or {}).get(n, {}),
        )
        for n in range(STEPS)
    )
    return sequence


def _check(sequence, count: int, *, variants: bool = False) -> None:
    """The method wrote what it should; then its rows go (untimed), so every run inserts into tables of
    the same size: otherwise a method later in the round meets bigger indexes than the one before it."""
    from enrollments.models import Enrollment, ScheduledStep

    assert Enrollment.objects.filter(sequence=sequence, status="active").count() == count
    assert ScheduledStep.objects.filter(sequence=sequence).count() == count * STEPS
    if variants:  # every experiment's key was assigned, the holdout's rows created cancelled
        keys = set(ScheduledStep.objects.filter(sequence=sequence).values_list("variant_key", flat=True))
        expected = {v["key"] for e in EXPERIMENTS.values() for v in e["variants"]} | {"holdout", None}
        assert keys == expected, keys
        held_out = ScheduledStep.objects.filter(sequence=sequence, variant_key="holdout")
        assert not held_out.exclude(status="cancelled", error="holdout").exists()
    _discard(sequence)


def _discard(sequence) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM events_event WHERE enrollment_id IN "
            "(SELECT id FROM enrollments_enrollment WHERE sequence_id = %s)",
            [sequence.pk],
        )
        cursor.execute("DELETE FROM enrollments_scheduledstep WHERE sequence_id = %s", [sequence.pk])
        cursor.execute("DELETE FROM enrollments_enrollment WHERE sequence_id = %s", [sequence.pk])
    with connection.cursor() as cursor:  # autocommit: VACUUM runs outside a transaction
        cursor.execute("VACUUM (ANALYZE) enrollments_scheduledstep, enrollments_enrollment, events_event")


def _cleanup(company) -> None:
    """Raw deletes: the ORM's cascade would load every row into Python first."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE company_id = %s", [company.pk])
        cursor.execute("DELETE FROM enrollments_scheduledstep WHERE company_id = %s", [company.pk])
        cursor.execute("DELETE FROM enrollments_enrollment WHERE company_id = %s", [company.pk])
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
