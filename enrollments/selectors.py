"""Reads of the enrollments app."""

from typing import Any

from django.db.models import QuerySet

from daylit.models import Company
from enrollments.models import Enrollment


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


