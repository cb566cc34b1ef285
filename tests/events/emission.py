"""Reading back the events a change recorded, for the emission tests (tests/events/test_emission_*.py)
and the payload tests of each app."""

from uuid import UUID

from events.models import Event
from events.services import events_record


def recorded(*types: str) -> list[tuple[str, UUID]]:
    """(type, subject id) of every event, in the order they were written; only `types` when given."""
    events = Event.objects.order_by("txid", "seq")
    if types:
        events = events.filter(type__in=types)
    return list(events.values_list("type", "subject_id"))


def event_data(type: str, subject_id) -> dict:
    """The one event of `type` about `subject_id`: its `data`."""
    return Event.objects.get(type=type, subject_id=subject_id).data


def payload(*, type: str, subject_type: str, obj_id) -> Event:
    """Record one event about `obj_id` now and return it: the payload query's view of the object."""
    assert events_record(type=type, subject_type=subject_type, ids=[obj_id]) == 1
    return Event.objects.filter(subject_id=obj_id).latest("seq")
