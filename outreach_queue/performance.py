"""A sequence's performance over a range of days (SPEC Part 2, "Performance and experiments").

`sequence_performance` answers the endpoint's JSON in a fixed number of SQL statements whatever the
number of steps, rows or payments: the steps, the planner settings, then five aggregates (GROUP BY
step, variant, currency; FILTER per measure) over the sequence's rows, replies, enrollments and
invoices, each a range scan of an index (enrollments.0014, daylit.0005) over what the range can
count. Python only shapes the few aggregated rows. The rules (which timestamp puts a row in the range,
which email gets credit for a payment, how currencies are reported) are written down in
docs/performance.md; the comments here say where each is applied.

The range is whole local days in the sequence's timezone: [`date_from` 00:00, `date_to` + 1 day 00:00).
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from daylit.models import Company
from enrollments.scheduling import local_today, zone
from outreach_queue.experiment_stats import probability_best, rate, wilson_interval
from outreach_queue.models import ReplyClass
from sequences.models import HOLDOUT_KEY, Sequence, SequenceStep

DEFAULT_RANGE_DAYS = 90
PAID_WINDOWS = (7, 14, 30)
# The arm of a step with a holdout but no variants: the rows that were sent as the step wrote them.
DEFAULT_ARM = "default"
ROUND = 4


def default_range(
    *, sequence: Sequence, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """The range asked for, its missing ends filled: `to` defaults to today in the sequence's timezone,
    `from` to 89 days before `to` (90 days, both ends included; never before the first date)."""
    date_to = date_to or local_today(sequence.timezone)
    if date_from is None:
        span = datetime.timedelta(days=DEFAULT_RANGE_DAYS - 1)
        date_from = date_to - span if date_to - datetime.date.min >= span else datetime.date.min
    return date_from, date_to


def local_midnight(day: datetime.date, tz_name: str) -> datetime.datetime:
    """00:00 of `day` in `tz_name` as an aware UTC instant (fold=0, as enrollments.scheduling does); the
    first and last days datetime can hold clamp to its limits."""
    try:
        wall = datetime.datetime.combine(day, datetime.time(0), tzinfo=zone(tz_name))
        return wall.replace(fold=0).astimezone(datetime.UTC)
    except OverflowError:
        limit = datetime.datetime.min if day.year == 1 else datetime.datetime.max
        return limit.replace(tzinfo=datetime.UTC)


def sequence_performance(
    *,
    company: Company,
    sequence: Sequence,
    date_from: datetime.date,
    date_to: datetime.date,
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The performance of `sequence` (of `company`) from `date_from` to `date_to`, both whole local days
    included, as the endpoint answers it (amounts as decimal strings). The caller checks
    `date_from <= date_to` and that the sequence is the company's."""
    now = now or timezone.now()
    start = local_midnight(date_from, sequence.timezone)
    end = (
        local_midnight(date_to + datetime.timedelta(days=1), sequence.timezone)
        if date_to < datetime.date.max
        else datetime.datetime.max.replace(tzinfo=datetime.UTC)
    )
    params = {"company": company.pk, "sequence": sequence.pk, "start": start, "end": end, "now": now}
    steps = list(
        SequenceStep.objects.filter(sequence=sequence)
        .order_by("offset_days", "offset_time", "created_at", "id")
        .values("id", "label", "step_type", "variants", "holdout_percent")
    )
    params["experiments"] = [step["id"] for step in steps if step["variants"] or step["holdout_percent"]]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PLANNER_SQL)
        enrollments = _enrollments(cursor, params)
        rows = _rows(cursor, params)
        _add_customer_credits(cursor, params, rows)
        replies = _replies(cursor, params, rows)
        collected, median = _collected(cursor, params)
    return {
        "sequence_id": str(sequence.pk),
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "enrollments": enrollments,
        "collected": collected,
        "median_days_to_pay": median,
        "steps": [
            _step(step, counted=rows.get(step["id"]) or _empty_step(), replies=replies) for step in steps
        ],
    }


# --- the statements --------------------------------------------------------------------------------

