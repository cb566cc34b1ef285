"""Writing the scheduled rows of many enrollments at once.

Enrollments that share a zone, a holiday calendar and an anchor date share their rows' times too, so a
bulk is a few groups, each the cross product (its enrollments) x (its planned rows). On PostgreSQL one
INSERT ... SELECT builds every group's product in the database: 50,000 rows cost one statement and no
model instances, however many groups the calendar made.
"""

from uuid import UUID

from django.db import connection
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep
from enrollments.planning import SKIPPED_AT_ENROLL, RowPlan

# Columns taken from the enrollment (e), its group's planned row (p) or the group map (g); every other
# column gets its model default (generated columns are left to the database).
_FROM_SELECT = {
    "id": "gen_random_uuid()",
    "company_id": "e.company_id",
    "enrollment_id": "e.id",
    "sequence_id": "e.sequence_id",
    "customer_id": "e.customer_id",
    "step_id": "p.step_id",
    "step_type": "p.step_type",
    "scheduled_for": "p.scheduled_for",
    "schedule_note": "p.schedule_note",
    "status": "p.status",
    "error": "p.error",
    "processed_at": "p.processed_at",
}

Group = tuple[list[Enrollment], list[RowPlan]]


def _status(plan: RowPlan) -> str:
    return ScheduledStep.Status.CANCELLED if plan.skipped else ScheduledStep.Status.SCHEDULED


def scheduled_rows_insert(*, groups: list[Group]) -> list[UUID]:
    """Insert one row per (enrollment, plan) of each group; the enrollments must already be saved.

    Returns the ids of the rows created `cancelled` (catch_up "latest"), whose events the caller records.
    """
    groups = [(enrollments, plans) for enrollments, plans in groups if enrollments and plans]
    if not groups:
        return []
    now = timezone.now()
    columns, selects, params = [], [], []
    for field in ScheduledStep._meta.concrete_fields:
        if field.generated:  # computed by the database (subject_lower)
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in _FROM_SELECT:
            selects.append(_FROM_SELECT[field.attname])
            continue
        is_timestamp = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        selects.append("%s")
        params.append(field.get_db_prep_save(now if is_timestamp else field.get_default(), connection))
    plans = [(index, plan) for index, (_, group_plans) in enumerate(groups) for plan in group_plans]
    members = [
        (index, enrollment.pk) for index, (enrollments, _) in enumerate(groups) for enrollment in enrollments
    ]
    any_skipped = any(plan.skipped for _, plan in plans)
    insert = (
        f"INSERT INTO {connection.ops.quote_name(ScheduledStep._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} "
        "FROM unnest(%s::int[], %s::uuid[]) AS g(grp, enrollment_id) "
        f"JOIN {connection.ops.quote_name(Enrollment._meta.db_table)} e ON e.id = g.enrollment_id "
        "JOIN unnest(%s::int[], %s::uuid[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], "
        "%s::text[], %s::timestamptz[]) "
        "AS p(grp, step_id, step_type, scheduled_for, schedule_note, status, error, processed_at) "
        "ON p.grp = g.grp"
    )
    params += [
        [index for index, _ in members],
        [enrollment_id for _, enrollment_id in members],
        [index for index, _ in plans],
        [plan.step.id for _, plan in plans],
        [plan.step.step_type for _, plan in plans],
        [plan.scheduled_for for _, plan in plans],
        [plan.schedule_note for _, plan in plans],
        [_status(plan) for _, plan in plans],
        [SKIPPED_AT_ENROLL if plan.skipped else "" for _, plan in plans],
        [now if plan.skipped else None for _, plan in plans],
    ]
    with connection.cursor() as cursor:
        if not any_skipped:
            cursor.execute(insert, params)
            return []
        cursor.execute(
            f"WITH created AS ({insert} RETURNING id, status) "  # noqa: S608 (our columns)
            "SELECT id FROM created WHERE status = %s",
            [*params, ScheduledStep.Status.CANCELLED],
        )
        return [row[0] for row in cursor.fetchall()]


def rows_for(enrollment: Enrollment, plans: list[RowPlan]) -> list[ScheduledStep]:
    """The rows of one enrollment as model instances (single enroll: bulk_create)."""
    now = timezone.now()
    return [
        ScheduledStep(
            company_id=enrollment.company_id,
            enrollment_id=enrollment.pk,
            sequence_id=enrollment.sequence_id,
            step_id=plan.step.id,
            customer_id=enrollment.customer_id,
            step_type=plan.step.step_type,
            scheduled_for=plan.scheduled_for,
            schedule_note=plan.schedule_note,
            status=_status(plan),
            error=SKIPPED_AT_ENROLL if plan.skipped else "",
            processed_at=now if plan.skipped else None,
        )
        for plan in plans
    ]
