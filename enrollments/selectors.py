"""Reads of the enrollments app."""

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from daylit.errors import Conflict
from daylit.models import Company, Customer, Invoice
from enrollments.models import Enrollment
from enrollments.planning import SKIPPED_AT_ENROLL, RulesPlanner, plan_enrollment, sequence_for_planning
from enrollments.scheduling import zone
from sequences.models import Sequence


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


@dataclass(frozen=True)
class PreviewRow:
    step_id: UUID
    step_type: str
    label: str
    scheduled_for: datetime.datetime
    local_time: datetime.datetime
    time_zone: str
    schedule_note: str | None
    due_now: bool
    skipped: bool


def enrollment_preview(
    *,
    sequence: Sequence,
    customer: Customer,
    invoice: Invoice | None = None,
    start_date: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> list[PreviewRow]:
    """The rows enrolling `customer` now would create, planned by the same code as enrolling; writes
    nothing. Any status of the sequence (a draft is previewed before it goes live). 409 as enrolling:
    `no_active_step`, `no_open_invoice`."""
    now = now or timezone.now()
    rules = RulesPlanner.for_sequence(sequence_for_planning(sequence.pk))
    if not rules.steps:
        raise Conflict("This sequence has no active step to schedule.", code="no_active_step")
    enrollment, plans = plan_enrollment(
        rules=rules, customer=customer, invoice=invoice, start_date=start_date, now=now
    )
    local = zone(enrollment.time_zone)
    return [
        PreviewRow(
            step_id=plan.step.id,
            step_type=plan.step.step_type,
            label=plan.step.label,
            scheduled_for=plan.scheduled_for,
            local_time=plan.scheduled_for.astimezone(local),
            time_zone=enrollment.time_zone,
            schedule_note=SKIPPED_AT_ENROLL if plan.skipped else plan.schedule_note,
            due_now=not plan.skipped and plan.scheduled_for <= now,
            skipped=plan.skipped,
        )
        for plan in plans
    ]