# For this transaction only: no parallel workers (on the 2-core servers a Gather Merge of the ~90,000
# folded rows cost more than the scan it split, as queue.0004 found for the queue's reads); memory
# enough to fold the rows in a hash table rather than sort them; and index lookups priced as the cached
# reads they are (random_page_cost 1.1, not the spinning-disk 4), so the paid invoices find their
# enrollments through `enroll_invoice` instead of hashing all 100,000. Measured: ROWS_SQL 160-300 ms ->
# 140-185 ms, then the whole selector's median 15% lower. (No JIT either, as in every session of the
# service, daylit/settings.py: ROWS_SQL's estimate is over jit_above_cost, and compiling its
# expressions took 45-50 ms of each call, more than it saved.)
# (set_config(..., true) lasts to the end of the outer transaction when the caller holds one; the API and
# the admin page call this in autocommit, so it ends with the savepoint's transaction.)
PLANNER_SQL = (
    "SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('work_mem', '32MB', true), "
    "set_config('random_page_cost', '1.1', true)"
)

# Started in range (by created_at) and, of those, how many are active or paused now; completed in range
# by stop reason. Two range scans, index-only: `enroll_performance` (sequence, created_at) and
# `enroll_completed` (sequence, completed_at).
ENROLLMENTS_SQL = """
SELECT false AS by_reason, NULL AS stop_reason, count(*),
       count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'paused'), NULL
FROM enrollments_enrollment
WHERE sequence_id = %(sequence)s AND created_at >= %(start)s AND created_at < %(end)s
UNION ALL
SELECT true, COALESCE(NULLIF(stop_reason, ''), 'unknown'), NULL, NULL, NULL, count(*)
FROM enrollments_enrollment
WHERE sequence_id = %(sequence)s AND status = 'completed'
  AND completed_at >= %(start)s AND completed_at < %(end)s
GROUP BY 2
"""


def _enrollments(cursor, params) -> dict[str, Any]:
    cursor.execute(ENROLLMENTS_SQL, params)
    totals = {"started": 0, "active": 0, "paused": 0, "completed": {}}
    for by_reason, reason, started, active, paused, completed in cursor.fetchall():
        if not by_reason:
            totals.update(started=started, active=active, paused=paused)
        elif completed:
            totals["completed"][reason] = completed
    totals["completed"] = dict(sorted(totals["completed"].items()))
    return totals


