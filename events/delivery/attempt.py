"""One attempt of one delivery: start it under its claim (queued -> in flight, one caller wins), build
the body every attempt sends byte for byte, sign it (Standard Webhooks), POST it once over this
thread's guarded session within a hard deadline, and classify the answer as an `Outcome`. Apart from
starting, no database access: the outcome is recorded by `outcomes`, outside any transaction that
waited on the network.
"""

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import requests
from django.db import connection
from standardwebhooks import Webhook

from events.delivery.schedule import CLAIM_LEASE
from events.delivery.sql import _attempt_from_row, _sql
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.targets import TargetRefused, guarded_session, target_check, thread_sockets

TIMEOUT_SECONDS = 10
ERROR_MAX = 1000
BODY_MAX = 64 * 1024
USER_AGENT = "Daylit-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str = ""


_START = """
UPDATE {deliveries} d SET attempt_started_at = %(now)s, locked_until = %(lease)s
FROM {events} e, {endpoints} ep
WHERE d.id = %(id)s AND d.status = 'pending' AND d.locked_until > %(now)s AND d.attempt_started_at IS NULL
  AND e.seq = d.event_id AND ep.id = d.endpoint_id
RETURNING {columns}
"""


def _start(delivery_id: UUID | str, *, now: datetime) -> WebhookDelivery | None:
    """queued -> in flight, and what the attempt needs, in one statement; None without a live claim."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(_START), {"id": str(delivery_id), "now": now, "lease": now + CLAIM_LEASE})
        row = cursor.fetchone()
    return _attempt_from_row(row) if row is not None else None


def delivery_body(event: Event) -> str:
    """The JSON body every attempt of the event sends, byte for byte."""
    payload = {
        "id": str(event.id),
        "type": event.type,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "company_id": str(event.company_id),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signed_headers(*, endpoint: WebhookEndpoint, msg_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers: one `v1,...` signature per secret that signs at `now` (the current
    one, and the previous one within 24 hours of a rotation), space-separated."""
    signed_at = datetime.fromtimestamp(int(time.time()), tz=UTC)  # the receiver's clock judges this
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        secrets.append(endpoint.previous_secret)
    signatures = [Webhook(secret).sign(msg_id, signed_at, body) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


_local = threading.local()


def _session() -> requests.Session:
    if getattr(_local, "session", None) is None:
        _local.session = guarded_session()
    return _local.session


def delivery_send(*, delivery: WebhookDelivery, now: datetime) -> Outcome:
    """POST the delivery to its endpoint, once; classify what happened. No database access. A 2xx is
    delivered; anything else (another status, a redirect, a timeout, a refused target) is a failure
    whose `error` says why.

    The whole attempt has TIMEOUT_SECONDS: requests' timeout bounds each socket read only, so a
    receiver sending a byte every few seconds would hold the worker (and outlive its claim) for good.
    A timer shuts the thread's sockets down when the time is up."""
    sockets = thread_sockets()
    expired = threading.Event()

    def abort() -> None:
        expired.set()
        for sock in list(sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    deadline = threading.Timer(TIMEOUT_SECONDS, abort)
    deadline.daemon = True
    deadline.start()
    try:
        outcome = _post(delivery=delivery, now=now)
    finally:
        deadline.cancel()
    if expired.is_set():
        return Outcome(False, error=f"No answer within {TIMEOUT_SECONDS} s.")
    return outcome


def _post(*, delivery: WebhookDelivery, now: datetime) -> Outcome:
    endpoint, event = delivery.endpoint, delivery.event
    body = delivery_body(event).encode()
    headers = signed_headers(endpoint=endpoint, msg_id=str(event.id), body=body.decode(), now=now)
    try:
        target_check(endpoint.url)
        response = _session().post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,  # the status is the answer; the body is read only to explain a failure
        )
    except TargetRefused as exc:
        return Outcome(False, error=f"Refused target: {exc}")
    except requests.Timeout:
        return Outcome(False, error=f"No answer within {TIMEOUT_SECONDS} s.")
    except requests.ConnectionError as exc:
        return Outcome(False, error=f"Connection failed: {_reason(exc)}")
    except requests.RequestException as exc:
        return Outcome(False, error=f"Request failed: {_reason(exc)}")
    with response:  # a body read to its end leaves the connection in the pool for the next attempt
        code = response.status_code
        text = _body_text(response)
        if 200 <= code < 300:
            return Outcome(True, code)
        if 300 <= code < 400:
            where = response.headers.get("location", "")
            return Outcome(
                False, code, f"HTTP {code}: redirects are not followed (Location: {where})."[:ERROR_MAX]
            )
        return Outcome(False, code, f"HTTP {code}: {text or response.reason or ''}"[:ERROR_MAX])


def _reason(exc: Exception) -> str:
    return str(exc)[:ERROR_MAX] or exc.__class__.__name__


def _body_text(response: requests.Response) -> str:
    """The start of the answer's body, as text for an error. Up to BODY_MAX bytes are read: a body read
    to its end lets the connection be reused; a longer one is cut off and its connection closed."""
    try:
        raw = response.raw.read(BODY_MAX, decode_content=True) or b""
    except Exception:  # a body that cannot be read explains nothing more; the status is the outcome
        return ""
    return raw[:300].decode("utf-8", errors="replace").strip()
