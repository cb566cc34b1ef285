"""Queue benchmarks against PostgreSQL (run: `.venv/bin/python bench/bench_queue.py`).

1. promote-and-render 100,000 due reminder rows as the periodic task does (`queue_rows_promote` with
   `QUEUE_PROMOTION_WORKERS - 1` helper passes, taken by a Celery worker started in this process over
   the in-memory broker), one webhook endpoint subscribed to `queue_row.ready` (so every row also
   writes its event and a delivery; target >= 10,000 rows/s and within 1.5x of the same promotion with
   event recording switched off), compared in turns with the same promotion with event recording
   switched off, the helper threads promotion started before issue #22 (kept here only as a
   baseline: "not slower than before"), one pass alone (a web request's promotion), and a raw SQL
   UPDATE that moves the same rows without rendering anything;
2. one queue page (filters + search) over 1,000,000 rows, p95 of repeated requests (target < 50 ms),
   each request in turns with a bare count(*) of its tab (the baseline: the least an exact count costs).

`make bench` runs it on the embedded server's daylit_bench database (or DATABASE_URL); the database
is created if missing, migrated, and its data replaced. Rows are generated with INSERT ... SELECT
generate_series.
"""

import gc
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daylit.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Production settings, as a web worker runs them (DEBUG keeps every query's SQL in memory).
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-" + "x" * 40)

PROMOTE_ROWS = int(os.environ.get("BENCH_PROMOTE_ROWS", 100_000))
PAGE_ROWS = int(os.environ.get("BENCH_PAGE_ROWS", 1_000_000))
PAGE_REPEATS = int(os.environ.get("BENCH_PAGE_REPEATS", 40))
PROMOTE_ROUNDS = int(os.environ.get("BENCH_PROMOTE_ROUNDS", 3))
STEPS_PER_SEQUENCE = 5


from celery.contrib.testing.worker import start_worker  # noqa: E402
from celery.signals import task_postrun  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402,F401
from django.utils import timezone  # noqa: E402

import daylit.wsgi  # noqa: E402,F401 (sets Django up as a web worker does, start-up objects frozen for the GC)
from bench.common import interleaved, median_ratio, spread  # noqa: E402
from connections.models import EmailConnection  # noqa: E402
from daylit.celery import app as celery_app  # noqa: E402
from daylit.models import Company, Member  # noqa: E402
from daylit.services import member_create  # noqa: E402
from events.models import WebhookEndpoint  # noqa: E402
from events.types import QUEUE_ROW_READY  # noqa: E402
from outreach_queue.selectors import CATEGORY_STATUSES, queue_row_list  # noqa: E402
from outreach_queue.services import PROMOTION_BATCH_SIZE, promotion, queue_rows_promote  # noqa: E402
from sequences.models import Sequence, SequenceStep  # noqa: E402


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def reset() -> None:
    sql("TRUNCATE daylit_company, auth_user CASCADE")


def build(
    *, rows: int, sequences: int, customers: int, due_share: float, ready_share: float, history_share: float
) -> tuple[Company, Member]:
    """A company with `sequences` sequences of 5 reminder steps, `customers` customers (one open
    invoice each, a third owned by a member), and `rows` queue rows spread over them."""
    company = Company.objects.create(name="Bench Co")
    member = member_create(company=company, username="bench-owner", email="owner@bench.example")
    sender = EmailConnection.objects.create(
        company=company, member=member, email="ar@bench.example", grant_id="bench-grant"
    )
    seqs = Sequence.objects.bulk_create(
        Sequence(
            company=company,
            name=f"{'Net-30' if i % 2 else 'Enterprise'} chase {i:04d}",
            status="active",
            sender_connection=sender,
            timezone="UTC",
        )
        for i in range(sequences)
    )
    SequenceStep.objects.bulk_create(
        SequenceStep(
            sequence=s,
            label=f"Reminder {k + 1} ({s.name[-4:]})",
            offset_days=k * 3,
            subject_template="Invoice {{ invoice.number }} for {{ customer.name }}",
            body_plain_template="Hello {{ customer.name }}, {{ invoice.amount_due }} "
            "{{ invoice.currency }} was due {{ invoice.due_date }}. "
            "Total open: {{ total_due }}. {{ sender.name }}",
            body_html_template="<p>Hello {{ customer.name }}, please pay {{ invoice.number }}.</p>",
        )
        for s in seqs
        for k in range(STEPS_PER_SEQUENCE)
    )
    c = str(company.pk)
    sql(
        """INSERT INTO daylit_customer (id, company_id, name, email, ar_owner_id, created_at)
           SELECT gen_random_uuid(), %s, 'Customer ' || i || ' ' || substr(md5(i::text), 1, 8),
                  'ap' || i || '@customer.example', CASE WHEN i %% 3 = 0 THEN %s::uuid END, now()
           FROM generate_series(1, %s) i""",
        [c, str(member.pk), customers],
    )
    sql(
        """INSERT INTO daylit_invoice (id, company_id, customer_id, number, currency, amount_due, issue_date,
                                       due_date, status, created_at)
           SELECT gen_random_uuid(), %s, id, 'INV-' || row_number() OVER (ORDER BY id), 'USD',
                  100 + (random() * 900)::int, date '2026-01-01', date '2026-01-31', 'open', now()
           FROM daylit_customer WHERE company_id = %s""",
        [c, c],
    )
    enrollments = rows // STEPS_PER_SEQUENCE
    # Enrollment e: customer e mod customers, sequence shifted by one per lap over the customers, so
    # every sequence gets enrollments and a customer is never twice in one sequence.
    sql(
        """WITH cust AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM daylit_customer
                         WHERE company_id = %s),
                seq AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM sequences_sequence
                        WHERE company_id = %s)
           INSERT INTO enrollments_enrollment (id, company_id, sequence_id, customer_id, status, start_date,
                                               time_zone, created_at, updated_at)
           SELECT gen_random_uuid(), %s, seq.id, cust.id, 'active', date '2026-01-01', 'UTC', now(), now()
           FROM generate_series(0, %s - 1) e
           JOIN cust ON cust.n = e %% %s
           JOIN seq ON seq.n = (e + e / %s) %% %s""",
        [c, c, c, enrollments, customers, customers, sequences],
    )
    # Status by position: due scheduled rows first, then ready, then history, the rest future. Every
    # row is inserted `scheduled` (as enrolling does), then history and ready rows are moved by UPDATEs
    # in the order the app moves them (older rows went out first), so the heap holds the new row
    # versions where PostgreSQL puts them in real use, not a layout no workload produces.
    sql(
        """INSERT INTO enrollments_scheduledstep (id, company_id, enrollment_id, sequence_id, step_id,
               customer_id, step_type, status, scheduled_for, ready_at, processed_at, to_email, subject,
               body_plain, body_html, provider_message_id, provider_thread_id, error, notes, attempts,
               created_at, updated_at)
           SELECT gen_random_uuid(), %(c)s, e.id, e.sequence_id, st.id, e.customer_id, 'reminder',
                  'scheduled',
                  CASE WHEN x.status = 'scheduled' AND x.r >= %(due)s
                       THEN now() + (x.r || ' seconds')::interval
                       ELSE now() - (x.r || ' seconds')::interval END,
                  NULL, NULL, '', '', '', '', '', '', '', '', 0, now(), now() - (x.r || ' seconds')::interval
           FROM enrollments_enrollment e
           JOIN daylit_customer cu ON cu.id = e.customer_id
           JOIN sequences_sequencestep st ON st.sequence_id = e.sequence_id
           CROSS JOIN LATERAL (
               SELECT r, CASE WHEN r < %(due)s THEN 'scheduled'
                              WHEN r < %(due)s + %(ready)s THEN 'ready'
                              WHEN r < %(due)s + %(ready)s + %(history)s THEN 'sent'
                              ELSE 'scheduled' END AS status
               FROM (SELECT (abs(hashtext(e.id::text || st.id::text)) %% %(rows)s) AS r) h
           ) x
           WHERE e.company_id = %(c)s""",
        {
            "c": c,
            "due": int(rows * due_share),
            "ready": int(rows * ready_share),
            "history": int(rows * history_share),
            "rows": rows,
        },
    )
    due, ready, history = int(rows * due_share), int(rows * ready_share), int(rows * history_share)
    for status, low, high in (("sent", due + ready, due + ready + history), ("ready", due, due + ready)):
        if high > low:
            sql(
                """UPDATE enrollments_scheduledstep s SET status = %(status)s, to_email = cu.email,
                          subject = 'Invoice ' || substr(md5((abs(hashtext(s.enrollment_id::text
                                    || s.step_id::text)) %% %(rows)s)::text), 1, 10) || ' for ' || cu.name
                   FROM daylit_customer cu
                   WHERE cu.id = s.customer_id AND s.company_id = %(c)s
                     AND abs(hashtext(s.enrollment_id::text || s.step_id::text)) %% %(rows)s
                         BETWEEN %(low)s AND %(high)s - 1""",
                {"status": status, "rows": rows, "c": c, "low": low, "high": high},
            )
    sql("ANALYZE")
    return company, member


def bench_promotion() -> dict:
    """Promote-and-render against a raw UPDATE of the same rows, in turns, `PROMOTE_ROUNDS` each: the
    rows go back to `scheduled` (unrendered) before every run."""
    reset()
    build(
        rows=PROMOTE_ROWS,
        sequences=20,
        customers=PROMOTE_ROWS // 5,
        due_share=1.0,
        ready_share=0,
        history_share=0,
    )
    due = sql("SELECT 1 FROM enrollments_scheduledstep WHERE status = 'scheduled' AND scheduled_for <= now()")
    WebhookEndpoint.objects.create(
        company=Company.objects.get(),
        url="https://erp.bench.example/hooks",
        event_types=[QUEUE_ROW_READY],
        secret="whsec_" + "A" * 32,
    )
    outcome = {}

    def unpromote() -> None:
        sql("""UPDATE enrollments_scheduledstep SET status = 'scheduled', ready_at = NULL, subject = '',
               body_plain = '', body_html = '', to_email = ''""")
        sql("TRUNCATE events_webhookdelivery, events_event")
        sql("VACUUM ANALYZE enrollments_scheduledstep")  # each run starts from the same table state

    helpers = settings.QUEUE_PROMOTION_WORKERS - 1
    finished = threading.Semaphore(0)

    def helper_finished(sender=None, **kwargs) -> None:
        if sender is not None and sender.name == promotion.PROMOTE_PASS_TASK:
            finished.release()

    def timed(run) -> float:
        unpromote()
        started = time.perf_counter()
        outcome["promoted"] = run()
        elapsed = time.perf_counter() - started
        outcome["rendered"] = sql(
            "SELECT 1 FROM enrollments_scheduledstep WHERE status = 'ready' AND subject <> ''"
        )
        outcome["events"] = sql("SELECT 1 FROM events_event WHERE type = %s", [QUEUE_ROW_READY])
        outcome["deliveries"] = sql("SELECT 1 FROM events_webhookdelivery")
        assert outcome["rendered"] == due, f"{outcome['rendered']:,} of {due:,} rows promoted"
        return elapsed

    def as_the_periodic_task() -> int:
        # The task's pass, then the helpers' end: they may still commit their last batch when it returns.
        moved = queue_rows_promote(helpers=helpers)
        for _ in range(helpers if moved >= PROMOTION_BATCH_SIZE else 0):  # enqueued on a full first batch
            if not finished.acquire(timeout=600):
                raise RuntimeError("a helper pass never finished")
        return moved

    def promote() -> float:
        return timed(as_the_periodic_task)

    def promote_without_events() -> float:
        # The baseline the target is judged against: the same code with event recording a no-op (the
        # worker is a thread of this process, so the patch reaches its passes too).
        with mock.patch("outreach_queue.services.promotion.events_record", return_value=0):
            return promote()

    def threads_before() -> float:
        return timed(lambda: _promote_in_threads_as_before(workers=helpers + 1))

    def one_pass() -> float:
        return timed(queue_rows_promote)  # what a web request does: no helpers

    def raw_update() -> float:
        unpromote()
        started = time.perf_counter()
        sql("""UPDATE enrollments_scheduledstep SET status = 'ready', ready_at = now(),
               updated_at = now() WHERE status = 'scheduled' AND scheduled_for <= now()""")
        return time.perf_counter() - started

    task_postrun.connect(helper_finished, weak=False)
    # A worker as in the Procfile (threads pool), one thread per helper, on the in-memory broker.
    with start_worker(celery_app, pool="threads", concurrency=max(helpers, 1), perform_ping_check=False):
        runs = interleaved(
            {
                "without_events": promote_without_events,
                "promote": promote,
                "threads_before": threads_before,
                "one_pass": one_pass,
                "raw": raw_update,
            },
            rounds=PROMOTE_ROUNDS,
        )
    task_postrun.disconnect(helper_finished)
    return {
        "due": due,
        **outcome,
        "helpers": helpers,
        "seconds": runs["promote"],
        "rows_per_s": outcome["promoted"] / statistics.median(runs["promote"]),
        "without_events_seconds": runs["without_events"],
        "ratio_to_without_events": median_ratio(runs["promote"], runs["without_events"]),
        "threads_before_seconds": runs["threads_before"],
        "ratio_to_threads_before": median_ratio(runs["promote"], runs["threads_before"]),
        "one_pass_seconds": runs["one_pass"],
        "ratio_to_one_pass": median_ratio(runs["promote"], runs["one_pass"]),
        "raw_sql_seconds": runs["raw"],
        "ratio_to_raw": median_ratio(runs["promote"], runs["raw"]),
    }


def _promote_in_threads_as_before(*, workers: int) -> int:
    """The orchestration promotion had before issue #22, kept only as this benchmark's baseline: the
    caller's first batch, then `workers - 1` helper passes in threads of the caller beside its own."""
    pass_args = {"company": None, "now": timezone.now(), "batch_size": PROMOTION_BATCH_SIZE}
    moved, after = promotion._promote_pass(**pass_args, after=None, max_batches=1)
    results: list[int] = []

    def helper() -> None:
        try:
            results.append(promotion._promote_pass(**pass_args, after=None)[0])
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=helper) for _ in range(workers - 1)]
    for thread in threads:
        thread.start()
    moved += promotion._promote_pass(**pass_args, after=after)[0]
    for thread in threads:
        thread.join()
    return moved + sum(results)