# Everything counted per row, in one statement over only the rows the range can count (index-only range
# scans): rows that ended in the range or later, or have not ended (`sched_performance`, by
# `processed_at`): a row ready in the range was processed after it, or not yet; and the experiment's
# reminders planned for the range in the steps that run an experiment (`sched_experiment`, by
# `scheduled_for`), which feed the arms only.
# Each row by the moment it reached its state: `ready_at` for ready (whatever it became after),
# `processed_at` for the end states (set by the move to sent, failed, cancelled and completed). Held-out
# rows are never emails: they are left out of `cancelled` and reported in the variants only.
# Payments: each row joined to its enrollment's own invoice when paid since the range began (at most
# one per row, so counts stay per row); an email is a row sent in range, timed from `processed_at`; a
# held-out row counts from `scheduled_for` (in range and past, its enrollment still running and its
# invoice still unpaid then, as for an email that would have been sent); credited when paid 0..N days
# after.
# Grouping sets: (step) for the step, (step, variant) for the arms, (step, currency) for the amounts.
ROWS_SQL = """
WITH paid AS (
    SELECT e.id AS enrollment_id, i.currency, i.amount_due, i.paid_at
    FROM daylit_invoice i
    JOIN enrollments_enrollment e ON e.invoice_id = i.id
    WHERE i.company_id = %(company)s AND i.status = 'paid' AND i.paid_at >= %(start)s
      AND e.sequence_id = %(sequence)s
),
touched AS (
    SELECT step_id, variant_key, status, enrollment_id, ready_at, processed_at,
           NULL::timestamptz AS planned_for, NULL::boolean AS stopped_before
    FROM enrollments_scheduledstep
    WHERE sequence_id = %(sequence)s AND processed_at >= %(start)s
    UNION ALL
    SELECT step_id, variant_key, status, enrollment_id, ready_at, processed_at, NULL, NULL
    FROM enrollments_scheduledstep
    WHERE sequence_id = %(sequence)s AND processed_at IS NULL
    UNION ALL
    -- A held-out row stands for an email that would have gone out only if its enrollment had not been
    -- stopped before then (a variant's row whose enrollment stopped first is cancelled, never sent,
    -- never counted). Finishing is no stop: when the held-out step is the last, the enrollment finishes
    -- with the row before it.
    SELECT s.step_id, s.variant_key, NULL, s.enrollment_id, NULL, NULL, s.scheduled_for,
           CASE WHEN s.variant_key = 'holdout' THEN EXISTS (
               SELECT 1 FROM enrollments_enrollment e
               WHERE e.id = s.enrollment_id AND e.completed_at <= s.scheduled_for
                 AND e.stop_reason IS DISTINCT FROM 'finished') END
    FROM enrollments_scheduledstep s
    WHERE s.sequence_id = %(sequence)s AND s.step_type = 'reminder' AND s.step_id = ANY(%(experiments)s)
      AND s.scheduled_for >= %(start)s AND s.scheduled_for < %(end)s
),
flagged AS (
    SELECT t.step_id, t.variant_key, t.status, p.currency, p.amount_due,
           t.ready_at >= %(start)s AND t.ready_at < %(end)s AS ready_in_range,
           t.processed_at < %(end)s AS ended_in_range,
           t.status = 'sent' AND t.processed_at < %(end)s AS email,
           CASE WHEN p.paid_at < t.processed_at THEN NULL
                WHEN p.paid_at <= t.processed_at + interval '7 days' THEN 7
                WHEN p.paid_at <= t.processed_at + interval '14 days' THEN 14
                WHEN p.paid_at <= t.processed_at + interval '30 days' THEN 30 END AS paid_within,
           t.planned_for IS NOT NULL AS planned,
           t.planned_for <= %(now)s AND t.stopped_before IS NOT TRUE
               AND (p.paid_at IS NULL OR p.paid_at >= t.planned_for) AS planned_past,
           p.paid_at BETWEEN t.planned_for AND t.planned_for + interval '14 days' AS held_paid14
    FROM touched t
    LEFT JOIN paid p ON p.enrollment_id = t.enrollment_id
),
-- Rows folded into a few hundred kinds first (one hash, two aggregates per row), then the measures.
kinds AS (
    SELECT step_id, variant_key, status, currency, ready_in_range, ended_in_range, email, paid_within,
           planned, planned_past, held_paid14, count(*) AS n, sum(amount_due) AS amount
    FROM flagged
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
)
SELECT step_id, GROUPING(variant_key) = 0 AS by_variant, variant_key,
       GROUPING(currency) = 0 AS by_currency, currency,
       sum(n) FILTER (WHERE ready_in_range),
       sum(n) FILTER (WHERE email),
       sum(n) FILTER (WHERE ended_in_range AND status = 'failed'),
       sum(n) FILTER (WHERE ended_in_range AND status = 'cancelled'
                      AND variant_key IS DISTINCT FROM 'holdout'),
       sum(n) FILTER (WHERE ended_in_range AND status = 'completed'),
       sum(n) FILTER (WHERE planned),
       sum(n) FILTER (WHERE planned AND planned_past),
       sum(n) FILTER (WHERE email AND paid_within <= 7),
       sum(n) FILTER (WHERE email AND paid_within <= 14),
       sum(n) FILTER (WHERE email AND paid_within <= 30),
       sum(amount) FILTER (WHERE email AND paid_within <= 7),
       sum(amount) FILTER (WHERE email AND paid_within <= 14),
       sum(amount) FILTER (WHERE email AND paid_within <= 30),
       sum(n) FILTER (WHERE planned AND planned_past AND variant_key = 'holdout' AND held_paid14)
FROM kinds
GROUP BY GROUPING SETS ((step_id), (step_id, variant_key), (step_id, currency))
"""
# The per-row measures of ROWS_SQL in its column order; bounced and replied come from their statements.
ROW_MEASURES = (
    "ready", "sent", "failed", "cancelled", "completed", "due", "due_past", "paid7", "paid14", "paid30"
)  # fmt: skip
MEASURES = (*ROW_MEASURES, "held14", "bounced", "replied")


def _empty_step() -> dict:
    return {
        "all": dict.fromkeys(MEASURES, 0),
        "arms": {},
        "amounts": {w: defaultdict(Decimal) for w in PAID_WINDOWS},
    }


