"""Signal receivers: how the connections app's webhook events reach queue rows. Each only calls a service."""

from django.dispatch import receiver

from connections.signals import bounce_detected, reply_arriving, reply_received
from outreach_queue.services.replies import reply_read_ahead, sent_rows_mark_bounced, sent_rows_stop_on_reply


@receiver(reply_arriving, dispatch_uid="queue.read_reply_ahead")
def read_reply_ahead(
    sender,
    *,
    connection_id,
    thread_id,
    root_message_id="",
    message_id="",
    subject="",
    text="",
    body="",
    headers=(),
    received_at=None,
    **kwargs,
):
    return reply_read_ahead(
        connection_id=connection_id,
        thread_id=thread_id,
        root_message_id=root_message_id,
        message_id=message_id,
        subject=subject,
        text=text,
        body=body,
        headers=list(headers),
        received_at=received_at,
    )


@receiver(reply_received, dispatch_uid="queue.stop_on_reply")
def stop_on_reply(
    sender,
    *,
    connection_id,
    thread_id,
    root_message_id="",
    message_id="",
    from_email="",
    subject="",
    text="",
    body="",
    headers=(),
    received_at=None,
    read_ahead=(),
    **kwargs,
) -> str:
    return sent_rows_stop_on_reply(
        connection_id=connection_id,
        thread_id=thread_id,
        root_message_id=root_message_id,
        message_id=message_id,
        from_email=from_email,
        subject=subject,
        text=text,
        body=body,
        headers=list(headers),
        received_at=received_at,
        read_ahead=read_ahead,
    )


@receiver(bounce_detected, dispatch_uid="queue.stop_on_bounce")
def stop_on_bounce(sender, *, connection_id, message_ids, reason, **kwargs) -> str:
    return sent_rows_mark_bounced(connection_id=connection_id, message_ids=message_ids, reason=reason)
