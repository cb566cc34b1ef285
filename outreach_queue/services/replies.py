"""Replies and bounces heard from Nylas, applied to the queue's sent rows.

Called by the receivers of the connections app's webhook signals (`outreach_queue/receivers.py`),
inside the transaction that marks the webhook delivery processed, so a repeated delivery acts once.
Each returns the outcome string the connections app records on the delivery.

A reply in the thread of a sent row is recorded (a Reply, once per message) with its `reply.received`
event, whether or not its sequence stops on replies; the stops record their own events
(`enrollment.completed` with `replied` or `bounced`, `queue_row.cancelled`) in the same transaction.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from daylit.errors import violates
from enrollments.models import ScheduledStep
from enrollments.services import enrollments_stop
from events.services import events_record
from events.types import REPLY_RECEIVED
from outreach_queue.models import Reply, Suppression
from outreach_queue.payloads import REPLY
from outreach_queue.reading import read_reply
from outreach_queue.services.reply_actions import Reading, reply_act
from outreach_queue.services.suppressions import suppression_add

STOP_REASON_REPLIED = "replied"
STOP_REASON_BOUNCED = "bounced"
MAX_ERROR_LENGTH = 1000
_REPLY_ONCE_CONSTRAINT = "queue_reply_once_per_message"
RECORDED_BEFORE = "ignored: this reply was recorded before"


@dataclass(frozen=True)
class ReadAhead:
    """A reply read before the webhook delivery's transaction (the AI call included), for one message."""

    connection_id: UUID
    message_id: str
    thread_id: str
    found: Any  # outreach_queue.reading's result


def reply_read_ahead(
    *,
    connection_id: UUID,
    thread_id: str,
    root_message_id: str = "",
    message_id: str = "",
    subject: str = "",
    text: str = "",
    body: str = "",
    headers: list[tuple[str, str]] | None = None,
    received_at: datetime.datetime | None = None,
) -> ReadAhead | None:
    """Read a reply to one of our sent rows, writing nothing; None when it answers none of them, or when
    the message is recorded already (Nylas reports a reply twice, as `message.created` and
    `thread.replied`, and repeats deliveries: one reading, and one AI call, is enough)."""
    if _recorded(connection_id=connection_id, message_id=message_id):
        return None
    matched = _matched_rows(
        connection_id=connection_id,
        thread_id=thread_id,
        root_message_id=root_message_id,
        message_id=message_id,
    )
    if isinstance(matched, str):
        return None
    found = _read(matched[0], subject=subject, text=text, body=body, headers=headers, received_at=received_at)
    return ReadAhead(connection_id=connection_id, message_id=message_id, thread_id=thread_id, found=found)


def sent_rows_stop_on_reply(
    *,
    connection_id: UUID,
    thread_id: str,
    root_message_id: str = "",
    message_id: str = "",
    from_email: str = "",
    subject: str = "",
    text: str = "",
    body: str = "",
    headers: list[tuple[str, str]] | None = None,
    received_at: datetime.datetime | None = None,
    read_ahead: Iterable[Any] = (),
) -> str:
    """Record a reply in the thread of a sent row of this connection (`thread_id`, or our
    `root_message_id`), read it (outreach_queue.reading) and apply its class's action to the customer's
    account (reply_actions). Rows of other connections (another company's grant) never match. A
    `message_id` that is one of our own sent messages is not a reply; a message recorded before
    (`message.created` and `thread.replied` both report it, and deliveries repeat) acts once.

    The reading is `read_ahead`'s for this message when the webhook read it before its transaction
    (reply_read_ahead), so no AI call runs inside it; otherwise it is read here.
    """
    matched = _matched_rows(
        connection_id=connection_id,
        thread_id=thread_id,
        root_message_id=root_message_id,
        message_id=message_id,
    )
    if isinstance(matched, str):
        return matched
    if _recorded(connection_id=connection_id, message_id=message_id):  # read nothing again, AI included
        return RECORDED_BEFORE
    received_at = received_at or timezone.now()
    ahead = [
        r.found
        for r in read_ahead
        if isinstance(r, ReadAhead)
        and (r.connection_id, r.message_id, r.thread_id) == (connection_id, message_id, thread_id)
    ]
    reading = (
        ahead[0]
        if ahead
        else _read(
            matched[0], subject=subject, text=text, body=body, headers=headers, received_at=received_at
        )
    )
    reply = reply_record(
        row=matched[0],
        connection_id=connection_id,
        message_id=message_id,
        from_email=from_email,
        subject=subject,
        text=reading.text or text,
        received_at=received_at,
    )
    if reply is None:  # another delivery of the message recorded it meanwhile
        return RECORDED_BEFORE
    outcome = reply_act(reply=reply, reading=as_reading(reading))
    # After the action: the event's data says what the reply did.
    events_record(type=REPLY_RECEIVED, subject_type=REPLY, ids=[reply.pk])
    return outcome


