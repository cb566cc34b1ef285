"""The sequence performance endpoint over 100,000 enrollments and 500,000 rows (issue #19).

    .venv/bin/python bench/bench_performance.py [--enrollments 100000] [--repeat 30] [--strict]

Runs against PostgreSQL (`make bench`: the embedded daylit_bench database, or DATABASE_URL); the
database is created if missing, migrated, and its data replaced (as bench_queue.py does). Built
set-based with INSERT ... SELECT generate_series: one sequence of 5 reminder steps (steps 2 and 4 with
variants a/b and a 10% holdout), one customer and one invoice (80% USD, 20% EUR) per enrollment,
enrollments created over the last two years (a sequence with 100,000 enrollments has history; about
one in eight falls in the default 90-day range),
active, paused or completed with the usual stop reasons; each enrollment's 5 rows every 3 days from its
start: past rows sent (1% of them bounced), failed or cancelled, future rows scheduled, held-out rows
cancelled; about 30% of invoices paid 0..45 days after the enrollment started; replies to about 5% of
the enrollments' first emails.

Each round, in turns:
- endpoint: GET /api/companies/{id}/sequences/{id}/performance (the default range) through DRF's
  APIClient with a real API token: authentication, membership, the selector's statements, JSON
- count(*): a bare `SELECT count(*)` of the sequence's rows (the least any read of them costs)

Target: the endpoint's p95 at most 300 ms. `--strict` exits 1 on a miss.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Production settings, as a web worker runs them (DEBUG keeps every query's SQL in memory).
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-" + "x" * 40)
os.environ.setdefault("API_THROTTLE_RATE", "off")

from bench.common import interleaved, print_table  # noqa: E402

STEPS = 5
EXPERIMENT_STEPS = (1, 3)  # 0-based: the second and fourth reminders
TARGET_P95_MS = 300.0
HISTORY_DAYS = 730


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the data in place (to EXPLAIN it)")
    parser.add_argument("--reuse", action="store_true", help="time the data a --keep run left")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("ensure_database")
    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    company, sequence, key = reused() if args.reuse else build(args.enrollments)
    build_s = time.perf_counter() - started
    rows = scalar("SELECT count(*) FROM enrollments_scheduledstep WHERE sequence_id = %s", [sequence.pk])
    print(f"\nbuilt {args.enrollments:,} enrollments and {rows:,} rows in {build_s:.1f} s")

    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    path = f"/api/companies/{company.pk}/sequences/{sequence.pk}/performance"

    def endpoint() -> float:
        begin = time.perf_counter()
        response = client.get(path, secure=True)
        elapsed = time.perf_counter() - begin
        assert response.status_code == 200, response.content[:500]
        return elapsed

    def count() -> float:
        begin = time.perf_counter()
        scalar("SELECT count(*) FROM enrollments_scheduledstep WHERE sequence_id = %s", [sequence.pk])
        return time.perf_counter() - begin

    settle()
    endpoint(), count()  # warm the caches and the connection once, untimed
    runs = interleaved({"endpoint": endpoint, "count": count}, rounds=args.repeat)
    sample = client.get(path, secure=True).json()
    if not args.keep:
        reset()

    ms = {name: sorted(v * 1000 for v in values) for name, values in runs.items()}
    print(
        f"\nPerformance of one sequence: {args.enrollments:,} enrollments, {rows:,} rows, "
        f"{args.repeat} rounds in turns (ms)"
    )
    print_table(
        ["method", "p50", "p95", "max"],
        [(name, f"{p(v, 50):.1f}", f"{p(v, 95):.1f}", f"{v[-1]:.1f}") for name, v in ms.items()],
    )
    ratio = p(ms["endpoint"], 50) / p(ms["count"], 50)
    print(
        f"endpoint / count(*): {ratio:.1f}x at p50, {p(ms['endpoint'], 95) / p(ms['count'], 95):.1f}x at p95"
    )
    second = sample["steps"][1]
    print(
        f"sample: started {sample['enrollments']['started']:,}, collected {sample['collected']}, "
        f"median days to pay {sample['median_days_to_pay']}; step 2 sent {second['rows']['sent']:,}, "
        f"paid within 14 {second['paid_within']['14']['count']:,}, arms "
        + ", ".join(f"{a['key']} {a['probability_best']}" for a in second["variants"])
    )
    met = p(ms["endpoint"], 95) <= TARGET_P95_MS
    print(
        f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'} ({p(ms['endpoint'], 95):.1f} ms)"
    )
    return 1 if args.strict and not met else 0


def settle() -> None:
    """Measure a steady state, not the build's aftermath (as bench_queue.py does): flush its dirty pages
    now, or the checkpointer writes them during the measurement."""
    from django.db import DatabaseError

    try:
        sql("CHECKPOINT")
    except DatabaseError as exc:  # needs superuser or pg_checkpoint
        print(f"note: no CHECKPOINT before measuring ({exc})")


def p(sorted_values: list[float], percentile: int) -> float:
    """The nearest-rank percentile of a sorted list (p95 of 30 runs is the 29th)."""
    if percentile == 50:
        return statistics.median(sorted_values)
    rank = max(1, -(-percentile * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def scalar(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchone()[0]


def sql(statement: str, params=None) -> int:
    from django.db import connection

    begin = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        if os.environ.get("BENCH_VERBOSE"):
            print(f"  {time.perf_counter() - begin:6.1f} s  {' '.join(statement.split())[:70]}")
        return cursor.rowcount


def _without_checks() -> None:
    """Skip this session's foreign-key checks and triggers while building (`session_replication_role`,
    superuser only): the data is consistent by construction, and the deferred checks of 500,000 rows
    with six foreign keys are most of the build. The triggers it skips keep the queue's running counts
    and `ar_owner_id`, which nothing here reads. Without the privilege the build is only slower."""
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():  # a refused SET must not break the connection's transaction state
            sql("SET session_replication_role = replica")
    except DatabaseError as exc:
        print(f"note: building with foreign-key checks ({exc})")


def reset() -> None:
    sql("TRUNCATE daylit_company, auth_user CASCADE")


def reused():
    from daylit.models import Member
    from daylit.services import api_token_issue
    from sequences.models import Sequence

    sequence = Sequence.objects.select_related("company").get(name="Net-30 chase")
    _, key = api_token_issue(user=Member.objects.get(company=sequence.company).user)
    return sequence.company, sequence, key


def build(enrollments: int):
    """The company, its sequence and an API key of a member (see the module docstring for the data)."""
    from daylit.models import Company
    from daylit.services import api_token_issue, member_create
    from sequences.models import Sequence, SequenceStep

    reset()
    company = Company.objects.create(name="Bench performance")
    member = member_create(company=company, username="bench-perf", email="perf@bench.example")
    _, key = api_token_issue(user=member.user)
    sequence = Sequence.objects.create(company=company, name="Net-30 chase", status="active", timezone="UTC")
    variants = [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}]
    SequenceStep.objects.bulk_create(
        SequenceStep(
            sequence=sequence,
            label=f"Reminder {k + 1}",
            offset_days=3 * k,
            subject_template="Invoice {{ invoice.number }}",
            variants=variants if k in EXPERIMENT_STEPS else [],
            holdout_percent=10 if k in EXPERIMENT_STEPS else 0,
        )
        for k in range(STEPS)
    )
    p = {"c": str(company.pk), "s": str(sequence.pk), "n": enrollments, "days": HISTORY_DAYS}
    _without_checks()
    # Customer i, its invoice i (paid by about 30%: hash bucket < 30), enrollment i created i/n of the
    # way through the last two years.
    sql(
        """INSERT INTO daylit_customer (id, company_id, name, email, created_at)
           SELECT gen_random_uuid(), %(c)s, 'Customer ' || i, 'ap' || i || '@customer.example', now()
           FROM generate_series(1, %(n)s) i""",
        p,
    )
    sql(
        """INSERT INTO enrollments_enrollment (id, company_id, sequence_id, customer_id, status, start_date,
                                               time_zone, created_at, updated_at)
           SELECT gen_random_uuid(), %(c)s, %(s)s, cu.id, 'active', (now() - x.age)::date, 'UTC',
                  now() - x.age, now()
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS i FROM daylit_customer
                 WHERE company_id = %(c)s) cu
           CROSS JOIN LATERAL (SELECT (cu.i * %(days)s * 86400 / %(n)s || ' seconds')::interval AS age) x""",
        p,
    )
    sql(
        """INSERT INTO daylit_invoice (id, company_id, customer_id, number, currency, amount_due, issue_date,
                                       due_date, status, paid_at, disputed, created_at)
           SELECT gen_random_uuid(), %(c)s, e.customer_id, 'INV-' || e.id, x.currency,
                  100 + (abs(hashtext(e.id::text)) %% 90000) / 100.0, e.start_date - 30, e.start_date,
                  CASE WHEN x.paid_at < now() THEN 'paid' ELSE 'open' END,
                  CASE WHEN x.paid_at < now() THEN x.paid_at END, false, e.created_at - interval '30 days'
           FROM enrollments_enrollment e
           CROSS JOIN LATERAL (
               SELECT CASE WHEN abs(hashtext('cur' || e.id)) %% 5 = 0 THEN 'EUR' ELSE 'USD' END AS currency,
                      CASE WHEN abs(hashtext('pay' || e.id)) %% 100 < 30
                           THEN e.created_at
                                + (abs(hashtext('when' || e.id)) %% (45 * 86400) || ' seconds')::interval
                      END AS paid_at
           ) x
           WHERE e.sequence_id = %(s)s""",
        p,
    )
    sql(
        """UPDATE enrollments_enrollment e SET invoice_id = i.id FROM daylit_invoice i
           WHERE i.customer_id = e.customer_id AND e.sequence_id = %(s)s""",
        p,
    )
    # Rows: step k of enrollment e planned 3k days after it started. Past rows went out (sent, with 2%
    # failed and 3% cancelled), future ones wait; held-out rows (10% of steps 2 and 4) were created
    # cancelled. Statuses by a hash of (enrollment, step), as in bench_queue.py.
    sql(
        """INSERT INTO enrollments_scheduledstep (id, company_id, enrollment_id, sequence_id, step_id,
               customer_id, step_type, status, scheduled_for, ready_at, processed_at, to_email, subject,
               body_plain, body_html, provider_message_id, provider_thread_id, error, notes, attempts,
               variant_key, created_at, updated_at)
           SELECT gen_random_uuid(), %(c)s, e.id, e.sequence_id, st.id, e.customer_id, 'reminder',
                  CASE WHEN x.variant = 'holdout' THEN 'cancelled'
                       WHEN x.due > now() THEN 'scheduled'
                       WHEN x.h %% 100 < 2 THEN 'failed'
                       WHEN x.h %% 100 < 5 THEN 'cancelled'
                       ELSE 'sent' END,
                  x.due,
                  CASE WHEN x.variant IS DISTINCT FROM 'holdout' AND x.due <= now() THEN x.due END,
                  CASE WHEN x.variant = 'holdout' THEN e.created_at
                       WHEN x.due <= now() THEN x.due + interval '7 minutes' END,
                  'ap@customer.example', '', '', '', '', '',
                  CASE WHEN x.variant = 'holdout' THEN 'holdout'
                       WHEN x.due <= now() AND x.h %% 100 >= 5 AND x.h %% 1000 < 60
                       THEN 'bounced: mailbox unavailable'
                       ELSE '' END,
                  '', 0, x.variant, e.created_at, now()
           FROM enrollments_enrollment e
           JOIN sequences_sequencestep st ON st.sequence_id = e.sequence_id
           CROSS JOIN LATERAL (
               SELECT abs(hashtext(e.id::text || st.id::text)) AS h,
                      e.created_at + (st.offset_days || ' days')::interval AS due,
                      CASE WHEN st.holdout_percent = 0 THEN NULL
                           WHEN abs(hashtext('v' || e.id::text || st.id::text)) %% 100 < 10 THEN 'holdout'
                           WHEN abs(hashtext('v' || e.id::text || st.id::text)) %% 2 = 0 THEN 'a'
                           ELSE 'b' END AS variant
           ) x
           WHERE e.sequence_id = %(s)s""",
        p,
    )
    # Enrollments: paid ones completed at the payment, 10% stopped otherwise; 5% of the rest paused.
    sql(
        """UPDATE enrollments_enrollment e SET status = 'completed', stop_reason = 'paid',
                  completed_at = i.paid_at + interval '1 second'
           FROM daylit_invoice i WHERE i.id = e.invoice_id AND i.status = 'paid' AND e.sequence_id = %(s)s""",
        p,
    )
    sql(
        """UPDATE enrollments_enrollment
           SET status = 'completed', completed_at = created_at + interval '16 days',
               stop_reason = (ARRAY['replied', 'bounced', 'finished', 'stopped'])
                             [abs(hashtext(id::text)) %% 4 + 1]
           WHERE sequence_id = %(s)s AND status = 'active' AND abs(hashtext('stop' || id)) %% 10 = 0
             AND created_at < now() - interval '16 days'""",
        p,
    )
    sql(
        """UPDATE enrollments_enrollment SET status = 'paused', paused_at = now() - interval '1 day',
                  pause_reason = 'promise'
           WHERE sequence_id = %(s)s AND status = 'active' AND abs(hashtext('pause' || id)) %% 20 = 0""",
        p,
    )
    # Replies to about 5% of the first emails, a day later, of every class.
    sql(
        """INSERT INTO queue_reply (id, company_id, customer_id, enrollment_id, row_id, provider_message_id,
               provider_thread_id, from_email, subject, text, received_at, classification, confidence,
               classified_by, prompt_version, action, paused_enrollment_ids, created_at)
           SELECT gen_random_uuid(), %(c)s, s.customer_id, s.enrollment_id, s.id, 'reply-' || s.id, '',
                  s.to_email, 'Re: your invoice', 'Thanks', s.processed_at + interval '1 day',
                  (ARRAY['auto_reply', 'promise', 'dispute', 'paid_claim', 'wrong_contact', 'unsubscribe',
                         'question', 'other'])[abs(hashtext('class' || s.id)) %% 8 + 1],
                  0.9, 'rules', '', '', '{}', now()
           FROM enrollments_scheduledstep s
           JOIN sequences_sequencestep st ON st.id = s.step_id AND st.offset_days = 0
           WHERE s.sequence_id = %(s)s AND s.status = 'sent'
             AND abs(hashtext('reply' || s.enrollment_id)) %% 20 = 0""",
        p,
    )
    sql("SET session_replication_role = DEFAULT")
    sql("VACUUM ANALYZE")
    return company, sequence, key


if __name__ == "__main__":
    sys.exit(main())
