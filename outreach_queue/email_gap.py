"""The gap between emails to one customer: the company setting `min_hours_between_emails` (N, 0 = off).

SPEC: with N > 0, auto-send waits until N hours after the last email sent to the customer from any
sequence; a person may still send, and the row's `warnings` say so.

- **The last email** of a customer is a reminder row of that customer that is `sending` (in flight,
  whatever its times) or `sent`, timed by `processed_at` (what recording the send sets). A row put back
  to `ready` by a retryable failure, or ended `failed`, does not count.
- **Auto-send** (services.autosend) does not pick a ready reminder whose customer had an email within
  N hours, and takes at most one row per customer per pass; the claim (services.delivery) checks the
  same condition again inside its conditional UPDATE.
- **Concurrency**: every claim of a reminder of a company with N > 0, a person's too, first takes
  `customer_gap_lock` (a transaction-level advisory lock on the customer), and holds it until the claim
  commits. Two claims of one customer's rows therefore run one after the other, and the second
  one's UPDATE (a new snapshot under READ COMMITTED) sees the first row `sending`. Why an advisory lock
  rather than the customer row: a row lock that excludes another claim (NO KEY UPDATE) also waits for
  an enrollment's FOR SHARE on the customer (a bulk enroll holds thousands for its whole transaction)
  and for edits of the customer; the advisory lock is taken only by claims and held for one UPDATE.
  It is the first lock of the claim's transaction, so it cannot take part in a cycle.
- **Warnings** are one SQL expression (`warnings_sql`), used by the queue's reads and by the
  `queue_row` event payload alike, so both say the same thing.
- N = 0 costs nothing: no lock, no transaction, and the checks are skipped before their subquery.
"""

import datetime
from uuid import UUID

from django.db import connection
from django.db.models import DateTimeField, DurationField, Exists, ExpressionWrapper, Func, OuterRef, Q, Value
from django.db.models.expressions import Combinable

from enrollments.models import ScheduledStep
from sequences.models import SequenceStep

Status = ScheduledStep.Status
REMINDER = SequenceStep.StepType.REMINDER
# The class key of the advisory lock (two-int form, a key space apart from the one-bigint locks).
GAP_LOCK_CLASS = 0x5155_4750  # "QUGP"


class Hours(Func):
    """SQL: an integer of hours as an interval."""

    template = "make_interval(hours => %(expressions)s)"
    output_field = DurationField()


def email_to_customer_since(since: datetime.datetime | Combinable) -> Exists:
    """A reminder of the outer row's customer in flight (`sending`) or sent after `since`."""
    return Exists(
        ScheduledStep.objects.filter(
            Q(status=Status.SENDING) | Q(status=Status.SENT, processed_at__gt=since),
            customer_id=OuterRef("customer_id"),
            step_type=REMINDER,
        )
    )


def outside_company_gap(now: datetime.datetime) -> Q:
    """Rows whose company has no gap, or whose customer had no email within the company's gap."""
    since = ExpressionWrapper(
        Value(now) - Hours(OuterRef("company__min_hours_between_emails")),
        output_field=DateTimeField(),
    )
    return Q(company__min_hours_between_emails=0) | ~email_to_customer_since(since)


def customer_gap_lock(customer_id: UUID) -> None:
    """Serialise the claims of one customer's rows until the caller's transaction ends (see above)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [GAP_LOCK_CLASS, str(customer_id)])


def _plural_hours(sql: str) -> str:
    return f"CASE WHEN {sql} = 1 THEN '1 hour' ELSE ({sql})::text || ' hours' END"


def warnings_sql(*, row: str, gap_hours: str) -> str:
    """SQL: the `warnings` of the queue row `row` (a table alias) as a text[] ('{}' when none).

    `gap_hours` is the SQL of the row's company's `min_hours_between_emails` (a joined column). Only a
    ready reminder of a company with a gap can have one, so the subquery runs for those alone.
    """
    table = ScheduledStep._meta.db_table
    ago = "now() - max(e.processed_at)"
    hours_ago = f"floor(extract(epoch FROM {ago}) / 3600)::int"
    went = (
        f"CASE WHEN {ago} < interval '1 hour' THEN 'less than an hour ago' ELSE "
        f"{_plural_hours(hours_ago)} || ' ago' END"
    )
    text = (
        f"CASE WHEN bool_or(e.status = '{Status.SENDING}') THEN 'An email is being sent to this customer' "
        f"ELSE 'An email went to this customer ' || {went} END"
        f" || '; auto-send waits ' || {_plural_hours(gap_hours)}"
        " || ' between emails (company setting), a person may still send.'"
    )
    return f"""CASE WHEN {gap_hours} > 0 AND {row}.status = '{Status.READY}'
                  AND {row}.step_type = '{REMINDER}' THEN COALESCE((
        SELECT ARRAY[{text}]
        FROM {table} e
        WHERE e.customer_id = {row}.customer_id AND e.step_type = '{REMINDER}'
          AND (e.status = '{Status.SENDING}' OR (e.status = '{Status.SENT}'
               AND e.processed_at > now() - make_interval(hours => {gap_hours})))
        HAVING count(*) > 0
    ), '{{}}'::text[]) ELSE '{{}}'::text[] END"""