def _recorded(*, connection_id: UUID, message_id: str) -> bool:
    return (
        bool(message_id)
        and Reply.objects.filter(connection_id=connection_id, provider_message_id=message_id).exists()
    )


def _matched_rows(
    *, connection_id: UUID, thread_id: str, root_message_id: str, message_id: str
) -> list | str:
    """The sent rows of this connection the reply answers, latest first; or why there are none."""
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
    matched = list(
        sent.filter(match)
        .order_by(F("processed_at").desc(nulls_last=True), "-id")
        .values(
            "id",
            "company_id",
            "customer_id",
            "enrollment_id",
            "enrollment__invoice_id",
            "provider_thread_id",
            "enrollment__time_zone",
        )
    )
    return matched or "ignored: no sent row in this thread"


def _read(row: dict, *, subject: str, text: str, body: str, headers, received_at):
    return read_reply(
        subject=subject,
        text="" if body else text,  # Nylas's snippet is a cut preview: the body when there is one
        html=body,
        headers=headers or [],
        received_at=received_at or timezone.now(),
        time_zone=row["enrollment__time_zone"],
    )


def reply_record(
    *,
    row: dict,
    connection_id: UUID,
    message_id: str,
    from_email: str,
    subject: str,
    text: str,
    received_at: datetime.datetime | None,
) -> Reply | None:
    """Record a reply to the sent `row` (the latest sent row of its thread; its `reply.received` is
    recorded once it has acted); None when this message was recorded before (Nylas reports a reply as
    `message.created` and as `thread.replied`, and repeats deliveries): the unique (connection, message
    id) decides, in a savepoint, so the caller's transaction goes on.
    """
    reply = Reply(
        company_id=row["company_id"],
        customer_id=row["customer_id"],
        enrollment_id=row["enrollment_id"],
        invoice_id=row["enrollment__invoice_id"],
        row_id=row["id"],
        connection_id=connection_id,
        provider_message_id=message_id[:255],
        provider_thread_id=row["provider_thread_id"],
        from_email=from_email[:254],
        subject=subject,
        text=text[: Reply.TEXT_MAX_LENGTH],
        received_at=received_at or timezone.now(),
    )
    try:
        with transaction.atomic():
            reply.save(force_insert=True)
    except IntegrityError as exc:
        if not violates(exc, _REPLY_ONCE_CONSTRAINT):
            raise
        return None
    return reply


def sent_rows_mark_bounced(*, connection_id: UUID, message_ids: Iterable[str], reason: str) -> str:
    """Record the bounce on the sent rows of this connection that are `message_ids` (one UPDATE), stop
    ("bounced") their enrollments and suppress the addresses they went to. Setting the same error twice
    is harmless; the stop and the suppression are idempotent.
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
    for company_id, email in set(rows.values_list("company_id", "to_email")):
        suppression_add(company_id=company_id, email=email, reason=Suppression.Reason.BOUNCE)
    return _stopped(
        enrollments_stop(enrollment_ids=enrollment_ids, reason=STOP_REASON_BOUNCED), prefix="bounce recorded"
    )


def _stopped(count: int, prefix: str = "") -> str:
    text = f"stopped {count} enrollment{'' if count == 1 else 's'}"
    return f"{prefix}; {text}" if prefix else text


def as_reading(found) -> Reading:
    """The reader's result as the actions take it."""
    return Reading(
        classification=found.classification,
        confidence=found.confidence,
        return_date=found.return_date,
        promised_date=found.promised_date,
        promised_amount=found.promised_amount,
        dispute_reason=found.dispute_reason,
        source=found.source,
        prompt_version=found.prompt_version,
    )