def bench_page() -> dict:
    reset()
    started = time.perf_counter()
    company, member = build(
        rows=PAGE_ROWS, sequences=200, customers=50_000, due_share=0.0, ready_share=0.10, history_share=0.30
    )
    sql("VACUUM ANALYZE")
    build_s = time.perf_counter() - started
    settle()
    total = sql("SELECT 1 FROM enrollments_scheduledstep")
    return {"rows": total, "build_seconds": build_s, "cases": measure_pages(company, member)}


def settle() -> None:
    """Measure a steady state, not the aftermath of the load: flush the build's dirty pages now (else
    the checkpointer writes a gigabyte of them, spread over the next minutes, during the measurement)
    and collect this process's garbage from the promotion benchmark (a web worker starts clean)."""
    try:
        sql("CHECKPOINT")
    except DatabaseError as exc:  # needs superuser or pg_checkpoint
        print(f"note: no CHECKPOINT before measuring ({exc}); the build's pages flush during it")
    gc.collect()


def measure_pages(company: Company, member: Member) -> dict:
    cases = [
        ("ready, no filter", {"category": "ready"}),
        (
            "ready + step_type + ar_owner (member,__unassigned__)",
            {"category": "ready", "step_type": "reminder", "ar_owner": [str(member.pk), "__unassigned__"]},
        ),
        ("ready + search customer", {"category": "ready", "search": "customer 4242"}),
        ("ready + search sequence name", {"category": "ready", "search": "chase 0042"}),
        ("ready + search subject fragment", {"category": "ready", "search": "5e2a"}),
        (
            "ready + step_type + ar_owner + search (2% of customers)",
            {
                "category": "ready",
                "step_type": "reminder",
                "ar_owner": [str(member.pk)],
                "search": "customer 12",
            },
        ),
        (
            "ready + step_type + ar_owner + search (22% of customers)",
            {
                "category": "ready",
                "step_type": "reminder",
                "ar_owner": [str(member.pk)],
                "search": "customer 1",
            },
        ),
        ("upcoming, no filter", {"category": "upcoming"}),
        ("upcoming + search", {"category": "upcoming", "search": "reminder 3 (0007"}),
        ("history, page 3", {"category": "history", "page": 3}),
        (
            "history + ar_owner + search",
            {"category": "history", "ar_owner": ["__unassigned__"], "search": "enterprise"},
        ),
    ]
    results = {}
    for name, filters in cases:
        page = filters.pop("page", 1)
        seen = {}

        def read_page(filters=filters, page=page, seen=seen) -> float:
            t0 = time.perf_counter()
            queue_rows_promote(company=company)  # what every queue read does first
            rows = queue_row_list(company=company, filters=filters)
            seen["count"] = rows.count()
            seen["page_rows"] = len(list(rows[(page - 1) * 20 : page * 20]))
            return (time.perf_counter() - t0) * 1000

        def bare_count(category=filters["category"]) -> float:
            return _tab_count(company, category)

        # The case and its baseline take turns, request by request.
        runs = interleaved({"page": read_page, "floor": bare_count}, rounds=PAGE_REPEATS)
        timings = sorted(runs["page"])
        results[name] = {
            **seen,
            "p50_ms": statistics.median(timings),
            "p95_ms": timings[int(len(timings) * 0.95) - 1],
            "spread": spread(timings),
            "floor": spread(runs["floor"]),
            "ratio_to_floor": median_ratio(runs["page"], runs["floor"]),
        }
    return results