def _rows(cursor, params) -> dict[UUID, dict]:
    """{step_id: {"all": {measure: n}, "arms": {variant_key: {measure: n}}, "amounts": {window: {currency:
    Decimal}}}}."""
    cursor.execute(ROWS_SQL, params)
    found: dict[UUID, dict] = defaultdict(_empty_step)
    for step_id, by_variant, variant_key, by_currency, currency, *values in cursor.fetchall():
        # sum() of counts is numeric, and null where no kind matched.
        counts = {name: int(value or 0) for name, value in zip(ROW_MEASURES, values, strict=False)}
        amounts, held14 = values[len(ROW_MEASURES) : -1], int(values[-1] or 0)
        step = found[step_id]
        if by_variant:
            step["arms"][variant_key] = {**dict.fromkeys(MEASURES, 0), **counts, "held14": held14}
        elif by_currency:
            for window, amount in zip(PAID_WINDOWS, amounts, strict=True):
                if currency is not None and amount is not None:
                    step["amounts"][window][currency] += amount
        else:
            step["all"].update(counts)
    return found


# The same credits for enrollments without an invoice of their own: each email (or held-out row) is
# credited with the customer's invoices that existed at its moment and were paid 0..30 days after. An
# email may have several, so counts are of distinct rows. Few enrollments are customer-level; the
# statement starts from them (the partial index `enroll_customer_level`).
CUSTOMER_CREDITS_SQL = """
WITH credited AS (
    SELECT s.id, s.step_id, s.variant_key, s.variant_key IS DISTINCT FROM 'holdout' AS is_email,
           i.currency, i.amount_due, i.paid_at - m.moment AS delay
    FROM enrollments_enrollment e
    JOIN enrollments_scheduledstep s ON s.enrollment_id = e.id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.variant_key = 'holdout' THEN s.scheduled_for ELSE s.processed_at END AS moment
    ) m
    JOIN daylit_invoice i ON i.customer_id = e.customer_id
    WHERE e.sequence_id = %(sequence)s AND e.invoice_id IS NULL
      AND ((s.status = 'sent' AND s.processed_at >= %(start)s AND s.processed_at < %(end)s)
           OR (s.variant_key = 'holdout' AND s.step_id = ANY(%(experiments)s)
               AND s.scheduled_for >= %(start)s AND s.scheduled_for < %(end)s
               AND s.scheduled_for <= %(now)s
               AND (e.completed_at IS NULL OR e.completed_at > s.scheduled_for
                    OR e.stop_reason = 'finished')))
      AND i.status = 'paid' AND i.created_at <= m.moment
      AND i.paid_at >= m.moment AND i.paid_at <= m.moment + interval '30 days'
)
SELECT step_id, GROUPING(variant_key) = 0 AS by_variant, variant_key, GROUPING(currency) = 0 AS by_currency,
       currency,
       count(DISTINCT id) FILTER (WHERE is_email AND delay <= interval '7 days'),
       count(DISTINCT id) FILTER (WHERE is_email AND delay <= interval '14 days'),
       count(DISTINCT id) FILTER (WHERE is_email),
       sum(amount_due) FILTER (WHERE is_email AND delay <= interval '7 days'),
       sum(amount_due) FILTER (WHERE is_email AND delay <= interval '14 days'),
       sum(amount_due) FILTER (WHERE is_email),
       count(DISTINCT id) FILTER (WHERE NOT is_email AND delay <= interval '14 days'),
       count(DISTINCT id) FILTER (WHERE is_email AND delay <= interval '14 days')
FROM credited
GROUP BY GROUPING SETS ((step_id), (step_id, currency), (step_id, variant_key))
"""


def _add_customer_credits(cursor, params, found: dict[UUID, dict]) -> None:
    """Adds to `found` (enrollments have an invoice or not: the two sets of rows are disjoint)."""
    cursor.execute(CUSTOMER_CREDITS_SQL, params)
    for step_id, by_variant, variant_key, by_currency, currency, *values in cursor.fetchall():
        (c7, c14, c30), (a7, a14, a30), (held14, email14) = values[:3], values[3:6], values[6:]
        step = found[step_id]
        if by_variant:
            arm = step["arms"].setdefault(variant_key, dict.fromkeys(MEASURES, 0))
            arm["paid14"] += email14
            arm["held14"] += held14
        elif by_currency:
            for window, amount in zip(PAID_WINDOWS, (a7, a14, a30), strict=True):
                if amount is not None:
                    step["amounts"][window][currency] += amount
        else:
            for window, count in zip(PAID_WINDOWS, (c7, c14, c30), strict=True):
                step["all"][f"paid{window}"] += count


