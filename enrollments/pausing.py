"""Pausing and resuming enrollments (writes of the enrollments app, like services.py).

A paused enrollment keeps its rows: its `scheduled` rows are not promoted and its `ready` reminders
are neither auto-sent nor sent by a person (409 `enrollment_paused`), since the queue reads the
enrollment's status in every claim. Resume with `shift` moves every `scheduled` row later by exactly
the time the enrollment was paused, and only when that instant breaks the sequence's send days,
window or holidays does the calendar move it on (`SendPlanner.settle`, planning steps 3-4).

Everything here is set-based: one UPDATE pauses or resumes any number of enrollments, one UPDATE
shifts all their rows, and the events are recorded for exactly the ids those UPDATEs returned.

Lock order, as in services.py: scheduled rows, then enrollment rows. Resume locks the rows it will
shift (the `scheduled` rows of the enrollments paused when it starts) before it flips the enrollments,
so a stop (rows, then enrollment) cannot deadlock with it.
"""

import datetime
from collections.abc import Iterable
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from daylit.errors import Conflict
from daylit.models import Company, Customer
from enrollments.models import CURRENT_STATUSES, Enrollment, ScheduledStep
from enrollments.payloads import ENROLLMENT, QUEUE_ROW
from enrollments.planning import PLANNING_FIELDS, RulesPlanner, Target
from enrollments.scheduling import scheduled_instant
from events.services import events_record
from events.types import ENROLLMENT_PAUSED, ENROLLMENT_RESUMED, QUEUE_ROW_RESCHEDULED
from sequences.models import Sequence

# Enrollments per resume statement in beat's auto-resume: 5 rows each, so 5,000 rows per UPDATE.
RESUME_BATCH_SIZE = 1_000
ENROLLMENT_TABLE = Enrollment._meta.db_table
ROW_TABLE = ScheduledStep._meta.db_table

Until = datetime.date | datetime.datetime | None

_PAUSE = f"""
UPDATE {ENROLLMENT_TABLE} AS e
SET status = 'paused', paused_at = COALESCE(e.paused_at, %(now)s), paused_until = v.until,
    pause_reason = %(reason)s, updated_at = %(now)s
FROM unnest(%(zones)s::text[], %(untils)s::timestamptz[]) AS v(zone, until)
WHERE e.id = ANY(%(ids)s) AND e.time_zone = v.zone AND e.status = ANY(%(statuses)s)
RETURNING e.id
"""  # noqa: S608 (our table name)

# The old paused_at comes from the locked sub-select: RETURNING sees only the new row.
_RESUME = f"""
UPDATE {ENROLLMENT_TABLE} AS e
SET status = 'active', paused_at = NULL, paused_until = NULL, pause_reason = NULL, updated_at = %(now)s
FROM (SELECT id, paused_at FROM {ENROLLMENT_TABLE}
      WHERE id = ANY(%(ids)s) AND status = 'paused'
        AND (%(due_by)s::timestamptz IS NULL OR paused_until <= %(due_by)s::timestamptz)
      ORDER BY id FOR UPDATE) AS old
WHERE e.id = old.id
RETURNING e.id, old.paused_at
"""  # noqa: S608

_SHIFT = f"""
UPDATE {ROW_TABLE} AS s
SET scheduled_for = v.scheduled_for, schedule_note = v.schedule_note, updated_at = %s
FROM unnest(%s::uuid[], %s::timestamptz[], %s::text[]) AS v(id, scheduled_for, schedule_note)
WHERE s.id = v.id AND s.status = 'scheduled'
RETURNING s.id
"""  # noqa: S608


# --- one enrollment ---------------------------------------------------------------------------------


def enrollment_pause(*, enrollment: Enrollment, until: Until = None, reason: str | None = None) -> Enrollment:
    """Pause an active enrollment, or change `until` and `reason` of a paused one (it stays paused since
    it first was). A date means 00:00 that day in the enrollment's zone; a time already past is 400, a
    completed enrollment 409 `enrollment_completed`."""
    now = timezone.now()
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.status == Enrollment.Status.COMPLETED:
            raise _completed()
        instant = pause_until_instant(until, zone=locked.time_zone, now=now)
        _pause(ids=[locked.pk], untils={locked.time_zone: instant}, reason=reason, now=now)
    return Enrollment.objects.get(pk=enrollment.pk)


def enrollment_resume(*, enrollment: Enrollment, shift: bool = True) -> Enrollment:
    """Resume a paused enrollment (an active one is returned unchanged; a completed one is 409)."""
    with transaction.atomic():
        if Enrollment.objects.filter(pk=enrollment.pk, status=Enrollment.Status.COMPLETED).exists():
            raise _completed()
        enrollments_resume(enrollment_ids=[enrollment.pk], shift=shift)
    return Enrollment.objects.get(pk=enrollment.pk)


