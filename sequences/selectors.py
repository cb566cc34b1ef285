"""Reads of the sequences app."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Lower

from connections.models import EmailConnection
from daylit.errors import NotFound
from daylit.models import Company
from sequences.models import Sequence, SequenceStep


def sequence_list(*, company: Company, filters: dict) -> QuerySet[Sequence]:
    """The company's sequences, newest first; `status` is a list, `search` a name substring (any case)."""
    qs = Sequence.objects.select_related("sender_connection").filter(company=company)
    if filters.get("status"):
        qs = qs.filter(status__in=filters["status"])
    if filters.get("search"):
        # The search rule of every list (see daylit.selectors.customer_list): lower() on both sides.
        qs = qs.alias(name_lower=Lower("name")).filter(name_lower__contains=Lower(Value(filters["search"])))
    return qs.order_by("-created_at", "-id")


def sequence_get(*, company: Company, sequence_id: UUID) -> Sequence:
    """The sequence if it belongs to `company`; any other id does not exist (404)."""
    sequence = (
        Sequence.objects.select_related("sender_connection").filter(company=company, pk=sequence_id).first()
    )
    if sequence is None:
        raise NotFound("Sequence not found.")
    return sequence


def step_list(*, sequence: Sequence) -> QuerySet[SequenceStep]:
    """Steps in schedule order: offset_days, offset_time, then creation."""
    return SequenceStep.objects.filter(sequence=sequence).order_by(
        "offset_days", "offset_time", "created_at", "id"
    )


def step_get(*, sequence: Sequence, step_id: UUID) -> SequenceStep:
    step = SequenceStep.objects.filter(sequence=sequence, pk=step_id).first()
    if step is None:
        raise NotFound("Step not found.")
    return step


def steps_with_history(step_ids: Iterable[UUID]) -> set[UUID]:
    """Ids, among `step_ids`, of steps any enrollment was ever scheduled with (one query).

    Read through the reverse relation the enrollments app declares on SequenceStep (`scheduled_steps`),
    so this app asks without importing the app above it."""
    ids = list(step_ids)
    if not ids:
        return set()
    rows = SequenceStep.scheduled_steps.rel.related_model.objects.filter(step_id=OuterRef("pk"))
    return set(SequenceStep.objects.filter(Exists(rows), pk__in=ids).values_list("pk", flat=True))


def active_enrollment_count(sequence: Sequence) -> int:
    """Active enrollments of the sequence, through the reverse relation `enrollments`."""
    return sequence.enrollments.filter(status="active").count()


def has_enrollments(sequence: Sequence) -> bool:
    """Any enrollment ever, active or completed (reverse relation `enrollments`)."""
    return sequence.enrollments.exists()


def step_history_ids(*, steps: Iterable[SequenceStep]) -> set[UUID]:
    """Ids of the given steps that have history: one query for all of them."""
    return steps_with_history(step.pk for step in steps)


def sender_choices(*, company: Company) -> QuerySet[EmailConnection]:
    """Connections a sequence may send from: the company's active ones, by address."""
    return EmailConnection.objects.filter(company=company, status=EmailConnection.Status.ACTIVE).order_by(
        "email", "id"
    )


def sequence_overview(*, sequence: Sequence) -> dict:
    """Everything the sequence editor shows: the sequence, its ordered steps (with the ids that have
    history), the number of active enrollments, and the connections it may send from.
    """
    steps = list(step_list(sequence=sequence))
    return {
        "sequence": sequence,
        "steps": steps,
        "history_ids": step_history_ids(steps=steps),
        "active_enrollment_count": active_enrollment_count(sequence),
        "email_connections": list(sender_choices(company=sequence.company)),
    }
