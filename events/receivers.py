"""The core app's promises and disputes, recorded as events: the core app cannot import this one, so it
sends its signals (daylit.signals) inside the transaction that made the change, and these receivers
record the event in that same transaction. Each only calls `events_record`."""

from django.dispatch import receiver

from daylit.signals import dispute_opened, dispute_resolved, promise_created, promises_ended
from events import types
from events.payloads import DISPUTE, PROMISE
from events.services import events_record

PROMISE_ENDED_TYPES = {
    "kept": types.PROMISE_KEPT,
    "broken": types.PROMISE_BROKEN,
    "cancelled": types.PROMISE_CANCELLED,
}


@receiver(promise_created, dispatch_uid="events.record_promise_created")
def record_promise_created(sender, promise, replaced=None, **kwargs) -> None:
    # A new promise cancels the invoice's open one without `promises_ended` (the pause goes on), but the
    # cancellation is an event all the same, recorded before the new promise's.
    if replaced is not None:
        events_record(type=types.PROMISE_CANCELLED, subject_type=PROMISE, ids=[replaced.pk])
    events_record(type=types.PROMISE_CREATED, subject_type=PROMISE, ids=[promise.pk])


@receiver(promises_ended, dispatch_uid="events.record_promises_ended")
def record_promises_ended(sender, promises, outcome, **kwargs) -> None:
    events_record(type=PROMISE_ENDED_TYPES[outcome], subject_type=PROMISE, ids=[p.pk for p in promises])


@receiver(dispute_opened, dispatch_uid="events.record_dispute_opened")
def record_dispute_opened(sender, dispute, **kwargs) -> None:
    events_record(type=types.DISPUTE_OPENED, subject_type=DISPUTE, ids=[dispute.pk])


@receiver(dispute_resolved, dispatch_uid="events.record_dispute_resolved")
def record_dispute_resolved(sender, dispute, **kwargs) -> None:
    events_record(type=types.DISPUTE_RESOLVED, subject_type=DISPUTE, ids=[dispute.pk])
