"""Reads of the queue app. The list is a fixed number of queries whatever the page size."""

import datetime
import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Lower

from daylit.errors import NotFound
from daylit.models import Company
from daylit.selectors import customer_list
from enrollments.models import ScheduledStep
from outreach_queue.models import StatusCount
from sequences.models import SequenceStep
from sequences.selectors import sequence_list

Status = ScheduledStep.Status
UNASSIGNED = "__unassigned__"
# Up to this many name matches are inlined as an id list; more are a subquery, which PostgreSQL runs
# in each statement: measured cheaper than carrying thousands of ids to Python and back twice.
MAX_INLINE_IDS = 500
STATS_TTL_SECONDS = 300
_stats_memo: list = [0.0, None]  # [monotonic time read, rows per id]

CATEGORY_STATUSES = {
    "ready": [Status.READY],
    "upcoming": [Status.SCHEDULED],
    "history": [Status.SENT, Status.COMPLETED, Status.CANCELLED, Status.FAILED],
}
CATEGORY_ORDER = {
    "ready": ("scheduled_for", "id"),
    "upcoming": ("scheduled_for", "id"),
    "history": ("-updated_at", "-id"),
}
ROW_FILTERS = ("step_type", "sequence_id", "enrollment_id", "customer_id")
_RELATED = ("sequence", "step", "customer")
# What a listed row shows: its own columns and the names of its sequence, step and customer (not
# their templates and timestamps, nor the search copy of the subject).
_PAGE_FIELDS = (
    *(field.name for field in ScheduledStep._meta.concrete_fields if not field.generated),
    "sequence__name",
    "step__label",
    "customer__name",
)


class QueueRows:
    """One queue list: its exact `count()`, and pages by slicing (`rows[40:60]`), as the paginator asks.

    A page is read in two steps: the ids of the page, then those rows with their sequence, step and
    customer. The first step reads only columns of the tab's covering index, so PostgreSQL walks the
    index and tests every filter on its entries (an index-only scan) until it has the page; a single
    query would visit the table for each entry it tests, a few thousand heap reads for a filter that
    matches one row in a hundred.
    """

    def __init__(self, rows: QuerySet[ScheduledStep], *, counts: QuerySet[StatusCount] | None = None) -> None:
        self._rows = rows
        self._counts = counts

    def count(self) -> int:
        if self._counts is not None:
            return self._counts.aggregate(total=Sum("rows"))["total"] or 0
        return self._rows.count()

    def __getitem__(self, page: slice) -> list[ScheduledStep]:
        ids = list(self._rows.values_list("id", flat=True)[page])
        found = ScheduledStep.objects.select_related(*_RELATED).only(*_PAGE_FIELDS).in_bulk(ids)
        return [found[row_id] for row_id in ids if row_id in found]  # one may have been deleted since


def queue_row_list(*, company: Company, filters: dict[str, Any]) -> QueueRows:
    """The company's queue rows of one category, filtered and ordered (see SPEC "The queue").

    `search` is a case-insensitive substring of the sequence name, step label, customer name or
    subject. Every filter reads a column of the tab's covering indexes (queue.0002,
    queue.0006; `ar_owner_id` copied onto the row by enrollments.0004), so a filtered exact count is
    an index-only scan; the whole tab's count is the sum of its running status counts.
    """
    category = filters.get("category") or "ready"
    statuses = CATEGORY_STATUSES[category]
    rows = ScheduledStep.objects.filter(company=company, status__in=statuses)
    search = (filters.get("search") or "").strip()
    owners = filters.get("ar_owner")
    row_filters = {field: filters[field] for field in ROW_FILTERS if filters.get(field)}
    if not (search or owners or row_filters):
        # The whole tab: its count is the sum of the running status counts (queue.0007), not a scan.
        counts = StatusCount.objects.filter(company_id=company.pk, status__in=statuses)
        return QueueRows(rows.order_by(*CATEGORY_ORDER[category]), counts=counts)
    rows = rows.filter(**row_filters)
    if owners:
        rows = rows.filter(_owner_condition(owners))
    if search:
        condition, sort_matches = _search_condition(company, search, statuses)
        rows = rows.filter(condition)
        if sort_matches:
            return QueueRows(rows.order_by(*_sorted_not_walked(CATEGORY_ORDER[category])))
    return QueueRows(rows.order_by(*CATEGORY_ORDER[category]))


def _sorted_not_walked(order: tuple[str, ...]) -> tuple:
    """The same order, written so PostgreSQL sorts the matches of a narrow search instead of walking
    the tab's index in order. The planner cannot estimate `subject LIKE '%x%'`, so it expects matches
    spread evenly and walks the tab (a heap visit per row) to find the first 20: 90,000 rows for a
    term that matches 29. `scheduled_for + 0` sorts exactly like `scheduled_for` but no index has it,
    so the page comes from the same bitmap scan as the count, then a top-N sort."""
    first, *rest = order
    field = first.lstrip("-")
    key = ExpressionWrapper(F(field) + Value(datetime.timedelta(0)), output_field=DateTimeField())
    return (key.desc() if first.startswith("-") else key.asc(), *rest)


def _search_condition(company: Company, search: str, statuses: list[str]) -> tuple[Q, bool]:
    """Subject matches, or the row's sequence, step or customer matches by name/label; and whether
    the page should sort the matches rather than walk the tab's index (see `_sorted_not_walked`).

    Matching is case-insensitive the way PostgreSQL's lower() folds (ILIKE's rule): the term is
    lowered by the database and compared with stored lowercased copies (`subject_lower`, customers'
    `name_lower`), a plain LIKE. The small per-company tables are searched first (three short
    queries, trigram index on customer names); their matches become id lists (hashed by PostgreSQL)
    or, past `MAX_INLINE_IDS`, subqueries (hashed subplans).

    - ready: the tab's covering index carries `subject_lower` (queue.0005), so the count and the
      page's ids are one index-only scan that tests every arm on the index entries, whatever the
      term matches: no heap visit per candidate.
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
    if statuses == CATEGORY_STATUSES["ready"]:
        return names | subject, False
    rows_per_id = _rows_per_id()
    reach = sum(len(ids) * rows_per_id.get(field, 1.0) for field, ids in found.items())
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


def _owner_condition(owners: list[str]) -> Q:
    """Rows whose customer is owned by one of `owners` (member ids and/or `__unassigned__`).

    It reads the row's own copy of the owner, kept by triggers (enrollments.0004).
    """
    owner_ids = [value for value in owners if value != UNASSIGNED]
    condition = Q(ar_owner_id__in=owner_ids) if owner_ids else Q(pk__in=[])
    if UNASSIGNED in owners:
        condition |= Q(ar_owner_id__isnull=True)
    return condition


def queue_row_get(*, company: Company, row_id: UUID) -> ScheduledStep:
    """One of the company's rows; another company's id does not exist (404)."""
    row = ScheduledStep.objects.select_related(*_RELATED).filter(company=company, pk=row_id).first()
    if row is None:
        raise NotFound("Queue row not found.")
    return row
