"""Webhook delivery: claim due deliveries, POST each one signed (Standard Webhooks), record the outcome.

Contract
- At least once, never in a promised order; every attempt of a delivery carries the same `webhook-id`
  (its event's id) and the same body, so receivers dedupe on it.
- A pending delivery is `free` (`locked_until` null or past), `queued` (a claim: `locked_until` ahead,
  `attempt_started_at` null; a deliver task is on its way) or `in flight` (a worker set
  `attempt_started_at` and is sending). Only `deliveries_dispatch` claims, within the endpoint's cap
  (a success hands its claim on, one for one; retries and pings only make a delivery due and
  dispatch); only `delivery_deliver` starts an attempt, with a conditional UPDATE queued -> in flight
  that one caller wins: a duplicate task, or a stale one whose claim expired and was taken again, changes
  nothing and leaves. A worker that dies leaves its claim; when the lease passes, the sweep (beat,
  every 10 s) claims the delivery again and the receiver sees the same `webhook-id` twice.
- Per endpoint at most `WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT` claims at once, and one while it is
  failing, and nothing before its backoff (`retry_at`) is due: a backlog or a dead receiver holds a
  few worker slots, never all of them. Dispatchers serve an endpoint in turns: each locks the
  endpoints it serves (`FOR NO KEY UPDATE`, which the foreign-key checks of `events_record` do not
  wait for), then counts and claims in a second statement whose snapshot sees the claims before it.
- Lock order: the endpoint row, then its deliveries. The one statement that takes a delivery first
  (`_record_delivered`) takes the endpoint only with SKIP LOCKED: it never waits for it, so it cannot
  deadlock with a failure being recorded or a disable. No network I/O inside a transaction.
- Outcome: `delivered` is written whoever holds the claim now (the receiver has it); a failure only
  by the attempt that still holds the claim, so a late answer never overwrites a newer attempt. A
  success hands the endpoint's next due delivery on under a claim in the same statement (the cap
  holds: one claim released, one taken), and the task attempts it too for up to `CHAIN_SECONDS`, then
  enqueues it: a backlog flows without a dispatcher or a broker round trip between deliveries.
- Schedule: after the n-th failed attempt the next is `RETRY_DELAYS[n-1]` later (the last delay
  repeats), never later than three days after the delivery was created; an attempt that fails at
  or after that is the last, and the delivery is `failed`.
- Endpoint health: `failing_since` is the first failure after a success, cleared by a success. While
  failing, the endpoint is probed on the same schedule counted from `failing_since` (concurrent
  failures agree on it), and a failure once it has been failing for three days disables it
  (`enabled` false, `disabled_reason`); disabling ends its pending deliveries as `failed`.
- Time: every function takes `now=` (tests run on a fake clock). The `webhook-timestamp` header is the
  wall clock at signing, always: receivers check it against their own clock.
"""

import contextlib
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks import Webhook

from daylit.enqueue import enqueue_on_commit
from daylit.errors import Conflict
from events.models import Event, WebhookDelivery, WebhookEndpoint
from events.targets import TargetRefused, guarded_session, target_check, thread_sockets

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
DELIVER_TASK = "events.deliver_webhook"

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
# A claim's lease: longer than any attempt (10 s to connect, 10 s for the answer's first byte).
CLAIM_LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10
DISPATCH_BATCH = 1000
# A task that delivered goes on with the delivery handed to it for up to this long, then leaves the
# next to a new task: a broker round trip costs about as much CPU as a delivery (bench/bench_webhooks.py),
# and a second is short enough that other endpoints' tasks do not wait behind a busy one for long.
CHAIN_SECONDS = 1.0
ERROR_MAX = 1000
BODY_MAX = 64 * 1024
USER_AGENT = "Daylit-Webhooks/1"


# --- the schedule ------------------------------------------------------------------------------------


def retry_delay(failed_attempts: int) -> timedelta:
    """The wait after the `failed_attempts`-th failed attempt (1-based); the last delay repeats."""
    return RETRY_DELAYS[min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1]