# Replies, and bounces, of the step's rows. Replies received in range by class (a reply names the sent
# row it answers); and per arm, its emails sent in range with a reply (any time, so after the range
# began: `queue_reply_company_recent`) other than an out-of-office. Bounces: recorded on the sent row
# itself (`error` "bounced: ..."), counted with the email's send; `sched_bounced` holds only those.
REPLIES_SQL = """
SELECT s.step_id, GROUPING(s.variant_key) = 0 AS by_variant, s.variant_key, r.classification,
       count(*) FILTER (WHERE r.received_at >= %(start)s AND r.received_at < %(end)s),
       count(DISTINCT s.id) FILTER (WHERE r.classification <> 'auto_reply' AND s.status = 'sent'
                                    AND s.processed_at >= %(start)s AND s.processed_at < %(end)s)
FROM queue_reply r
JOIN enrollments_scheduledstep s ON s.id = r.row_id
WHERE r.company_id = %(company)s AND r.received_at >= %(start)s AND s.sequence_id = %(sequence)s
GROUP BY GROUPING SETS ((s.step_id, r.classification), (s.step_id, s.variant_key))
UNION ALL
SELECT step_id, false, NULL, NULL, count(*), NULL
FROM enrollments_scheduledstep
WHERE sequence_id = %(sequence)s AND status = 'sent' AND error LIKE 'bounced:%%'
  AND processed_at >= %(start)s AND processed_at < %(end)s
GROUP BY step_id
"""


def _replies(cursor, params, found: dict[UUID, dict]) -> dict[UUID, dict[str, int]]:
    """Replies by class per step; adds `replied` (per arm) and `bounced` (per step) to `found`."""
    cursor.execute(REPLIES_SQL, params)
    by_class: dict[UUID, dict[str, int]] = defaultdict(dict)
    for step_id, by_variant, variant_key, classification, received, replied in cursor.fetchall():
        if by_variant:
            arm = found[step_id]["arms"].setdefault(variant_key, dict.fromkeys(MEASURES, 0))
            arm["replied"] = replied
        elif classification is None:
            found[step_id]["all"]["bounced"] = received
        elif received:
            by_class[step_id][classification] = received
    return by_class


# Collected: the invoices the sequence's enrollments chased, paid in range, each invoice once (a
# re-enrolled invoice is in two enrollments), per currency. An enrollment chases its invoice, or without
# one, the customer's invoices paid while it ran. Days to pay: from the first email any enrollment
# chasing the invoice sent (before the payment) to the payment; the median over the invoices.
COLLECTED_SQL = """
WITH chased AS (
    -- An enrollment's own invoice counts every email it sent; a customer's, those once it existed.
    SELECT e.id AS enrollment_id, i.id AS invoice_id, i.currency, i.amount_due, i.paid_at,
           '-infinity'::timestamptz AS emails_from
    FROM daylit_invoice i
    JOIN enrollments_enrollment e ON e.invoice_id = i.id
    WHERE i.company_id = %(company)s AND i.status = 'paid' AND i.paid_at >= %(start)s AND i.paid_at < %(end)s
      AND e.sequence_id = %(sequence)s
    UNION ALL
    SELECT e.id, i.id, i.currency, i.amount_due, i.paid_at, i.created_at
    FROM enrollments_enrollment e
    JOIN daylit_invoice i ON i.customer_id = e.customer_id
    WHERE e.sequence_id = %(sequence)s AND e.invoice_id IS NULL AND i.status = 'paid'
      AND i.paid_at >= %(start)s AND i.paid_at < %(end)s
      AND i.paid_at >= e.created_at AND (e.completed_at IS NULL OR i.paid_at <= e.completed_at)
),
invoices AS (
    SELECT DISTINCT invoice_id, currency, amount_due FROM chased
),
first_sent AS (
    SELECT c.invoice_id, c.paid_at, min(s.processed_at) AS sent_at
    FROM chased c
    JOIN enrollments_scheduledstep s ON s.enrollment_id = c.enrollment_id
    WHERE s.status = 'sent' AND s.processed_at <= c.paid_at AND s.processed_at >= c.emails_from
    GROUP BY c.invoice_id, c.paid_at
)
SELECT currency, sum(amount_due), NULL FROM invoices GROUP BY currency
UNION ALL
SELECT NULL, NULL,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM paid_at - sent_at) / 86400)
FROM first_sent
"""


