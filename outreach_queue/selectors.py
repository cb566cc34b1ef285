"""Reads of the queue app. The list is a fixed number of queries whatever the page size."""

from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from daylit.errors import NotFound
from daylit.models import Company, Customer
from enrollments.models import ScheduledStep
from sequences.models import Sequence, SequenceStep

Status = ScheduledStep.Status
UNASSIGNED = "__unassigned__"
MAX_SEARCH_IDS = 5_000  # names a search may match per table; a broader term should be narrowed

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
    subject. The name/label matches are resolved as id subqueries on the small per-company tables,
    so the big table is searched by index (trigram on subject, btree on the foreign keys).
    """
    category = filters.get("category") or "ready"
    rows = ScheduledStep.objects.filter(company=company, status__in=CATEGORY_STATUSES[category])
    for field in ("step_type", "sequence_id", "enrollment_id", "customer_id"):
        if filters.get(field):
            rows = rows.filter(**{field: filters[field]})
    owners = filters.get("ar_owner")
    if owners:
        rows = rows.filter(customer_id__in=_customers_owned_by(company, owners))
    search = (filters.get("search") or "").strip()
    if search:
        rows = rows.filter(_search_condition(company, search))
    return rows.select_related(*_RELATED).order_by(*CATEGORY_ORDER[category])


def _search_condition(company: Company, search: str) -> Q:
    """Subject matches, or the row's sequence, step or customer matches by name/label.

    The small per-company tables are searched first (three short queries) and their ids inlined, so
    PostgreSQL can OR together index scans of the big table (trigram on subject, btree on the foreign
    keys) instead of testing a subquery against every row of the category.
    """
    condition = Q(subject__icontains=search)
    matches = {
        "sequence_id__in": Sequence.objects.filter(company=company, name__icontains=search),
        "step_id__in": SequenceStep.objects.filter(sequence__company=company, label__icontains=search),
        "customer_id__in": Customer.objects.filter(company=company, name__icontains=search),
    }
    for lookup, queryset in matches.items():
        ids = list(queryset.values_list("id", flat=True)[:MAX_SEARCH_IDS])
        if ids:
            condition |= Q(**{lookup: ids})
    return condition


def _customers_owned_by(company: Company, owners: list[str]) -> QuerySet:
    owner_ids = [value for value in owners if value != UNASSIGNED]
    condition = Q(ar_owner_id__in=owner_ids) if owner_ids else Q(pk__in=[])
    if UNASSIGNED in owners:
        condition |= Q(ar_owner__isnull=True)
    return Customer.objects.filter(condition, company=company).values("id")


def queue_row_get(*, company: Company, row_id: UUID) -> ScheduledStep:
    """One of the company's rows; another company's id does not exist (404)."""
    row = ScheduledStep.objects.select_related(*_RELATED).filter(company=company, pk=row_id).first()
    if row is None:
        raise NotFound("Queue row not found.")
    return row