def next_attempt_after_failure(
    *, failed_attempts: int, created_at: datetime, now: datetime
) -> datetime | None:
    """When to try again after a failed attempt at `now`, or None: give up (three days have passed)."""
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    return min(now + retry_delay(failed_attempts), deadline)


def endpoint_probe_at(*, failing_since: datetime, now: datetime) -> datetime:
    """When a failing endpoint is tried next: the first point of the retry schedule, counted from
    `failing_since`, after `now` (at the latest when it has been failing for three days)."""
    last = failing_since + DISABLE_AFTER
    at, failures = failing_since, 0
    while at <= now and at < last:
        failures += 1
        at += retry_delay(failures)
    return min(at, last)


# --- dispatch: claim due deliveries, a task for each ---------------------------------------------------

_LOCK_ENDPOINTS = """
SELECT ep.id FROM {endpoints} ep
WHERE ep.enabled
  AND (ep.retry_at IS NULL OR ep.retry_at <= %(now)s)
  AND (%(endpoint_ids)s::uuid[] IS NULL OR ep.id = ANY(%(endpoint_ids)s::uuid[]))
  AND EXISTS (
      SELECT 1 FROM {deliveries} d
      WHERE d.endpoint_id = ep.id AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
        AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
  )
ORDER BY ep.id
FOR NO KEY UPDATE OF ep
"""

_CLAIM = """
WITH room AS (
    SELECT ep.id,
           CASE WHEN ep.failing_since IS NULL THEN %(per_endpoint)s ELSE 1 END
           - (SELECT count(*) FROM ({in_flight} LIMIT %(per_endpoint)s) c) AS free
    FROM {endpoints} ep
    WHERE ep.id = ANY(%(locked)s::uuid[])
),
picked AS (
    SELECT due.id FROM room CROSS JOIN LATERAL (
        SELECT d.id FROM {deliveries} d
        WHERE d.endpoint_id = room.id AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
          AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
        ORDER BY d.next_attempt_at, d.id
        LIMIT GREATEST(room.free, 0)
        FOR UPDATE OF d SKIP LOCKED
    ) due
    LIMIT %(limit)s
)
UPDATE {deliveries} d SET locked_until = %(lease)s, attempt_started_at = NULL
FROM picked
WHERE d.id = picked.id AND d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until <= %(now)s)
RETURNING d.id
"""

_FAIL_PENDING_OF_DISABLED = """
UPDATE {deliveries} d
SET status = 'failed', next_attempt_at = NULL, locked_until = NULL, attempt_started_at = NULL,
    last_error = %(error)s
FROM {endpoints} ep
WHERE d.endpoint_id = ep.id AND NOT ep.enabled AND d.status = 'pending'
"""


# An endpoint's claims (`ep.id`), to count them up to its cap. Ordered as delivery_endpoint_claimed is,
# so the planner prefers that small index to every pending row of the endpoint.
_IN_FLIGHT = """SELECT 1 FROM {deliveries} claimed
    WHERE claimed.endpoint_id = ep.id AND claimed.status = 'pending' AND claimed.locked_until > %(now)s
    ORDER BY claimed.locked_until"""


def _sql(template: str) -> str:
    names = {
        "endpoints": WebhookEndpoint._meta.db_table,
        "deliveries": WebhookDelivery._meta.db_table,
        "events": Event._meta.db_table,
        "columns": _ATTEMPT_COLUMNS,
    }
    return template.format(**names, in_flight=_IN_FLIGHT.format(**names))


