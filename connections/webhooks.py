"""Nylas webhook notifications: verifying them, the inbox of deliveries, and one action per handled event.

The view verifies and records (`webhook_delivery_record`); `handle_event` runs later in a Celery task
(through `webhook_delivery_process`), inside the transaction that marks the delivery processed. Mail
events are resolved to one of our connections here and handed to the apps above through the signals in
`connections.signals`; grant events change the connection directly. Every path returns an outcome
string for the delivery log; an unknown event is "ignored", never an error.
"""

import datetime
import hashlib
import hmac
import json
import logging
import math
from collections.abc import Callable
from typing import Any, NamedTuple
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connections import services
from connections.inbound import inbound_message_fetch
from connections.models import EmailConnection, WebhookDelivery
from connections.signals import bounce_detected, reply_arriving, reply_received
from daylit.enqueue import enqueue_on_commit
from daylit.errors import BadRequest

logger = logging.getLogger(__name__)


def signature_valid(*, raw_body: bytes, signature: str | None, secret: str) -> bool:
    """`X-Nylas-Signature` is the hex HMAC-SHA256 of the raw body keyed by the webhook secret."""
    if not signature or not secret:
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


# Nylas envelopes nest about six levels; anything far deeper is not a notification, and would strain the
# JSON encoder and PostgreSQL's jsonb parser later.
MAX_PAYLOAD_DEPTH = 64


def parse_envelope(raw_body: bytes) -> dict[str, Any]:
    """The JSON envelope, with a string `id` and `type`; anything else is a 400 that says what is wrong.

    A body nested deeper than `MAX_PAYLOAD_DEPTH` (or too deep for the parser itself), or holding NaN or
    Infinity (which PostgreSQL's jsonb refuses), is bad JSON too. Strings and keys come back storable: NUL
    characters (legal JSON, possible in a real message snippet, refused by jsonb and text columns) are
    removed, lone surrogates replaced, so a real notification is never refused by the database.
    """
    try:
        envelope = json.loads(raw_body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if _depth_exceeds(envelope, MAX_PAYLOAD_DEPTH):
        raise BadRequest(
            f"The body is not valid JSON: nested deeper than {MAX_PAYLOAD_DEPTH} levels.", code="invalid_json"
        )
    envelope = _storable(envelope)
    if not isinstance(envelope, dict):
        raise BadRequest(
            "The body must be a JSON object (a Nylas notification envelope).", code="invalid_envelope"
        )
    for key in ("id", "type"):
        value = envelope.get(key)
        if not isinstance(value, str) or not value or len(value) > 255:
            raise BadRequest(
                f"The envelope needs a string `{key}` (at most 255 characters).", code="invalid_envelope"
            )
    return envelope


class EnvelopeParts(NamedTuple):
    data: dict[str, Any]
    obj: dict[str, Any]
    grant_id: str


def envelope_parts(envelope: dict[str, Any]) -> EnvelopeParts:
    """`data`, `data.object` ({} when not objects) and the grant id (the object's, else data's; "" when
    neither is a non-blank string). The one reading of an envelope, for recording and for handling.
    """
    data = envelope.get("data") if isinstance(envelope.get("data"), dict) else {}
    obj = data.get("object") if isinstance(data.get("object"), dict) else {}
    return EnvelopeParts(data, obj, _text(obj.get("grant_id")) or _text(data.get("grant_id")))


# --- the inbox: record each delivery once, process it once (a task; the sweep in tasks.py for lost ones)

PROCESS_TASK = "connections.process_webhook_delivery"


def webhook_delivery_record(*, envelope: dict[str, Any]) -> tuple[WebhookDelivery, bool]:
    """Store one verified notification and enqueue its processing after commit; returns (row, created).

    The unique `notification_id` dedupes Nylas's at-least-once delivery: a repeat only bumps
    `duplicates`, and is enqueued again only if the first one was never processed (a lost task).
    `envelope` is what `parse_envelope` returned; the grant id is read as `handle_event` reads it.
    """
    parts = envelope_parts(envelope)
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                notification_id=envelope["id"],
                event_type=envelope["type"],
                grant_id=parts.grant_id[:255],
                payload=_without_bodies(envelope, data=parts.data, obj=parts.obj),
            )
            enqueue_on_commit(PROCESS_TASK, [str(delivery.id)])
        return delivery, True
    except IntegrityError:
        pass
    with transaction.atomic():
        WebhookDelivery.objects.filter(notification_id=envelope["id"]).update(duplicates=F("duplicates") + 1)
        delivery = WebhookDelivery.objects.get(notification_id=envelope["id"])
        if delivery.processed_at is None:
            enqueue_on_commit(PROCESS_TASK, [str(delivery.id)])
    return delivery, False


