"""Reads of the queue app. The list is a fixed number of queries whatever the page size."""

from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from daylit.errors import NotFound
from daylit.models import Company
from enrollments.models import HISTORY_STATUSES, ScheduledStep
from outreach_queue.email_gap import warnings_sql
from outreach_queue.models import Reply, StatusCount, Suppression
from outreach_queue.search import search_condition, sorted_not_walked
from sequences.models import SequenceStep

Status = ScheduledStep.Status
UNASSIGNED = "__unassigned__"

CATEGORY_STATUSES = {
    "ready": [Status.READY],
    "upcoming": [Status.SCHEDULED],
    "history": list(HISTORY_STATUSES),
}
CATEGORY_ORDER = {
    "ready": ("scheduled_for", "id"),
    "upcoming": ("scheduled_for", "id"),
    "history": ("-updated_at", "-id"),
}
ROW_FILTERS = ("step_type", "sequence_id", "enrollment_id", "customer_id")
_RELATED = ("sequence", "step", "customer", "enrollment")
# What a listed row shows: its own columns and the names of its sequence, step and customer (not
# their templates and timestamps, nor the search copy of the subject).
_PAGE_FIELDS = (
    *(field.name for field in ScheduledStep._meta.concrete_fields if not field.generated),
    "sequence__name",
    "step__label",
    "customer__name",
    "enrollment__status",
)


class QueueRows:
    """One queue list: its exact `count()`, and pages by slicing (`rows[40:60]`), as the paginator asks.

    A page is read in two steps: the ids of the page, then those rows with their sequence, step and
    customer. The first step reads only columns of the tab's covering index, so PostgreSQL walks the
    index and tests every filter on its entries (an index-only scan) until it has the page; a single
    query would visit the table for each entry it tests, a few thousand heap reads for a filter that
    matches one row in a hundred.
    """

    def __init__(
        self,
        rows: QuerySet[ScheduledStep],
        *,
        company: Company,
        counts: QuerySet[StatusCount] | None = None,
    ) -> None:
        self._rows = rows
        self._company = company
        self._counts = counts

    def count(self) -> int:
        if self._counts is not None:
            return self._counts.aggregate(total=Sum("rows"))["total"] or 0
        return self._rows.count()

    def __getitem__(self, page: slice) -> list[ScheduledStep]:
        ids = list(self._rows.values_list("id", flat=True)[page])
        found = ScheduledStep.objects.select_related(*_RELATED).only(*_PAGE_FIELDS).in_bulk(ids)
        page_rows = [found[row_id] for row_id in ids if row_id in found]  # one may have been deleted since
        return with_warnings(page_rows, company=self._company)


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
    if filters.get("enrollment_status"):  # a join, not the covering index: paused rows are few
        row_filters["enrollment__status"] = filters["enrollment_status"]
    if not (search or owners or row_filters):
        # The whole tab: its count is the sum of the running status counts (queue.0007), not a scan.
        counts = StatusCount.objects.filter(company_id=company.pk, status__in=statuses)
        return QueueRows(rows.order_by(*CATEGORY_ORDER[category]), company=company, counts=counts)
    rows = rows.filter(**row_filters)
    if owners:
        rows = rows.filter(_owner_condition(owners))
    if search:
        condition, sort_matches = search_condition(company=company, search=search, statuses=statuses)
        rows = rows.filter(condition)
        if sort_matches:
            return QueueRows(rows.order_by(*sorted_not_walked(CATEGORY_ORDER[category])), company=company)
    return QueueRows(rows.order_by(*CATEGORY_ORDER[category]), company=company)


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
    return with_warnings([row], company=company)[0]


_WARNINGS_SELECT = f"""
SELECT s.id, {warnings_sql(row="s", gap_hours="co.min_hours_between_emails")}
FROM {ScheduledStep._meta.db_table} s
JOIN {Company._meta.db_table} co ON co.id = s.company_id
WHERE s.id = ANY(%(ids)s)
"""  # noqa: S608 (table names are ours; the ids are a parameter)


def with_warnings(rows: list[ScheduledStep], *, company: Company) -> list[ScheduledStep]:
    """Set `warnings` (a list of strings, SPEC "Collections calendar") on each of `rows`.

    One query for all of them (email_gap.warnings_sql, the expression the `queue_row` payload uses),
    and none when the company has no gap between emails or no row is a ready reminder.
    """
    for row in rows:
        row.warnings = []
    candidates = [
        row.pk
        for row in rows
        if row.status == Status.READY and row.step_type == SequenceStep.StepType.REMINDER
    ]
    if not company.min_hours_between_emails or not candidates:
        return rows
    with connection.cursor() as cursor:
        cursor.execute(_WARNINGS_SELECT, {"ids": candidates})
        found = dict(cursor.fetchall())
    for row in rows:
        row.warnings = found.get(row.pk, [])
    return rows


def reply_list(*, company: Company, filters: dict[str, Any]) -> QuerySet[Reply]:
    """The company's replies, newest first; `classification`, `customer_id`, `reviewed` (a bool)."""
    replies = Reply.objects.filter(company=company)
    if filters.get("classification"):
        replies = replies.filter(classification=filters["classification"])
    if filters.get("customer_id"):
        replies = replies.filter(customer_id=filters["customer_id"])
    if filters.get("reviewed") is not None:
        replies = replies.filter(reviewed_at__isnull=not filters["reviewed"])
    return replies.order_by("-received_at", "-id")


def suppression_list(*, company: Company) -> QuerySet[Suppression]:
    return Suppression.objects.filter(company=company).order_by("-created_at", "email")
