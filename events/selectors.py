"""Cursor reads of the event log: oldest first, `after` an event id, `limit` + `has_more`.

Order is (`txid`, `seq`). A transaction that is still running may hold events with a lower `seq` than
ones already committed; listing only events of transactions older than the oldest one still running
(`txid_snapshot_xmin`) means every event that becomes visible later sorts after everything listed
before it, so a client walking with `after` never skips one. Only this database's transactions count
(see `_HORIZON`). A reader's own transaction's events are visible to it too.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from daylit.errors import BadRequest
from daylit.models import Company
from events.models import Event

# The oldest transaction of this database that was still running when the statement's snapshot was
# taken: its in-progress list, less the transactions pg_stat_activity places in other databases (a
# transaction ids are server-wide; another database's long transaction must not hold our events back).
# One that ended since the snapshot is no longer listed anywhere and counts as ours: safe, just late.
# pg_stat_activity shows 32-bit xids; they are widened against the snapshot's 64-bit xmax.
_HORIZON = """(
    SELECT COALESCE(min(running.xid), txid_snapshot_xmax(txid_current_snapshot()))
    FROM txid_snapshot_xip(txid_current_snapshot()) AS running(xid)
    WHERE running.xid IS DISTINCT FROM txid_current_if_assigned()
      AND running.xid NOT IN (
        SELECT x.xmax - ((x.xmax %% 4294967296) - a.backend_xid::text::bigint + 4294967296) %% 4294967296
        FROM pg_stat_activity a, (SELECT txid_snapshot_xmax(txid_current_snapshot()) AS xmax) x
        WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()
      )
)"""
_SETTLED = Q(txid__lt=RawSQL(_HORIZON, [])) | Q(txid=RawSQL("txid_current_if_assigned()", []))


@dataclass
class EventPage:
    data: list[Event]
    has_more: bool


def event_page(
    *,
    company: Company,
    after: UUID | None = None,
    limit: int = 20,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    subject_id: UUID | None = None,
    customer_id: UUID | None = None,
    enrollment_id: UUID | None = None,
) -> EventPage:
    """One page of the company's events matching every filter given; an `after` that is not an event
    of this company is a 400 `unknown_cursor`."""
    events = Event.objects.filter(_SETTLED, company=company)
    if after is not None:
        cursor = Event.objects.filter(company=company, id=after).values("txid", "seq").first()
        if cursor is None:
            raise BadRequest("`after` is not an event of this company.", code="unknown_cursor")
        events = events.filter(
            Q(txid__gt=cursor["txid"]) | Q(txid=cursor["txid"], seq__gt=cursor["seq"]),
            txid__gte=cursor["txid"],
        )
    if exclude_types:
        events = events.exclude(type__in=exclude_types)
    events = _filtered(
        events, types=types, subject_id=subject_id, customer_id=customer_id, enrollment_id=enrollment_id
    )
    rows = list(events.order_by("txid", "seq")[: limit + 1])
    return EventPage(data=rows[:limit], has_more=len(rows) > limit)


def _filtered(events: QuerySet, **filters) -> QuerySet:
    if filters["types"]:
        events = events.filter(type__in=filters["types"])
    for name in ("subject_id", "customer_id", "enrollment_id"):
        if filters[name] is not None:
            events = events.filter(**{name: filters[name]})
    return events
