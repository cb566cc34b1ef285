"""Reads of the queue app. The list is a fixed number of queries whatever the page size."""

import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value

from daylit.errors import NotFound
from daylit.models import Company, Customer
from enrollments.models import ScheduledStep
from sequences.models import Sequence, SequenceStep

Status = ScheduledStep.Status
UNASSIGNED = "__unassigned__"
# A search whose name matches reach at most this many rows (all tabs) is planned as bitmap scans;
# more, and it is planned as an index-only scan of the tab (see _search_condition).
MAX_INLINE_IDS = 5_000  # more matches than this are passed as a subquery, not an id list

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
_RELATED = ("sequence", "step", "customer")


def queue_row_list(*, company: Company, filters: dict[str, Any]) -> QuerySet[ScheduledStep]:
    """The company's queue rows of one category, filtered and ordered (see SPEC "The queue").

    `search` is a case-insensitive substring of the sequence name, step label, customer name or
    subject. On PostgreSQL every filter reads a column of the tab's covering index (queue.0002,
    `ar_owner_id` copied onto the row by enrollments.0004), so the exact count is an index-only scan.
    """
    category = filters.get("category") or "ready"
    statuses = CATEGORY_STATUSES[category]
    rows = ScheduledStep.objects.filter(company=company, status__in=statuses)
    for field in ("step_type", "sequence_id", "enrollment_id", "customer_id"):
        if filters.get(field):
            rows = rows.filter(**{field: filters[field]})
    owners = filters.get("ar_owner")
    if owners:
        rows = rows.filter(_owner_condition(company, owners))
    search = (filters.get("search") or "").strip()
    if search:
        condition, narrow = _search_condition(company, search, statuses)
        rows = rows.filter(condition)
        if narrow and connection.vendor == "postgresql":
            return rows.prefetch_related(*_RELATED).order_by(*_sorted_not_walked(CATEGORY_ORDER[category]))
    return rows.select_related(*_RELATED).order_by(*CATEGORY_ORDER[category])


def _sorted_not_walked(order: tuple[str, ...]) -> tuple:
    """The same order, written so PostgreSQL sorts the matches of a narrow search instead of walking
    the tab's index in order. The planner cannot estimate `subject LIKE '%x%'`, so it expects matches
    spread evenly and walks the tab (a heap visit per row) to find the first 20: 90,000 rows for a
    term that matches 29. `scheduled_for + 0` sorts exactly like `scheduled_for` but no index has it,
    so the page comes from the same bitmap scan as the count, then a top-N sort. The related rows of
    such a page are prefetched (3 small queries), so the sort runs before, not after, the joins."""
    first, *rest = order
    field = first.lstrip("-")
    key = ExpressionWrapper(F(field) + Value(datetime.timedelta(0)), output_field=DateTimeField())
    return (key.desc() if first.startswith("-") else key.asc(), *rest)


def _search_condition(company: Company, search: str, statuses: list[str]) -> tuple[Q, bool]:
    """Subject matches, or the row's sequence, step or customer matches by name/label.

    The small per-company tables are searched first (three short queries, trigram index on customer
    names). Then one of two plans, by how many rows the name matches can reach:
    - few (setting `QUEUE_NARROW_SEARCH_ROWS`): the ids are inlined and PostgreSQL ORs bitmap scans of the big
      table (trigram on subject, btree on customer/sequence/step); rows of other tabs are skipped
      after the heap visit, cheap for a few thousand rows;
    - many: the subject matches of this tab are resolved to ids as well (its trigram index), and
      every match stays an id list (hashed by PostgreSQL) or, past `MAX_INLINE_IDS`, a subquery
      (hashed subplan): each arm then reads only the tab's covering index, an index-only scan of
      the tab instead of a heap visit per matched row of every tab.
    """
    matches = {
        "sequence_id": Sequence.objects.filter(company=company, name__icontains=search),
        "step_id": SequenceStep.objects.filter(sequence__company=company, label__icontains=search),
        "customer_id": Customer.objects.filter(company=company, name__icontains=search),
    }
    found = {
        field: list(qs.values_list("id", flat=True)[: MAX_INLINE_IDS + 1]) for field, qs in matches.items()
    }
    rows_per_id = _rows_per_id()
    reach = sum(len(ids) * rows_per_id.get(field, 1.0) for field, ids in found.items())
    if reach <= settings.QUEUE_NARROW_SEARCH_ROWS:
        condition = Q(subject__icontains=search)
        for field, ids in found.items():
            if len(ids) > MAX_INLINE_IDS:  # the list was cut: the subquery keeps every match
                condition |= Q(**{f"{field}__in": matches[field].values("id")})
            elif ids:
                condition |= Q(**{f"{field}__in": ids})
        return condition, True
    subject_rows = ScheduledStep.objects.filter(
        company=company, status__in=statuses, subject__icontains=search
    )
    condition = Q(pk__in=[])  # matches nothing; every arm below is OR-ed to it
    for field, ids in found.items():
        if len(ids) > MAX_INLINE_IDS:
            condition |= Q(**{f"{field}__in": matches[field].values("id")})
        elif ids:
            condition |= Q(**{f"{field}__in": ids})
    # The subject matches are resolved once too (trigram index of the tab), not once by the count
    # and again by the page; a term matching more rows than that stays a subquery. PostgreSQL tests
    # OR arms in the order written: the hashed id tests first, the subject last.
    subject_ids = list(subject_rows.values_list("id", flat=True)[: MAX_INLINE_IDS + 1])
    if len(subject_ids) > MAX_INLINE_IDS:
        return condition | Q(pk__in=subject_rows.values("id")), False
    return condition | Q(pk__in=subject_ids), False


def _rows_per_id() -> dict[str, float]:
    """Queue rows per sequence, step and customer, from PostgreSQL's planner statistics (no scan of
    the table; 1 before the first ANALYZE and on other databases, which keeps the narrow plan)."""
    if connection.vendor != "postgresql":
        return {}
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


def _owner_condition(company: Company, owners: list[str]) -> Q:
    """Rows whose customer is owned by one of `owners` (member ids and/or `__unassigned__`).

    PostgreSQL reads the row's own copy of the owner (kept by triggers, enrollments.0004); other
    databases join the customers.
    """
    owner_ids = [value for value in owners if value != UNASSIGNED]
    if connection.vendor == "postgresql":
        condition = Q(ar_owner_id__in=owner_ids) if owner_ids else Q(pk__in=[])
        if UNASSIGNED in owners:
            condition |= Q(ar_owner_id__isnull=True)
        return condition
    condition = Q(ar_owner_id__in=owner_ids) if owner_ids else Q(pk__in=[])
    if UNASSIGNED in owners:
        condition |= Q(ar_owner__isnull=True)
    return Q(customer_id__in=Customer.objects.filter(condition, company=company).values("id"))


def queue_row_get(*, company: Company, row_id: UUID) -> ScheduledStep:
    """One of the company's rows; another company's id does not exist (404)."""
    row = ScheduledStep.objects.select_related(*_RELATED).filter(company=company, pk=row_id).first()
    if row is None:
        raise NotFound("Queue row not found.")
    return row
