"""Sending one rendered email from a connection's grant, and who may send from which connection.

`send_email` is the only place our code talks to Nylas's send endpoint. It classifies every failure
where it happens (healthchecks' transports style):

- `RetryableSendError`: the same call may succeed later (429 honouring Retry-After, 5xx, a 409
  "concurrent idempotent request", timeouts, connection errors, a non-JSON answer). The outcome may be
  unknown (a timeout after Nylas delivered), which is why every call for one logical email must carry
  the same `idempotency_key`: Nylas replays the first answer instead of delivering again.
- `PermanentSendError`: retrying cannot help (400, 401/403 grant problems, 402, 404, 422). A 409
  `api.invalid_idempotent_request` (the key was already used with another payload) is permanent too,
  but flagged `outcome_unknown`: the earlier call with that key may have delivered an email.

Without NYLAS_API_KEY the offline outbox transport records the message instead (connections.outbox).
"""

import logging
from dataclasses import dataclass

import requests
from nylas.models.errors import NylasApiError, NylasSdkTimeoutError

from connections.models import EmailConnection
from connections.nylas_client import nylas_client, nylas_configured
from connections.outbox import outbox_send
from connections.upstream import retry_after_seconds
from daylit.errors import BadRequest, Forbidden

logger = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_LENGTH = 256
PERMANENT_STATUSES = frozenset({400, 401, 402, 403, 404, 409, 413, 422})


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    thread_id: str


class SendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableSendError(SendError):
    """The send may succeed if repeated with the same idempotency key; `retry_after` in seconds, if known."""

    def __init__(self, reason: str, retry_after: int | None = None, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class PermanentSendError(SendError):
    """Repeating the send cannot succeed (bad request, grant problem, rejected recipient).

    `outcome_unknown`: Nylas refused the key because it already holds it with another payload (409
    api.invalid_idempotent_request), so an earlier call with this key may have delivered an email.
    """

    def __init__(self, reason: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(reason)
        self.outcome_unknown = outcome_unknown


def send_email(
    *,
    connection: EmailConnection,
    to_email: str,
    subject: str,
    body_plain: str,
    body_html: str,
    idempotency_key: str,
    reply_to_message_id: str | None = None,
) -> SentMessage:
    """Send one email from `connection`'s grant; return the provider's message and thread ids.

    Idempotent per (grant, idempotency_key) for Nylas's one-hour window (and forever in the outbox).
    Does network I/O: never call it inside a transaction or while holding a row lock.
    """
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValueError("idempotency_key must be 1..256 characters")
    if not nylas_configured():
        record = outbox_send(
            connection=connection,
            to_email=to_email,
            subject=subject,
            body_plain=body_plain,
            body_html=body_html,
            idempotency_key=idempotency_key,
            reply_to_message_id=reply_to_message_id,
        )
        return SentMessage(message_id=record.message_id, thread_id=record.thread_id)

    body: dict = {"to": [{"email": to_email}], "subject": subject}
    if body_html:
        body["body"] = body_html
    else:
        body["body"] = body_plain
        body["is_plaintext"] = True
    if reply_to_message_id:
        body["reply_to_message_id"] = reply_to_message_id
    try:
        response = nylas_client().messages.send(
            identifier=connection.grant_id,
            request_body=body,
            overrides={"headers": {"Idempotency-Key": idempotency_key}},
        )
    except NylasApiError as exc:
        raise _classify_api_error(exc) from exc
    except NylasSdkTimeoutError as exc:
        raise RetryableSendError(f"Nylas did not answer within {exc.timeout} s (outcome unknown)") from exc
    except requests.exceptions.JSONDecodeError as exc:
        raise RetryableSendError("Nylas answered with a body that is not JSON") from exc
    except requests.exceptions.RequestException as exc:
        raise RetryableSendError(f"Could not reach Nylas: {type(exc).__name__}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        # A 2xx whose shape the SDK cannot read: the send may have happened, so only a replay is safe.
        raise RetryableSendError(f"Nylas answered with an unexpected body ({type(exc).__name__})") from exc
    message = response.data
    return SentMessage(message_id=message.id, thread_id=getattr(message, "thread_id", None) or "")


def _classify_api_error(exc: NylasApiError) -> SendError:
    status = exc.status_code or 0
    reason = f"Nylas {status} {exc.type}: {exc}"[:1000]
    if status == 429:
        return RetryableSendError(reason, retry_after_seconds(exc.headers), rate_limited=True)
    if status == 409 and exc.type == "api.concurrent_idempotent_request":
        return RetryableSendError(reason, retry_after_seconds(exc.headers))
    if status == 409 and exc.type == "api.invalid_idempotent_request":
        return PermanentSendError(reason, outcome_unknown=True)
    if status >= 500:
        return RetryableSendError(reason, retry_after_seconds(exc.headers))
    if status in PERMANENT_STATUSES or 400 <= status < 500:
        return PermanentSendError(reason)
    return RetryableSendError(reason)


def sender_connection_authorize(
    *, connection: EmailConnection | None, member, sequence_sender_id
) -> EmailConnection:
    """Check that `member` may send from `connection`; return it.

    No connection at all is 400. It must be active, and be the member's own, the sequence's
    configured sender, or shared (`allow_shared_sending`); otherwise 403 (SPEC "The queue").
    """
    if connection is None:
        raise BadRequest(
            "No sender: pass sender_connection_id or set the sequence's sender_connection_id.",
            code="no_sender",
        )
    if connection.status != EmailConnection.Status.ACTIVE:
        raise Forbidden(
            f"The email connection {connection.email} is {connection.status}.", code="sender_inactive"
        )
    allowed = (
        (member is not None and connection.member_id == member.id)
        or connection.id == sequence_sender_id
        or connection.allow_shared_sending
    )
    if not allowed:
        raise Forbidden(
            "You may send only from your own connection, the sequence's sender, or a shared connection.",
            code="sender_not_allowed",
        )
    return connection


__all__ = [
    "PermanentSendError",
    "RetryableSendError",
    "SendError",
    "SentMessage",
    "send_email",
    "sender_connection_authorize",
]
