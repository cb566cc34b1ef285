"""The offline transport: without NYLAS_API_KEY a 'sent' email is an OutboxMessage row, never a delivery.

It keeps Nylas's contract where it matters to callers: the same (grant, Idempotency-Key) answers the
same ids (a replay, guarded by a unique constraint, so two racing calls record one message), and a
reply lands in the thread of the message it answers.
"""

import uuid

from django.db import IntegrityError, transaction

from connections.models import EmailConnection, OutboxMessage


def outbox_send(
    *,
    connection: EmailConnection,
    to_email: str,
    subject: str,
    body_plain: str,
    body_html: str,
    idempotency_key: str,
    reply_to_message_id: str | None = None,
) -> OutboxMessage:
    """Record the message once per (grant, key); a repeated key returns the first record unchanged."""
    existing = OutboxMessage.objects.filter(
        grant_id=connection.grant_id, idempotency_key=idempotency_key
    ).first()
    if existing is not None:
        return existing
    thread_id = ""
    if reply_to_message_id:
        thread_id = (
            OutboxMessage.objects.filter(grant_id=connection.grant_id, message_id=reply_to_message_id)
            .values_list("thread_id", flat=True)
            .first()
            or ""
        )
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                connection=connection,
                grant_id=connection.grant_id,
                idempotency_key=idempotency_key,
                message_id=f"outbox-msg-{uuid.uuid4().hex}",
                thread_id=thread_id or f"outbox-thread-{uuid.uuid4().hex}",
                reply_to_message_id=reply_to_message_id or "",
                from_email=connection.email,
                to_email=to_email,
                subject=subject,
                body_plain=body_plain,
                body_html=body_html,
            )
    except IntegrityError:
        # Another caller recorded the same key between our read and insert: theirs is the message.
        return OutboxMessage.objects.get(grant_id=connection.grant_id, idempotency_key=idempotency_key)