def webhook_delivery_process(*, delivery_id: UUID | str) -> str | None:
    """Do the work of one delivery, once. Returns the outcome, or None when there was nothing to do.

    The delivery row is locked and `processed_at` is stamped in the same transaction as the work (the
    signal receivers' writes included), so a task that runs twice, or two workers at once, act once.
    The network calls happen before the transaction, so no lock or open transaction waits on them:
    reading a reply's headers and full body (`connections.inbound`), then the receivers of
    `reply_arriving` (the queue reads the reply, with the AI provider when the rules cannot tell).
    """
    waiting = WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).first()
    if waiting is None:
        return None
    envelope = _with_message(waiting)  # the SDK read, before any lock is taken
    read_ahead = _read_ahead(event_type=waiting.event_type, envelope=envelope)  # e.g. an AI call, likewise
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.processed_at is not None:
            return None
        outcome = handle_event(event_type=delivery.event_type, envelope=envelope, read_ahead=read_ahead)
        delivery.outcome = outcome[:255]
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["outcome", "processed_at"])
    logger.info("Nylas webhook %s (%s): %s", delivery.notification_id, delivery.event_type, outcome)
    return outcome


# What of a message body the delivery log keeps: enough to read a reply when Nylas cannot be asked.
STORED_BODY_CHARS = 20_000
MESSAGE_EVENTS = ("message.created", "message.created.truncated")


