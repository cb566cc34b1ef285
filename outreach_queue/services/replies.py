"""Replies and bounces heard from Nylas, applied to the queue's sent rows.

Called by the receivers of the connections app's webhook signals (`outreach_queue/receivers.py`),
inside the transaction that marks the webhook delivery processed, so a repeated delivery acts once.
Each returns the outcome string the connections app records on the delivery.
"""

from collections.abc import Iterable
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from enrollments.models import ScheduledStep
from enrollments.services import enrollments_stop

STOP_REASON_REPLIED = "replied"
STOP_REASON_BOUNCED = "bounced"
MAX_ERROR_LENGTH = 1000


def sent_rows_stop_on_reply(
    *, connection_id: UUID, thread_id: str, root_message_id: str = "", message_id: str = ""
) -> str:
    """Stop ("replied") the enrollments whose sent rows, sent through this connection, are in `thread_id`
    or are `root_message_id`, when their sequence has `stop_on_reply`. Rows of other connections (another
    company's grant) never match. A `message_id` that is one of our own sent messages is not a reply.
    """
    sent = ScheduledStep.objects.filter(sender_connection_id=connection_id, status=ScheduledStep.Status.SENT)
    if message_id and sent.filter(provider_message_id=message_id).exists():
        return "ignored: the message is one we sent"
    match = Q()
    if thread_id:
        match |= Q(provider_thread_id=thread_id)
    if root_message_id:
        match |= Q(provider_message_id=root_message_id)
    if not match:
        return "ignored: no thread or message to match"
    matched = {
        (enrollment_id, stop_on_reply)
        for enrollment_id, stop_on_reply in sent.filter(match).values_list(
            "enrollment_id", "sequence__stop_on_reply"
        )
    }
    if not matched:
        return "ignored: no sent row in this thread"
    to_stop = {enrollment_id for enrollment_id, stop_on_reply in matched if stop_on_reply}
    if not to_stop:
        return "ignored: the sequence does not stop on reply"
    return _stopped(enrollments_stop(enrollment_ids=to_stop, reason=STOP_REASON_REPLIED))


def sent_rows_mark_bounced(*, connection_id: UUID, message_ids: Iterable[str], reason: str) -> str:
    """Record the bounce on the sent rows of this connection that are `message_ids` (one UPDATE) and stop
    ("bounced") their enrollments. Setting the same error twice is harmless; the stop is idempotent.
    """
    ids = [m for m in message_ids if m]
    if not ids:
        return "ignored: bounce names no message"
    rows = ScheduledStep.objects.filter(
        sender_connection_id=connection_id, status=ScheduledStep.Status.SENT, provider_message_id__in=ids
    )
    enrollment_ids = set(rows.values_list("enrollment_id", flat=True))
    if not enrollment_ids:
        return "ignored: no sent row for the bounced message"
    rows.update(error=f"bounced: {reason}"[:MAX_ERROR_LENGTH], updated_at=timezone.now())
    return _stopped(
        enrollments_stop(enrollment_ids=enrollment_ids, reason=STOP_REASON_BOUNCED), prefix="bounce recorded"
    )


def _stopped(count: int, prefix: str = "") -> str:
    text = f"stopped {count} enrollment{'' if count == 1 else 's'}"
    return f"{prefix}; {text}" if prefix else text
