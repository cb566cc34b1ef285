"""A person's moves on one queue row besides sending: edit, cancel, complete.

Each move is one conditional UPDATE (`WHERE status IN <allowed>`), so a move that races with another
(a send, a promotion, a second click) either happens once or answers from the row's new state. A move
that happened records its event (`queue_row.cancelled`, `queue_row.completed`) in the same transaction;
one that did not (already there, or refused) records none.
"""

from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from daylit.errors import Conflict
from enrollments.models import ScheduledStep
from enrollments.payloads import QUEUE_ROW
from enrollments.services import enrollments_finish_if_done
from events.services import events_record
from events.types import QUEUE_ROW_CANCELLED, QUEUE_ROW_COMPLETED
from outreach_queue.services.drafts import NO_RECIPIENT_WARNING, content_frozen
from sequences.models import SequenceStep

Status = ScheduledStep.Status
EDITABLE_FIELDS = ("subject", "body_plain", "body_html", "to_email")


def queue_row_update(*, row: ScheduledStep, data: dict[str, Any]) -> ScheduledStep:
    """Edit a `ready` reminder's email (subject, body_plain, body_html, to_email) before it goes out.

    409 for calls/tasks, for any other state (including a row claimed for sending meanwhile) and for a
    ready row whose send was already attempted (`content_frozen`). Clears a warning in `error` once a
    recipient is set.
    """
    if row.step_type != SequenceStep.StepType.REMINDER:
        raise Conflict(f"A {row.step_type} step has no email to edit.", code="not_a_reminder")
    changes = {field: data[field] for field in EDITABLE_FIELDS if field in data}
    if not changes:
        return _current_or_conflict(row, allowed=(Status.READY,), verb="edit")
    if changes.get("to_email"):
        changes["error"] = ""
    # attempts=0: once a send was attempted it may have delivered, and a retry must replay the same
    # payload under the row's idempotency key (Nylas answers another payload by 409), so it is frozen.
    updated = ScheduledStep.objects.filter(pk=row.pk, status=Status.READY, attempts=0).update(
        **changes, updated_at=timezone.now()
    )
    if not updated:
        current = _current_or_conflict(row, allowed=(Status.READY,), verb="edit")
        if current.attempts:
            raise content_frozen()
    _written_by_a_person(row.pk)
    return ScheduledStep.objects.get(pk=row.pk)


def _written_by_a_person(row_id) -> None:
    """A pending AI draft that a person filled in (subject and a body) is theirs now, not generated."""
    ScheduledStep.objects.filter(pk=row_id, status=Status.READY, draft_pending=True).exclude(
        subject=""
    ).exclude(body_plain="", body_html="").update(
        draft_pending=False,
        generated=False,
        error=Case(When(to_email="", then=Value(NO_RECIPIENT_WARNING)), default=Value("")),
    )


def queue_row_cancel(*, row: ScheduledStep) -> ScheduledStep:
    """Cancel a `scheduled` or `ready` row. Already cancelled: returned unchanged. Otherwise 409."""
    now = timezone.now()
    with transaction.atomic():
        moved = ScheduledStep.objects.filter(pk=row.pk, status__in=[Status.SCHEDULED, Status.READY]).update(
            status=Status.CANCELLED, processed_at=now, updated_at=now
        )
        if moved:
            events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=[row.pk])
            # In the same transaction: a crash in between would leave the enrollment active for ever.
            enrollments_finish_if_done(enrollment_ids=[row.enrollment_id])
    current = ScheduledStep.objects.get(pk=row.pk)
    if moved or current.status == Status.CANCELLED:
        return current
    raise Conflict(f"A {current.status} row cannot be cancelled.", code="invalid_state")


def queue_row_complete(*, row: ScheduledStep, notes: str = "") -> ScheduledStep:
    """Mark a `ready` call or task done, with optional notes. Already completed: unchanged. 409 otherwise
    (reminders are sent, not completed; scheduled rows are not due yet)."""
    if row.step_type == SequenceStep.StepType.REMINDER:
        raise Conflict("A reminder is sent, not completed.", code="not_a_call_or_task")
    now = timezone.now()
    with transaction.atomic():
        moved = ScheduledStep.objects.filter(pk=row.pk, status=Status.READY).update(
            status=Status.COMPLETED, notes=notes, processed_at=now, updated_at=now
        )
        if moved:
            events_record(type=QUEUE_ROW_COMPLETED, subject_type=QUEUE_ROW, ids=[row.pk])
            enrollments_finish_if_done(enrollment_ids=[row.enrollment_id])  # same transaction: see cancel
    current = ScheduledStep.objects.get(pk=row.pk)
    if moved or current.status == Status.COMPLETED:
        return current
    raise Conflict(f"A {current.status} row cannot be completed.", code="invalid_state")


def _current_or_conflict(row: ScheduledStep, *, allowed: tuple[str, ...], verb: str) -> ScheduledStep:
    current = ScheduledStep.objects.get(pk=row.pk)
    if current.status not in allowed:
        raise Conflict(
            f"A {current.status} row cannot be {verb}ed; only ready reminders.", code="invalid_state"
        )
    return current