def deliveries_dispatch(
    *, now: datetime | None = None, endpoint_ids: list[UUID] | None = None, limit: int = DISPATCH_BATCH
) -> int:
    """Claim due pending deliveries (of `endpoint_ids`, or of every endpoint) within each endpoint's
    room, and enqueue a deliver task for each after commit; returns how many were claimed. Without
    `endpoint_ids` it also ends as failed any delivery left pending on a disabled endpoint (one that
    an event recorded while the endpoint was being disabled). Set-based: at most three statements,
    whatever the number of endpoints and deliveries."""
    now = now or timezone.now()
    params = {
        "now": now,
        "endpoint_ids": [str(i) for i in endpoint_ids] if endpoint_ids is not None else None,
        "per_endpoint": settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
        "lease": now + CLAIM_LEASE,
        "limit": limit,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if endpoint_ids is None:
            cursor.execute(_sql(_FAIL_PENDING_OF_DISABLED), {"error": "Not sent: the endpoint is disabled."})
        cursor.execute(_sql(_LOCK_ENDPOINTS), params)
        locked = [str(row[0]) for row in cursor.fetchall()]
        if not locked:
            return 0
        cursor.execute(_sql(_CLAIM), {**params, "locked": locked})
        claimed = [str(row[0]) for row in cursor.fetchall()]
        enqueue_on_commit(DELIVER_TASK, *[(delivery_id,) for delivery_id in claimed])
    return len(claimed)


# --- one attempt -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str = ""


# What an attempt needs of a delivery, its event and its endpoint (see `_attempt_from_row`).
_ATTEMPT_COLUMNS = """d.id, d.attempts, d.created_at, d.attempt_started_at,
    e.seq, e.id, e.type, e.occurred_at, e.company_id, e.data,
    ep.id, ep.url, ep.secret, ep.previous_secret, ep.previous_secret_expires_at"""

_START = """
UPDATE {deliveries} d SET attempt_started_at = %(now)s, locked_until = %(lease)s
FROM {events} e, {endpoints} ep
WHERE d.id = %(id)s AND d.status = 'pending' AND d.locked_until > %(now)s AND d.attempt_started_at IS NULL
  AND e.seq = d.event_id AND ep.id = d.endpoint_id
RETURNING {columns}
"""


def delivery_deliver(
    *, delivery_id: UUID | str, now: datetime | None = None, chain_seconds: float = CHAIN_SECONDS
) -> str | None:
    """The deliver task's work: start an attempt under the delivery's claim, POST it, record the
    outcome. A success hands the endpoint's next due delivery on under a claim (`_record_delivered`):
    while this call has run less than `chain_seconds` it starts and sends that one too, else it
    enqueues a task for it. Returns the status of `delivery_id` after its attempt, or None when this
    call had no claim to act on (done, taken by another task, gone). Safe to run twice: one caller
    starts an attempt per claim."""
    deadline = time.monotonic() + chain_seconds
    delivery = _start(delivery_id, now=now or timezone.now())
    status = None
    while delivery is not None:
        attempted_at = delivery.attempt_started_at
        outcome = delivery_send(delivery=delivery, now=attempted_at)
        if not outcome.delivered:
            failed = _record_failed(delivery, outcome, now=attempted_at)
            return status or failed
        status = Status.DELIVERED
        go_on = time.monotonic() < deadline
        handed, delivery = _record_delivered(
            delivery, outcome, attempted_at=attempted_at, now=now or timezone.now(), start_next=go_on
        )
        if handed is not None and delivery is None:
            enqueue_on_commit(DELIVER_TASK, (str(handed),))
    return status


def _start(delivery_id: UUID | str, *, now: datetime) -> WebhookDelivery | None:
    """queued -> in flight, and what the attempt needs, in one statement; None without a live claim."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(_START), {"id": str(delivery_id), "now": now, "lease": now + CLAIM_LEASE})
        row = cursor.fetchone()
    return _attempt_from_row(row) if row is not None else None


def _attempt_from_row(row: tuple) -> WebhookDelivery:
    """The delivery with its event and endpoint as `_ATTEMPT_COLUMNS` returned them (not saved)."""
    delivery_id, attempts, created_at, started_at, seq, event_id, type_, occurred_at, *rest = row
    company_id, data, endpoint_id, url, secret, previous_secret, previous_expires = rest
    event = Event(
        seq=seq,
        id=event_id,
        type=type_,
        occurred_at=occurred_at,
        company_id=company_id,
        data=json.loads(data),
    )
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        url=url,
        secret=secret,
        previous_secret=previous_secret,
        previous_secret_expires_at=previous_expires,
    )
    return WebhookDelivery(
        id=delivery_id,
        event=event,
        endpoint=endpoint,
        attempts=attempts,
        created_at=created_at,
        attempt_started_at=started_at,
    )


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


_DELIVERED = """
WITH healthy AS (
    -- A success ends the endpoint's failure history; skipped (not waited for) while a failure being
    -- recorded holds the row: no lock is ever waited for here, so this cannot deadlock with one.
    UPDATE {endpoints} ep SET failing_since = NULL, retry_at = NULL
    WHERE ep.id IN (SELECT h.id FROM {endpoints} h
                    WHERE h.id = %(endpoint)s AND (h.failing_since IS NOT NULL OR h.retry_at IS NOT NULL)
                    FOR NO KEY UPDATE SKIP LOCKED)
    RETURNING ep.id
),
done AS (
    UPDATE {deliveries} d
    SET status = 'delivered', attempts = d.attempts + 1, last_attempt_at = %(attempted_at)s,
        last_status_code = %(code)s, last_error = '', next_attempt_at = NULL, locked_until = NULL,
        attempt_started_at = NULL
    WHERE d.id = %(id)s AND d.status <> 'delivered'
    RETURNING d.id
),
next AS (
    SELECT n.id FROM {deliveries} n
    WHERE n.endpoint_id = %(endpoint)s AND n.status = 'pending' AND n.next_attempt_at <= %(now)s
      AND (n.locked_until IS NULL OR n.locked_until <= %(now)s)
      AND EXISTS (SELECT 1 FROM done)
      AND EXISTS (SELECT 1 FROM {endpoints} e
                  WHERE e.id = %(endpoint)s AND e.enabled
                    AND (e.retry_at IS NULL OR e.retry_at <= %(now)s OR EXISTS (SELECT 1 FROM healthy)))
    ORDER BY n.next_attempt_at, n.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),
handed AS (
    -- claimed for a new task (queued), or started here for this one (in flight)
    UPDATE {deliveries} d
    SET locked_until = %(lease)s, attempt_started_at = CASE WHEN %(start)s THEN %(now)s::timestamptz END
    FROM next, {events} e, {endpoints} ep
    WHERE d.id = next.id AND e.seq = d.event_id AND ep.id = d.endpoint_id
    RETURNING {columns}
)
SELECT * FROM handed
"""


def _record_delivered(
    delivery: WebhookDelivery, outcome: Outcome, *, attempted_at: datetime, now: datetime, start_next: bool
) -> tuple[UUID | None, WebhookDelivery | None]:
    """Delivered (whoever holds the claim now: the receiver has it), the endpoint healthy again, and
    the endpoint's next due delivery claimed in its place, in one statement: a backlog flows at the
    endpoint's cap without a dispatcher between deliveries. Returns the id of the delivery handed on,
    and with `start_next` that delivery started for the caller to send (a second statement saved)."""
    params = {
        "id": str(delivery.pk),
        "endpoint": str(delivery.endpoint_id),
        "attempted_at": attempted_at,
        "now": now,
        "code": outcome.status_code,
        "lease": now + CLAIM_LEASE,
        "start": start_next,
    }
    with connection.cursor() as cursor:
        cursor.execute(_sql(_DELIVERED), params)
        row = cursor.fetchone()
    if row is None:
        return None, None
    return row[0], (_attempt_from_row(row) if start_next else None)


def _record_failed(delivery: WebhookDelivery, outcome: Outcome, *, now: datetime) -> str | None:
    failed_attempts = delivery.attempts + 1
    next_at = next_attempt_after_failure(
        failed_attempts=failed_attempts, created_at=delivery.created_at, now=now
    )
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update(no_key=True).filter(pk=delivery.endpoint_id).first()
        )
        if endpoint is None:
            return None
        recorded = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=Status.PENDING, attempt_started_at=now
        ).update(
            status=Status.PENDING if next_at else Status.FAILED,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            last_status_code=outcome.status_code,
            last_error=outcome.error,
            next_attempt_at=next_at,
            locked_until=None,
            attempt_started_at=None,
        )
        if not recorded:  # our claim expired and another attempt owns the delivery now
            logger.info("webhook delivery %s: a late failure left to the attempt that owns it", delivery.pk)
            return None
        failing_since = endpoint.failing_since or now
        if now - failing_since >= DISABLE_AFTER:
            reason = (
                f"Every delivery failed for three days (since {failing_since:%Y-%m-%d %H:%M} UTC); "
                f"the last: {outcome.error}"
            )
            endpoint_disable(endpoint=endpoint, reason=reason[:500], now=now)
            return Status.FAILED
        if endpoint.enabled:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                failing_since=failing_since,
                retry_at=endpoint_probe_at(failing_since=failing_since, now=now),
            )
    return Status.PENDING if next_at else Status.FAILED


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str | None, now: datetime) -> None:
    """Disable the endpoint and end its pending deliveries as failed. Call with the endpoint's row
    locked or inside the caller's transaction (the lock order: endpoint, then deliveries)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason, retry_at=None, updated_at=now
    )
    WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status=Status.PENDING).update(
        status=Status.FAILED,
        next_attempt_at=None,
        locked_until=None,
        attempt_started_at=None,
        last_error=f"Not sent: the endpoint was disabled{': ' + reason if reason else '.'}"[:ERROR_MAX],
    )