def _without_bodies(envelope: dict[str, Any], *, data: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """Message bodies can be 1 MB; keep the log small (a reply's text is read from the start)."""
    if not isinstance(obj.get("body"), str) or len(obj["body"]) <= STORED_BODY_CHARS:
        return envelope
    obj = {**obj, "body": obj["body"][:STORED_BODY_CHARS]}
    return {**envelope, "data": {**data, "object": obj}}


def _with_message(delivery: WebhookDelivery) -> dict[str, Any]:
    """A reply's envelope with the message read through the SDK: its headers, its body (a truncated
    notification has none, `thread.replied` never has), its subject and sender; others as stored."""
    envelope = delivery.payload
    if delivery.event_type not in (*MESSAGE_EVENTS, "thread.replied"):
        return envelope
    parts = envelope_parts(envelope)
    connection = _connection(parts.grant_id)
    senders = {_text(p.get("email")).lower() for p in _dicts(parts.obj.get("from"))}
    if connection is None or connection.email.lower() in senders or parts.obj.get("from_self") is True:
        return envelope  # not a reply: nothing to read
    message_id = _text(parts.obj.get("message_id" if delivery.event_type == "thread.replied" else "id"))
    fetched = inbound_message_fetch(grant_id=parts.grant_id, message_id=message_id)
    if fetched is None:
        return envelope
    # Stored text must hold no NUL (PostgreSQL refuses it), like everything the webhook itself carried.
    obj = {
        **parts.obj,
        "headers": [{"name": _storable_text(n), "value": _storable_text(v)} for n, v in fetched.headers],
        "body": _storable_text(fetched.body) or _body(parts.obj.get("body")),
        "fetched_subject": _storable_text(fetched.subject),
        "fetched_from": _storable_text(fetched.from_email),
    }
    return {**envelope, "data": {**parts.data, "object": obj}}


# --- one action per handled event


def handle_event(*, event_type: str, envelope: dict[str, Any], read_ahead: list[Any] | None = None) -> str:
    """Act on one event. `read_ahead`: what `reply_arriving`'s receivers returned for it, if anything."""
    parts = envelope_parts(envelope)
    if not parts.grant_id:
        return "ignored: no grant id"
    reply = _REPLIES.get(event_type)
    if reply is not None:
        found = reply(parts.grant_id, parts.obj)
        if isinstance(found, str):
            return found
        connection, kwargs = found
        return _send(reply_received, connection=connection, read_ahead=read_ahead or [], **kwargs)
    handler = _HANDLERS.get(event_type)
    if handler is None:
        return f"ignored: unhandled event type {event_type}"
    return handler(parts.grant_id, parts.obj)


def _read_ahead(*, event_type: str, envelope: dict[str, Any]) -> list[Any]:
    """What the receivers of `reply_arriving` read of a reply, before the delivery's transaction."""
    reply = _REPLIES.get(event_type)
    parts = envelope_parts(envelope)
    if reply is None or not parts.grant_id:
        return []
    found = reply(parts.grant_id, parts.obj)
    if isinstance(found, str):
        return []
    connection, kwargs = found
    # Robust: reading ahead is only a head start. A receiver that fails is logged and left out, and the
    # reply is read again inside the transaction, so a failure here never loses it.
    responses = reply_arriving.send_robust(
        sender=EmailConnection, connection_id=connection.id, company_id=connection.company_id, **kwargs
    )
    results = []
    for receiver, result in responses:
        if isinstance(result, Exception):
            logger.error("reading a reply ahead failed in %s", receiver.__qualname__, exc_info=result)
        elif result is not None:
            results.append(result)
    return results


# A reply's notification read into reply_received's kwargs, or the outcome that says why it is ignored.
_Reply = tuple[EmailConnection, dict[str, Any]] | str


def _message_created(grant_id: str, obj: dict[str, Any]) -> _Reply:
    connection = _connection(grant_id)
    if connection is None:
        return "ignored: unknown grant"
    thread_id = _text(obj.get("thread_id"))
    if not thread_id:
        return "ignored: message has no thread"
    senders = [s for s in (_text(p.get("email")).lower() for p in _dicts(obj.get("from"))) if s]
    if not senders:
        return "ignored: message has no sender"
    if connection.email.lower() in senders:
        return "ignored: sent from the connection's own address"
    return connection, dict(
        grant_id=grant_id,
        thread_id=thread_id,
        message_id=_text(obj.get("id")),
        root_message_id="",
        from_email=senders[0],
        subject=_text(obj.get("subject")),
        text=_text(obj.get("snippet")),
        body=_body(obj.get("body")),
        headers=[(_text(h.get("name")), _text(h.get("value"))) for h in _dicts(obj.get("headers"))],
        received_at=_instant(obj.get("date")),
    )


def _thread_replied(grant_id: str, obj: dict[str, Any]) -> _Reply:
    connection = _connection(grant_id)
    if connection is None:
        return "ignored: unknown grant"
    if obj.get("from_self") is True:
        return "ignored: reply from the connection's own address"
    thread_id, root = _text(obj.get("thread_id")), _text(obj.get("root_message_id"))
    if not thread_id and not root:
        return "ignored: no thread or root message"
    return connection, dict(
        grant_id=grant_id,
        thread_id=thread_id,
        message_id=_text(obj.get("message_id")),
        root_message_id=root,
        # Only what the SDK read (connections.inbound): the notification names no sender or text.
        from_email=_text(obj.get("fetched_from")).lower(),
        subject=_text(obj.get("fetched_subject")),
        text="",
        body=_body(obj.get("body")),
        headers=[(_text(h.get("name")), _text(h.get("value"))) for h in _dicts(obj.get("headers"))],
        received_at=_instant(obj.get("timestamp")),
    )


def _bounce_detected(grant_id: str, obj: dict[str, Any]) -> str:
    connection = _connection(grant_id)
    if connection is None:
        return "ignored: unknown grant"
    origin = obj.get("origin") if isinstance(obj.get("origin"), dict) else {}
    message_ids = sorted({i for i in (_text(origin.get("id")), _text(obj.get("message_id"))) if i})
    if not message_ids:
        return "ignored: bounce names no message"
    reason = _text(obj.get("bounce_reason")) or _text(obj.get("type")) or "unknown reason"
    code = _text(obj.get("code"))
    return _send(
        bounce_detected,
        connection=connection,
        grant_id=grant_id,
        message_ids=message_ids,
        thread_id=_text(obj.get("thread_id")),
        reason=f"{code} {reason}".strip() if code else reason,
        bounced_addresses=_texts(obj.get("bounced_addresses")),
    )


def _grant_expired(grant_id: str, obj: dict[str, Any]) -> str:
    return services.email_connection_set_status_by_grant(
        grant_id=grant_id, status=EmailConnection.Status.ERROR
    )


def _grant_updated(grant_id: str, obj: dict[str, Any]) -> str:
    if _text(obj.get("grant_status")) != "invalid":
        return "ignored: grant update without invalid status"
    return services.email_connection_set_status_by_grant(
        grant_id=grant_id, status=EmailConnection.Status.ERROR
    )


def _grant_deleted(grant_id: str, obj: dict[str, Any]) -> str:
    return services.email_connection_set_status_by_grant(
        grant_id=grant_id, status=EmailConnection.Status.REVOKED
    )


_REPLIES: dict[str, Callable[[str, dict[str, Any]], _Reply]] = {
    "message.created": _message_created,
    "message.created.truncated": _message_created,
    "thread.replied": _thread_replied,
}
_HANDLERS: dict[str, Callable[[str, dict[str, Any]], str]] = {
    "message.bounce_detected": _bounce_detected,
    "grant.expired": _grant_expired,
    "grant.updated": _grant_updated,
    "grant.deleted": _grant_deleted,
}


def _connection(grant_id: str) -> EmailConnection | None:
    return EmailConnection.objects.filter(grant_id=grant_id).only("id", "email", "company_id").first()


def _send(signal, *, connection: EmailConnection, **kwargs: Any) -> str:
    """Receivers return outcome strings; errors propagate (the delivery stays unprocessed, the task fails)."""
    responses = signal.send(
        sender=EmailConnection, connection_id=connection.id, company_id=connection.company_id, **kwargs
    )
    outcomes = [str(result) for _, result in responses if result]
    return "; ".join(outcomes) or "ignored: nothing listens for this event"


# Payload fields are read through these only: a field of the wrong JSON type reads as absent, so no
# payload can raise here and leave its delivery unprocessable.


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _body(value: Any) -> str:
    """A message body as given (not stripped: its whitespace is part of the text)."""
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> str:
    """A string, or a list of strings joined with ", " (Nylas documents `bounced_addresses` both ways)."""
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    return _text(value)


def _instant(value: Any) -> datetime.datetime | None:
    """A Unix time in seconds (Nylas's `date`, `timestamp`) as a UTC datetime; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 32_503_680_000:
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list (participants in `from`/`to`); anything else is no items."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iterative (no recursion limit to hit): does any list/dict sit more than `limit` levels deep?"""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _reject_constant(name: str) -> Any:
    raise BadRequest(
        f"The body is not valid JSON: {name} is not a JSON number (NaN and Infinity are not allowed).",
        code="invalid_json",
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: valid JSON syntax, but no database column can hold it
        _reject_constant(text)
    return value


def _storable(value: Any) -> Any:
    """`value` with every string and key made storable by PostgreSQL. Recursive: depth is checked first."""
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable_text(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _storable_text(text: str) -> str:
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800 escaped in the JSON) has no UTF-8 form
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
