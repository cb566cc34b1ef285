"""Re-planning when an invoice's due date changes (a write of the enrollments app, like services.py).

SPEC: the `scheduled` rows of the active `invoice_due` enrollments on the invoice are planned again from
the new due date; rows past `scheduled` stay as they are. Each row keeps its enrollment's zone
(`Enrollment.time_zone`, fixed at enrollment) and takes the sequence's calendar and the customer's
holidays as they are now. Decided where SPEC is silent: `catch_up: latest` applies to a re-plan as to an
enrollment (of the re-planned rows now past, only the latest stays due; the earlier ones are cancelled
with `error` "skipped: already past when re-planned"), so moving a due date a month back does not send
a month of reminders at once.
"""

from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from daylit.models import Company, Invoice
from enrollments.models import Enrollment, ScheduledStep
from enrollments.payloads import QUEUE_ROW
from enrollments.planning import (
    PLANNING_FIELDS,
    SKIPPED_AT_REPLAN,
    RulesPlanner,
    Step,
    targets,
)
from events.services import events_record
from events.types import QUEUE_ROW_CANCELLED, QUEUE_ROW_RESCHEDULED
from sequences.models import Sequence

_UPDATE = f"""
UPDATE {ScheduledStep._meta.db_table} AS s
SET scheduled_for = v.scheduled_for, schedule_note = v.schedule_note, status = v.status, error = v.error,
    processed_at = v.processed_at, updated_at = %s
FROM unnest(%s::uuid[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])
     AS v(id, scheduled_for, schedule_note, status, error, processed_at)
WHERE s.id = v.id AND s.status = 'scheduled'
  AND (s.scheduled_for <> v.scheduled_for OR s.schedule_note IS DISTINCT FROM v.schedule_note
       OR v.status <> 'scheduled')
RETURNING s.id, v.status
"""  # noqa: S608 (our table name)


def enrollments_replan_for_invoice(*, invoice: Invoice) -> int:
    """Re-plan the `scheduled` rows the invoice's due date anchors. Returns how many rows changed.

    Runs inside the invoice's transaction (the `invoice_due_date_changed` signal). One UPDATE for all
    rows, conditional on `status = 'scheduled'`: a row the promotion pass takes in between stays as it
    became. Records `queue_row.rescheduled` for each moved row and `queue_row.cancelled` for each row
    `catch_up: latest` skipped, in the same transaction.
    """
    enrollments = list(
        Enrollment.objects.filter(
            invoice_id=invoice.pk,
            status=Enrollment.Status.ACTIVE,
            sequence__anchor=Sequence.Anchor.INVOICE_DUE,
        ).values_list("pk", "sequence_id", "customer_id", "time_zone")
    )
    if not enrollments:
        return 0
    with transaction.atomic(savepoint=False):
        rows = defaultdict(list)
        for row_id, enrollment_id, *step in ScheduledStep.objects.filter(
            enrollment_id__in=[pk for pk, *_ in enrollments], status=ScheduledStep.Status.SCHEDULED
        ).values_list(
            "pk",
            "enrollment_id",
            "step_id",
            "step__step_type",
            "step__label",
            "step__offset_days",
            "step__offset_time",
        ):
            rows[enrollment_id].append((row_id, Step(*step)))
        company = Company.objects.only("country", "subdivision").get(pk=invoice.company_id)
        sequences = Sequence.objects.only(*PLANNING_FIELDS).in_bulk({seq for _, seq, *_ in enrollments})
        planners = {
            pk: RulesPlanner(sequence=seq, company=company, steps=[]) for pk, seq in sequences.items()
        }
        customers = targets(invoice.company_id, {customer for _, _, customer, _ in enrollments})
        now = timezone.now()
        updates = []
        for enrollment_id, sequence_id, customer_id, zone in enrollments:
            mine = sorted(rows.get(enrollment_id, []), key=lambda row: _step_order(row[1]))
            if not mine:
                continue
            rules = planners[sequence_id]
            plans = rules.rows(
                zone=zone,
                calendar=rules.calendar_for(customers[customer_id]),
                anchor_date=invoice.due_date,
                now=now,
                steps=[step for _, step in mine],
            )
            updates += [(row_id, plan) for (row_id, _), plan in zip(mine, plans, strict=True)]
        if not updates:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(
                _UPDATE,
                [
                    now,
                    [row_id for row_id, _ in updates],
                    [plan.scheduled_for for _, plan in updates],
                    [plan.schedule_note for _, plan in updates],
                    [
                        ScheduledStep.Status.CANCELLED if plan.skipped else ScheduledStep.Status.SCHEDULED
                        for _, plan in updates
                    ],
                    [SKIPPED_AT_REPLAN if plan.skipped else "" for _, plan in updates],
                    [now if plan.skipped else None for _, plan in updates],
                ],
            )
            changed = cursor.fetchall()
        cancelled = [row_id for row_id, status in changed if status == ScheduledStep.Status.CANCELLED]
        moved = [row_id for row_id, status in changed if status != ScheduledStep.Status.CANCELLED]
        events_record(type=QUEUE_ROW_RESCHEDULED, subject_type=QUEUE_ROW, ids=moved)
        events_record(type=QUEUE_ROW_CANCELLED, subject_type=QUEUE_ROW, ids=cancelled)
    return len(changed)


def _step_order(step: Step) -> tuple:
    return (step.offset_days, step.offset_time, str(step.id))