# --- a customer's enrollments -----------------------------------------------------------------------


def customer_enrollments_pause(*, customer: Customer, until: Until = None, reason: str | None = None) -> int:
    """Pause all the customer's active enrollments (paused ones keep their own pause). Returns how many."""
    now = timezone.now()
    if isinstance(until, datetime.datetime):  # refused even when there is nothing to pause
        pause_until_instant(until, zone="UTC", now=now)
    with transaction.atomic():
        current = list(
            Enrollment.objects.select_for_update()
            .filter(customer_id=customer.pk, status=Enrollment.Status.ACTIVE)
            .order_by("pk")
            .values_list("pk", "time_zone")
        )
        untils = {zone: pause_until_instant(until, zone=zone, now=now) for _, zone in current}
        return len(
            _pause(
                ids=[pk for pk, _ in current],
                untils=untils,
                reason=reason,
                now=now,
                statuses=[Enrollment.Status.ACTIVE],
            )
        )


def customer_enrollments_resume(*, customer: Customer, shift: bool = True) -> int:
    """Resume all the customer's paused enrollments, whatever paused them. Returns how many."""
    ids = Enrollment.objects.filter(customer_id=customer.pk, status=Enrollment.Status.PAUSED).values_list(
        "pk", flat=True
    )
    return len(enrollments_resume(enrollment_ids=list(ids), shift=shift))


# --- set-based, for the system's own pauses (promises, disputes) and beat --------------------------


def enrollments_pause(
    *,
    enrollment_ids: Iterable[UUID],
    until: Until,
    reason: str,
    statuses: Iterable[str] = (Enrollment.Status.ACTIVE,),
) -> list[UUID]:
    """Pause those of `enrollment_ids` in `statuses` until an instant, 00:00 of a date in each one's zone,
    or none. Returns the ids paused (or re-paused) and records `enrollment.paused` for each, in the
    caller's transaction. The system's own pauses: no check that `until` is ahead."""
    ids = sorted(set(enrollment_ids))
    if not ids:
        return []
    now = timezone.now()
    zones = Enrollment.objects.filter(pk__in=ids).values_list("time_zone", flat=True).distinct()
    untils = {zone: until_instant(until, zone) for zone in zones}
    return _pause(ids=ids, untils=untils, reason=reason, now=now, statuses=list(statuses))


def enrollments_resume(
    *,
    enrollment_ids: Iterable[UUID],
    shift: bool = True,
    now: datetime.datetime | None = None,
    due_by: datetime.datetime | None = None,
) -> list[UUID]:
    """Resume the paused ones among `enrollment_ids`; with `shift`, move their `scheduled` rows later by
    the time each was paused (then by the calendar if that breaks it). Returns the ids resumed. Records
    `enrollment.resumed` and `queue_row.rescheduled` for exactly the enrollments and rows changed.
    Safe to run twice and concurrently: the second resume finds nothing paused. `due_by` (beat): only
    those whose `paused_until` is still by then, so a pause extended meanwhile stands."""
    ids = sorted(set(enrollment_ids))
    if not ids:
        return []
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        rows = []
        if shift:  # rows first (the lock order), then the enrollments
            # Only the rows of enrollments paused now (read unlocked; `_RESUME` checks again under the
            # lock), so a resume never holds rows of an active enrollment that a stop or a re-plan may
            # be updating in its own order. Two plain lookups by key: joined to the enrollments'
            # status in one statement, the planner walked every paused enrollment and probed its rows
            # for each batch (10,000 probes for a batch of 1,000, 300-450 ms).
            paused = Enrollment.objects.filter(pk__in=ids, status=Enrollment.Status.PAUSED)
            if due_by is not None:
                paused = paused.filter(paused_until__lte=due_by)
            ids = sorted(paused.values_list("pk", flat=True))
            if not ids:
                return []
            rows = list(
                ScheduledStep.objects.select_for_update()
                .filter(enrollment_id__in=ids, status=ScheduledStep.Status.SCHEDULED)
                .order_by("pk")
                .values_list("pk", "enrollment_id", "scheduled_for")
            )
        with connection.cursor() as cursor:
            cursor.execute(_RESUME, {"ids": ids, "now": now, "due_by": due_by})
            resumed = dict(cursor.fetchall())
        events_record(type=ENROLLMENT_RESUMED, subject_type=ENROLLMENT, ids=list(resumed))
        if rows:
            moved = _shift(rows=[row for row in rows if row[1] in resumed], paused_at=resumed, now=now)
            events_record(type=QUEUE_ROW_RESCHEDULED, subject_type=QUEUE_ROW, ids=moved)
    return list(resumed)