def _tab_count(company: Company, category: str) -> float:
    """Milliseconds of a bare `count(*)` of the tab's rows in raw SQL: what any exact count of that tab
    costs on this machine, whatever the filters (the baseline each case is compared with)."""
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM enrollments_scheduledstep WHERE company_id = %s AND status = ANY(%s)",
            [company.pk, CATEGORY_STATUSES[category]],
        )
        cursor.fetchone()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    call_command("ensure_database")
    call_command("migrate", verbosity=0)
    promotion = bench_promotion()
    print(
        f"promote-and-render: {promotion['promoted']:,} of {promotion['due']:,} due rows "
        f"({promotion['rendered']:,} rendered) in {spread(promotion['seconds'])} s (median (min-max) of "
        f"{PROMOTE_ROUNDS} runs) = {promotion['rows_per_s']:,.0f} rows/s at the median (target >= 10,000), "
        f"with {promotion['events']:,} queue_row.ready events and {promotion['deliveries']:,} deliveries"
    )
    print(
        f"the same promotion without recording events, in turns with it: "
        f"{spread(promotion['without_events_seconds'])} s; with events it takes "
        f"{promotion['ratio_to_without_events']:.2f}x as long (target <= 1.5x)"
    )
    print(
        f"promotion as before issue #22 (helper threads of the caller), in turns with it: "
        f"{spread(promotion['threads_before_seconds'])} s; today's (the periodic task's pass and "
        f"{promotion['helpers']} helper task(s) on a worker) takes "
        f"{promotion['ratio_to_threads_before']:.2f}x as long (target <= 1.0x, ratio of medians)"
    )
    print(
        f"one pass alone (a web request's promotion), in turns with it: "
        f"{spread(promotion['one_pass_seconds'])} s (the periodic task with helpers takes "
        f"{promotion['ratio_to_one_pass']:.2f}x as long)"
    )
    print(
        f"raw SQL UPDATE of the same rows, in turns with it: {spread(promotion['raw_sql_seconds'])} s; "
        f"promote-and-render takes {promotion['ratio_to_raw']:.1f}x as long (ratio of medians)"
    )
    if os.environ.get("BENCH_SKIP_PAGE"):
        return
    page = bench_page()
    print(
        f"queue page at {page['rows']:,} rows (built in {page['build_seconds']:.0f} s), "
        f"{PAGE_REPEATS} runs each, count + page of 20, promotion included, in turns with a bare count(*) of "
        f"the tab (ms: median (min-max); the ratio is of medians):"
    )
    worst = 0.0
    for name, r in page["cases"].items():
        worst = max(worst, r["p95_ms"])
        print(
            f"  {name:57s} count={r['count']:>7,}  {r['spread']} ms  p95={r['p95_ms']:6.1f} ms  "
            f"{r['ratio_to_floor']:.1f}x the tab's bare count, {r['floor']} ms"
        )
    print(f"worst p95: {worst:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
