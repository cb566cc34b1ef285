"""Reads of the enrollments app, including the answers it gives to `sequences.hooks`."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from daylit.models import Company
from enrollments.models import Enrollment, ScheduledStep


def enrollment_list(*, company: Company, filters: dict[str, Any]) -> QuerySet[Enrollment]:
    """A company's enrollments, newest first; filters: sequence_id, customer_id, status (list)."""
    queryset = Enrollment.objects.filter(company=company)
    if filters.get("sequence_id"):
        queryset = queryset.filter(sequence_id=filters["sequence_id"])
    if filters.get("customer_id"):
        queryset = queryset.filter(customer_id=filters["customer_id"])
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    return queryset.order_by("-created_at", "-id")


def steps_with_history(step_ids: Iterable[UUID]) -> set[UUID]:
    """Ids among `step_ids` of steps any enrollment was ever scheduled with (one query)."""
    ids = list(step_ids)
    if not ids:
        return set()
    return set(ScheduledStep.objects.filter(step_id__in=ids).values_list("step_id", flat=True).distinct())


def active_enrollment_count(sequence_id: UUID) -> int:
    return Enrollment.objects.filter(sequence_id=sequence_id, status=Enrollment.Status.ACTIVE).count()
