"""Writing the scheduled rows of many enrollments at once.

Every enrollment of a bulk shares the start date, so it shares the step times too: the rows are the cross
product (new enrollments) x (step plans). On PostgreSQL one INSERT ... SELECT builds that product in the
database, so 50,000 rows cost one statement and no model instances.
"""

import datetime
from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone

from enrollments.models import Enrollment, ScheduledStep

BATCH_SIZE = 25_000

# Columns taken from the enrollment (e) or the step plan (p); every other column gets its model default
# (generated columns are left to the database).
_FROM_SELECT = {
    "id": "gen_random_uuid()",
    "company_id": "e.company_id",
    "enrollment_id": "e.id",
    "sequence_id": "e.sequence_id",
    "customer_id": "e.customer_id",
    "step_id": "p.step_id",
    "step_type": "p.step_type",
    "scheduled_for": "p.scheduled_for",
}


@dataclass(frozen=True)
class StepPlan:
    step_id: UUID
    step_type: str
    scheduled_for: datetime.datetime


def scheduled_rows_insert(*, enrollments: list[Enrollment], plans: list[StepPlan]) -> None:
    """Insert one `scheduled` row per (enrollment, plan). The enrollments must already be saved."""
    if not enrollments or not plans:
        return
    columns, selects, params = [], [], []
    now = timezone.now()
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
    sql = (
        f"INSERT INTO {connection.ops.quote_name(ScheduledStep._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} "
        f"FROM {connection.ops.quote_name(Enrollment._meta.db_table)} e "
        "CROSS JOIN unnest(%s::uuid[], %s::text[], %s::timestamptz[]) "
        "AS p(step_id, step_type, scheduled_for) "
        "WHERE e.id = ANY(%s::uuid[])"
    )
    params += [
        [plan.step_id for plan in plans],
        [plan.step_type for plan in plans],
        [plan.scheduled_for for plan in plans],
        [enrollment.pk for enrollment in enrollments],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rows_for(enrollments: list[Enrollment], plans: list[StepPlan]) -> list[ScheduledStep]:
    return [
        ScheduledStep(
            company_id=enrollment.company_id,
            enrollment_id=enrollment.pk,
            sequence_id=enrollment.sequence_id,
            step_id=plan.step_id,
            customer_id=enrollment.customer_id,
            step_type=plan.step_type,
            scheduled_for=plan.scheduled_for,
        )
        for enrollment in enrollments
        for plan in plans
    ]