def enrollments_resume_due(
    *, now: datetime.datetime | None = None, batch_size: int = RESUME_BATCH_SIZE
) -> int:
    """Beat: resume, with shift, every paused enrollment whose `paused_until` has passed. Batches of
    `batch_size`, one transaction each. Returns how many it resumed."""
    now = now or timezone.now()
    total = 0
    while True:
        ids = list(
            Enrollment.objects.filter(status=Enrollment.Status.PAUSED, paused_until__lte=now)
            .order_by("paused_until", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        total += len(enrollments_resume(enrollment_ids=ids, shift=True, now=now, due_by=now))
        if len(ids) < batch_size:
            return total


# --- helpers ---------------------------------------------------------------------------------------


def until_instant(until: Until, zone: str) -> datetime.datetime | None:
    """A date is 00:00 that day in `zone` (a DST gap moves it forward, as Part 1 does)."""
    if until is None or isinstance(until, datetime.datetime):
        return until
    return scheduled_instant(start_date=until, offset_days=0, offset_time=datetime.time(0), tz_name=zone)


def pause_until_instant(until: Until, *, zone: str, now: datetime.datetime) -> datetime.datetime | None:
    """`until` as an instant (`until_instant`); a past one is 400."""
    instant = until_instant(until, zone)
    if instant is None:
        return None
    if instant <= now:
        raise ValidationError(
            {"until": [f"Must be in the future; {instant.isoformat()} ({zone}) has passed."]}
        )
    return instant


def _pause(
    *,
    ids: list[UUID],
    untils: dict[str, datetime.datetime | None],
    reason: str | None,
    now: datetime.datetime,
    statuses: list[str] | None = None,
) -> list[UUID]:
    if not ids:
        return []
    zones = list(untils)
    with connection.cursor() as cursor:
        cursor.execute(
            _PAUSE,
            {
                "ids": ids,
                "zones": zones,
                "untils": [untils[zone] for zone in zones],
                "reason": reason or None,
                "now": now,
                "statuses": statuses or list(CURRENT_STATUSES),
            },
        )
        paused = [row[0] for row in cursor.fetchall()]
    events_record(type=ENROLLMENT_PAUSED, subject_type=ENROLLMENT, ids=paused)
    return paused


def _shift(
    *, rows: list[tuple], paused_at: dict[UUID, datetime.datetime], now: datetime.datetime
) -> list[UUID]:
    """Move each row later by its enrollment's pause, settled under its sequence's calendar; one UPDATE."""
    if not rows:
        return []
    enrollments = {
        pk: (sequence_id, company_id, zone, Target(customer_id, *calendar))
        for pk, sequence_id, company_id, zone, customer_id, *calendar in Enrollment.objects.filter(
            pk__in={row[1] for row in rows}
        ).values_list(
            "pk",
            "sequence_id",
            "company_id",
            "time_zone",
            "customer_id",
            "customer__timezone",
            "customer__country",
            "customer__subdivision",
        )
    }
    sequences = Sequence.objects.only(*PLANNING_FIELDS).in_bulk({value[0] for value in enrollments.values()})
    companies = Company.objects.only("country", "subdivision").in_bulk(
        {value[1] for value in enrollments.values()}
    )
    planners = {
        pk: RulesPlanner(sequence=sequence, company=companies[sequence.company_id], steps=[])
        for pk, sequence in sequences.items()
    }
    ids, instants, notes = [], [], []
    for row_id, enrollment_id, scheduled_for in rows:
        sequence_id, _, zone, target = enrollments[enrollment_id]
        rules = planners[sequence_id]
        paused_for = now - paused_at[enrollment_id]
        settled = rules.settle(
            zone=zone, calendar=rules.calendar_for(target), instant=scheduled_for + paused_for
        )
        ids.append(row_id)
        instants.append(settled.instant)
        shifted = f"shifted {_duration(paused_for)} later by a pause"
        notes.append(f"{shifted}; {settled.note}" if settled.note else shifted)
    with connection.cursor() as cursor:
        cursor.execute(_SHIFT, [now, ids, instants, notes])
        return [row[0] for row in cursor.fetchall()]


def _duration(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    clock = f"{minutes // 60}:{minutes % 60:02d}"
    return f"{days} day{'s' if days != 1 else ''} {clock}" if days else f"{clock} h"


def _completed() -> Conflict:
    return Conflict(
        "This enrollment is completed; it can no longer be paused or resumed.", code="enrollment_completed"
    )
