"""How the queue search is written so PostgreSQL picks a good plan (docs/queue.md, "Indexes and query
plans"): which arms a term becomes, when the matches are sorted rather than the tab's index walked,
and when name matches are resolved to ids first. Each plan has its test in
tests/outreach_queue/test_performance_queue.py.
"""

import datetime
import time

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Lower

from daylit.models import Company
from daylit.selectors import customer_list
from enrollments.models import ScheduledStep
from sequences.models import SequenceStep
from sequences.selectors import sequence_list

# Up to this many name matches are inlined as an id list; more are a subquery, which PostgreSQL runs
# in each statement: measured cheaper than carrying thousands of ids to Python and back twice.
MAX_INLINE_IDS = 500
STATS_TTL_SECONDS = 300
_stats_memo: list = [0.0, None]  # [monotonic time read, rows per id]


def sorted_not_walked(order: tuple[str, ...]) -> tuple:
    """The same order, written so PostgreSQL sorts the matches of a narrow search instead of walking
    the tab's index in order. The planner cannot estimate `subject LIKE '%x%'`, so it expects matches
    spread evenly and walks the tab (a heap visit per row) to find the first 20: 90,000 rows for a
    term that matches 29. `scheduled_for + 0` sorts exactly like `scheduled_for` but no index has it,
    so the page comes from the same bitmap scan as the count, then a top-N sort."""
    first, *rest = order
    field = first.lstrip("-")
    key = ExpressionWrapper(F(field) + Value(datetime.timedelta(0)), output_field=DateTimeField())
    return (key.desc() if first.startswith("-") else key.asc(), *rest)


def search_condition(*, company: Company, search: str, statuses: list[str]) -> tuple[Q, bool]:
    """Subject matches, or the row's sequence, step or customer matches by name/label; and whether
    the page should sort the matches rather than walk the tab's index (see `sorted_not_walked`).

    Matching is case-insensitive the way PostgreSQL's lower() folds (ILIKE's rule): the term is
    lowered by the database and compared with stored lowercased copies (`subject_lower`, customers'
    `name_lower`), a plain LIKE. The small per-company tables are searched first (three short
    queries, trigram index on customer names); their matches become id lists (hashed by PostgreSQL)
    or, past `MAX_INLINE_IDS`, subqueries (hashed subplans).

    - ready: the tab's covering index carries `subject_lower` (queue.0005), so the count and the
      page's ids are one index-only scan that tests every arm on the index entries, whatever the
      term matches: no heap visit per candidate.
    - upcoming: names only; its rows have no subject yet.
    - upcoming and history, whose indexes do not carry the subject, by how many rows the name
      matches can reach: few (setting `QUEUE_NARROW_SEARCH_ROWS`), and PostgreSQL ORs bitmap scans
      of the big table (trigram on the subject, btree on customer/sequence/step), cheap for a few
      thousand rows; many, and the subject matches are resolved to ids first (the tab's trigram
      index), so the tab is an index-only scan again.
    """
    term = Lower(Value(search))
    by_name = {"search": search}  # the sequences' and customers' own list searches, unordered
    matches = {
        "sequence_id": sequence_list(company=company, filters=by_name).order_by(),
        "step_id": SequenceStep.objects.filter(sequence__company=company)
        .alias(label_lower=Lower("label"))
        .filter(label_lower__contains=term),
        "customer_id": customer_list(company=company, filters=by_name).order_by(),
    }
    found = {
        field: list(qs.values_list("id", flat=True)[: MAX_INLINE_IDS + 1]) for field, qs in matches.items()
    }
    names = Q(pk__in=[])  # matches nothing; every arm below is OR-ed to it
    for field, ids in found.items():
        if len(ids) > MAX_INLINE_IDS:  # the list was cut: the subquery keeps every match
            names |= Q(**{f"{field}__in": matches[field].values("id")})
        elif ids:
            names |= Q(**{f"{field}__in": ids})
    # PostgreSQL tests OR arms in the order written: the hashed id tests first, the subject last.
    subject = Q(subject_lower__contains=term)
    if statuses == [ScheduledStep.Status.READY]:
        return names | subject, False
    rows_per_id = _rows_per_id()
    reach = sum(len(ids) * rows_per_id.get(field, 1.0) for field, ids in found.items())
    if statuses == [ScheduledStep.Status.SCHEDULED]:
        # Scheduled rows have no subject until promotion renders one (queue.0008 dropped the index).
        return names, reach <= settings.QUEUE_NARROW_SEARCH_ROWS
    if reach <= settings.QUEUE_NARROW_SEARCH_ROWS:
        return names | subject, True
    # The subject matches are resolved once (trigram index of the tab), not once by the count and
    # again by the page; a term matching more rows than that stays a subquery.
    subject_rows = ScheduledStep.objects.filter(subject, company=company, status__in=statuses)
    subject_ids = list(subject_rows.values_list("id", flat=True)[: MAX_INLINE_IDS + 1])
    if len(subject_ids) > MAX_INLINE_IDS:
        return names | Q(pk__in=subject_rows.values("id")), False
    return names | Q(pk__in=subject_ids), False


def _rows_per_id() -> dict[str, float]:
    """Queue rows per sequence, step and customer, from PostgreSQL's planner statistics (no scan of
    the table; 1 before the first ANALYZE, which keeps the narrow plan).

    Kept by each process for `STATS_TTL_SECONDS`: reading pg_stats costs 3-5 ms, a tenth of a search's
    budget, and these ratios move only as fast as autovacuum's ANALYZE does."""
    read_at, per_id = _stats_memo
    if per_id is None or time.monotonic() - read_at > STATS_TTL_SECONDS:
        per_id = _read_rows_per_id()
        _stats_memo[:] = [time.monotonic(), per_id]
    return per_id


def _read_rows_per_id() -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.attname, CASE WHEN s.n_distinct < 0 THEN -1 / s.n_distinct
                                      ELSE greatest(c.reltuples, 0) / s.n_distinct END
               FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
               WHERE s.schemaname = current_schema() AND s.tablename = %s AND s.n_distinct <> 0
                 AND s.attname IN ('sequence_id', 'step_id', 'customer_id')""",
            [ScheduledStep._meta.db_table],
        )
        return {name: max(float(per_id), 1.0) for name, per_id in cursor.fetchall()}
