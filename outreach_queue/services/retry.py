"""A person's retry of a row that failed before any send was attempted (a template that would not
render, a suppressed address, no AI provider): it goes back to `scheduled`, due now, and is promoted at
once, so the person sees whether it renders now.

A row whose send was attempted is never retried here: that attempt may have delivered (Nylas keys
expire), so sending again could email twice; cancel it and write a new one. Nor a row whose enrollment
has completed: nothing would promote it.
"""

from django.db import transaction
from django.utils import timezone

from daylit.errors import Conflict
from enrollments.models import CURRENT_STATUSES, ScheduledStep
from enrollments.payloads import QUEUE_ROW
from events.services import events_record
from events.types import QUEUE_ROW_RESCHEDULED
from outreach_queue.services.promotion import queue_rows_promote

Status = ScheduledStep.Status


def queue_row_retry(*, row: ScheduledStep) -> ScheduledStep:
    """Put a failed row back to be promoted now; returns it as promotion left it (ready, or failed with
    the new reason). 409 `send_attempted` or `enrollment_completed`, 409 `invalid_state` when not failed."""
    now = timezone.now()
    with transaction.atomic():
        locked = ScheduledStep.objects.select_for_update().select_related("enrollment").get(pk=row.pk)
        if locked.status != Status.FAILED:
            raise Conflict(
                f"Only a failed row can be retried; this one is {locked.status}.", code="invalid_state"
            )
        if locked.sending_started_at is not None:
            raise Conflict(
                "A send of this row was attempted and may have delivered: it cannot be retried. Cancel it "
                "and send a new email instead.",
                code="send_attempted",
            )
        if locked.enrollment.status not in CURRENT_STATUSES:
            raise Conflict(
                "This row's enrollment is completed, so nothing would promote it again; enroll the customer "
                "again instead.",
                code="enrollment_completed",
            )
        ScheduledStep.objects.filter(pk=locked.pk, status=Status.FAILED).update(
            status=Status.SCHEDULED, scheduled_for=now, error="", processed_at=None, updated_at=now
        )
        events_record(type=QUEUE_ROW_RESCHEDULED, subject_type=QUEUE_ROW, ids=[locked.pk])
    queue_rows_promote(company=locked.company)
    return ScheduledStep.objects.get(pk=row.pk)