def _collected(cursor, params) -> tuple[list[dict[str, str]], float | None]:
    cursor.execute(COLLECTED_SQL, params)
    collected, median = {}, None
    for currency, amount, days in cursor.fetchall():
        if currency is None:
            median = None if days is None else round(float(days), 2)
        else:
            collected[currency] = amount
    return _amounts(collected), median


# --- shaping ---------------------------------------------------------------------------------------


def _amounts(by_currency: dict[str, Decimal]) -> list[dict[str, str]]:
    """Never summed across currencies: one entry per currency, in code order."""
    return [{"currency": currency, "amount": str(amount)} for currency, amount in sorted(by_currency.items())]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, ROUND)


def _step(step: dict, *, counted: dict, replies: dict) -> dict[str, Any]:
    measures = counted["all"]
    sent = measures["sent"]
    paid_within = {
        str(window): {
            "count": measures[f"paid{window}"],
            "rate": _rounded(rate(measures[f"paid{window}"], sent)),
            "amounts": _amounts(counted["amounts"][window]),
        }
        for window in PAID_WINDOWS
    }
    step_replies = replies.get(step["id"], {})
    return {
        "step_id": str(step["id"]),
        "label": step["label"],
        "step_type": step["step_type"],
        "rows": {name: measures[name] for name in ("ready", "sent", "failed", "cancelled", "completed")},
        "bounced": measures["bounced"],
        # Every class, with zeros: a chart's series do not come and go with the data.
        "replies": {value: step_replies.get(value, 0) for value in ReplyClass.values},
        "paid_within": paid_within,
        "variants": _variants(step, arms=counted["arms"]),
    }


def _arm_keys(step: dict, arms: dict) -> list[str | None]:
    """The step's arms in its own order: the variants as configured (or "default", the rows without a
    variant, when there is only a holdout), keys found in rows but no longer configured, the holdout."""
    keys: list[str | None] = [variant["key"] for variant in step["variants"] or [] if "key" in variant]
    if not keys and (step["holdout_percent"] or HOLDOUT_KEY in arms):
        keys = [None]
    keys += sorted(k for k in arms if k is not None and k != HOLDOUT_KEY and k not in keys)
    if step["holdout_percent"] or HOLDOUT_KEY in arms:
        keys.append(HOLDOUT_KEY)
    return keys


def _variants(step: dict, *, arms: dict) -> list[dict[str, Any]]:
    if not step["variants"] and not step["holdout_percent"] and not (set(arms) - {None}):
        return []
    counted = []
    for key in _arm_keys(step, arms):
        measures = arms.get(key) or dict.fromkeys(MEASURES, 0)
        # The holdout sends nothing: its rows planned in range and already past, timed from
        # `scheduled_for`; a variant's emails sent in range, timed from the send.
        if key == HOLDOUT_KEY:
            paid14, n = measures["held14"], measures["due_past"]
        else:
            paid14, n = measures["paid14"], measures["sent"]
        paid14 = min(paid14, n)  # a row changed behind the history lock must not make a rate over 1
        counted.append((key, measures, paid14, n))
    best = probability_best([(paid14, n) for _, _, paid14, n in counted], seed=_seed(step["id"]))
    result = []
    for (key, measures, paid14, n), chance in zip(counted, best, strict=True):
        interval = wilson_interval(paid14, n)
        result.append(
            {
                "key": key if key is not None else DEFAULT_ARM,
                "enrollments": measures["due"],
                "sent": measures["sent"],
                "reply_rate": _rounded(rate(measures["replied"], measures["sent"])),
                "paid_within_14": {
                    "count": paid14,
                    "rate": _rounded(rate(paid14, n)),
                    "interval": None if interval is None else [round(v, ROUND) for v in interval],
                },
                "probability_best": _rounded(chance),
            }
        )
    return result


def _seed(step_id: UUID) -> int:
    """The same seed for a step on every call (and every process): from its id, not from `hash()`."""
    return step_id.int % 2**63
