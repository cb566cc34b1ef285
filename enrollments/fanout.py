"""Writing the scheduled rows of many enrollments at once.

Enrollments that share a zone, a holiday calendar and an anchor date share their rows' times too, so a
bulk is a few groups, each the cross product (its enrollments) x (its planned rows). On PostgreSQL one
INSERT ... SELECT builds every group's product in the database: 50,000 rows cost one statement and no
model instances, however many groups the calendar made.

A step running an experiment (docs/variants.md) gets its variant assigned in the same statement: each
row's bucket (enrollments.variants.bucket_sql) is joined against the steps' bucket ranges, and a row that
lands in the holdout is created `cancelled` with `error` "holdout", like a catch-up skip.
"""

from uuid import UUID

from django.db import connection
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep
from enrollments.planning import SKIPPED_AT_ENROLL, RowPlan
from enrollments.variants import HOLDOUT_ERROR, bucket_sql, variant_for
from sequences.models import HOLDOUT_KEY

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

# With an experiment: the holdout's row is created cancelled whatever the plan said (r: the range joined).
_HELD_OUT = f"r.key = '{HOLDOUT_KEY}'"
_WITH_EXPERIMENT = {
    "variant_key": "r.key",
    "status": f"CASE WHEN {_HELD_OUT} THEN '{ScheduledStep.Status.CANCELLED}' ELSE p.status END",
    "error": f"CASE WHEN {_HELD_OUT} THEN '{HOLDOUT_ERROR}' ELSE p.error END",
    "processed_at": f"CASE WHEN {_HELD_OUT} THEN %s::timestamptz ELSE p.processed_at END",
}

Group = tuple[list[Enrollment], list[RowPlan]]


def _status(plan: RowPlan, variant_key: str | None = None) -> str:
    if plan.skipped or variant_key == HOLDOUT_KEY:
        return ScheduledStep.Status.CANCELLED
    return ScheduledStep.Status.SCHEDULED


def _error(plan: RowPlan, variant_key: str | None = None) -> str:
    if variant_key == HOLDOUT_KEY:  # the experiment's reason first: it decides the row's group
        return HOLDOUT_ERROR
    return SKIPPED_AT_ENROLL if plan.skipped else ""


def scheduled_rows_insert(*, groups: list[Group]) -> list[UUID]:
    """Insert one row per (enrollment, plan) of each group; the enrollments must already be saved.

    Returns the ids of the rows created `cancelled` (catch_up "latest", a holdout), whose events the
    caller records.
    """
    groups = [(enrollments, plans) for enrollments, plans in groups if enrollments and plans]
    if not groups:
        return []
    now = timezone.now()
    steps = {plan.step.id: plan.step for _, group_plans in groups for plan in group_plans}
    ranges = [(step_id, *bounds) for step_id, step in steps.items() for bounds in step.ranges]
    from_select = {**_FROM_SELECT, **_WITH_EXPERIMENT} if ranges else _FROM_SELECT
    columns, selects, params = [], [], []
    for field in ScheduledStep._meta.concrete_fields:
        if field.generated:  # computed by the database (subject_lower)
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in from_select:
            selects.append(from_select[field.attname])
            if field.attname == "processed_at" and ranges:
                params.append(now)
            continue
        is_timestamp = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        selects.append("%s")
        params.append(field.get_db_prep_save(now if is_timestamp else field.get_default(), connection))
    plans = [(index, plan) for index, (_, group_plans) in enumerate(groups) for plan in group_plans]
    members = [
        (index, enrollment.pk) for index, (enrollments, _) in enumerate(groups) for enrollment in enrollments
    ]
    any_cancelled = any(plan.skipped for _, plan in plans) or any(key == HOLDOUT_KEY for _, key, *_ in ranges)
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
    if ranges:
        # The bucket once per row (the fence: OFFSET 0 keeps the planner from inlining it into each use),
        # only for steps with an experiment, then the one range of that step it falls in (hash join).
        bucket = bucket_sql(enrollment_id="e.id", step_id="p.step_id")
        experiment_steps = sorted({str(step_id) for step_id, *_ in ranges})
        insert += (
            f" CROSS JOIN LATERAL (SELECT CASE WHEN p.step_id = ANY(%s::uuid[]) THEN {bucket} END OFFSET 0)"
            " AS h(bucket)"
            " LEFT JOIN unnest(%s::uuid[], %s::text[], %s::int[], %s::int[]) AS r(step_id, key, low, high)"
            " ON r.step_id = p.step_id AND h.bucket >= r.low AND h.bucket < r.high"
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
        [_error(plan) for _, plan in plans],
        [now if plan.skipped else None for _, plan in plans],
    ]
    if ranges:
        params += [experiment_steps, *(list(column) for column in zip(*ranges, strict=True))]
    with connection.cursor() as cursor:
        if not any_cancelled:
            cursor.execute(insert, params)
            return []
        cursor.execute(
            f"WITH created AS ({insert} RETURNING id, status) "  # noqa: S608 (our columns)
            "SELECT id FROM created WHERE status = %s",
            [*params, ScheduledStep.Status.CANCELLED],
        )
        return [row[0] for row in cursor.fetchall()]


def rows_for(enrollment: Enrollment, plans: list[RowPlan]) -> list[ScheduledStep]:
    """The rows of one enrollment as model instances (single enroll: bulk_create); a step's variant is
    assigned here by the same rule the bulk's SQL applies."""
    now = timezone.now()
    keys = [
        variant_for(enrollment_id=enrollment.pk, step_id=plan.step.id, ranges=plan.step.ranges)
        for plan in plans
    ]
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
            status=_status(plan, key),
            error=_error(plan, key),
            processed_at=now if _status(plan, key) == ScheduledStep.Status.CANCELLED else None,
            variant_key=key,
        )
        for plan, key in zip(plans, keys, strict=True)
    ]