# --- a person asks: send it again now ------------------------------------------------------------------


def delivery_retry(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """A person asks to send a pending or failed delivery again: `deliveries_retry` of this one.
    409 `already_delivered`, `endpoint_disabled`."""
    if delivery.status == Status.DELIVERED:
        raise Conflict(
            "This delivery was delivered; receivers dedupe on its webhook-id.", code="already_delivered"
        )
    if not delivery.endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it first.", code="endpoint_disabled")
    deliveries_retry(delivery_ids=[delivery.pk], now=now)
    delivery.refresh_from_db()
    return delivery


def deliveries_retry(*, delivery_ids: list[UUID], now: datetime | None = None) -> int:
    """Make pending or failed deliveries due now (status pending, attempts kept), cut their endpoints'
    backoff short (a person asked: a failing endpoint is probed now), and dispatch those endpoints:
    each is sent as soon as its endpoint has room under its cap, with the same `webhook-id`.
    Delivered ones, claimed ones (an attempt is under way) and those of a disabled endpoint are
    skipped. Set-based; returns how many were made due."""
    now = now or timezone.now()
    free = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    retried = WebhookDelivery.objects.filter(
        free, pk__in=delivery_ids, status__in=[Status.PENDING, Status.FAILED], endpoint__enabled=True
    )
    with transaction.atomic():
        endpoint_ids = list(retried.values_list("endpoint_id", flat=True).distinct())
        if not endpoint_ids:
            return 0
        endpoints_probe_now(endpoint_ids=endpoint_ids, now=now)  # locks them first: the lock order
        count = retried.update(
            status=Status.PENDING, next_attempt_at=now, locked_until=None, attempt_started_at=None
        )
        deliveries_dispatch(now=now, endpoint_ids=endpoint_ids)
    return count


def endpoints_probe_now(*, endpoint_ids: list[UUID], now: datetime) -> None:
    """Lock the endpoints (the caller then writes their deliveries: the lock order) and end the
    backoff of those failing: their probe is due now. In the caller's transaction."""
    locked = WebhookEndpoint.objects.select_for_update(no_key=True).filter(pk__in=endpoint_ids)
    list(locked.values_list("pk", flat=True))
    WebhookEndpoint.objects.filter(pk__in=endpoint_ids, retry_at__gt=now).update(retry_at=now)
