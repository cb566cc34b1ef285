"""Writes of webhook endpoints: create, change, delete, rotate the secret, ping. Keyword-only.

Only a company admin manages endpoints (`webhooks_authorize`): an endpoint receives every event of
the company. The URL rules (events.targets) are checked here, at create and whenever `url` changes,
and again by every delivery attempt. A secret is shown once, when created or rotated; after a
rotation the previous one signs deliveries too for `ROTATION_OVERLAP`.
"""

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from daylit.errors import Conflict, Forbidden, NotFound
from daylit.models import Company, Member
from events.delivery import deliveries_dispatch, endpoint_disable, endpoints_probe_now
from events.models import WebhookDelivery, WebhookEndpoint
from events.payloads import WEBHOOK_ENDPOINT
from events.services import events_record
from events.targets import TargetRefused, target_check
from events.types import ALL_TYPES, EVENT_TYPES, WEBHOOK_PING

ROTATION_OVERLAP = timedelta(hours=24)
SECRET_BYTES = 24
SECRET_PREFIX = "whsec_"


def webhooks_authorize(*, member: Member) -> None:
    """403 `admin_only` unless the member is a company admin."""
    if member.role != Member.Role.ADMIN:
        raise Forbidden(
            "Only a company admin may manage webhook endpoints: they receive every event of the company.",
            code="admin_only",
        )


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_types_normalized(event_types: list[str]) -> list[str]:
    """`["*"]` when `*` is among them (it means every type), else the known types without repeats, in
    the order given. Unknown types and an empty list are a 400 on `event_types`."""
    unknown = [t for t in event_types if t != ALL_TYPES and t not in EVENT_TYPES]
    if unknown:
        raise ValidationError({"event_types": f"Unknown event types: {', '.join(map(str, unknown))}."})
    if not event_types:
        raise ValidationError({"event_types": 'Give at least one event type, or ["*"] for all.'})
    if ALL_TYPES in event_types:
        return [ALL_TYPES]
    return list(dict.fromkeys(event_types))


def _url_checked(url: str) -> str:
    try:
        target_check(url)
    except TargetRefused as exc:
        raise ValidationError({"url": str(exc)}) from None
    return url


def webhook_endpoint_create(
    *,
    company: Company,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    enabled: bool = True,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (`endpoint.secret`: show it to the caller once).
    `event_types` defaults to every type."""
    return WebhookEndpoint.objects.create(
        company=company,
        url=_url_checked(url),
        description=description,
        event_types=event_types_normalized(event_types if event_types is not None else [ALL_TYPES]),
        enabled=enabled,
        secret=new_secret(),
    )


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, data: dict[str, Any], now: datetime | None = None
) -> WebhookEndpoint:
    """PATCH `url`, `description`, `event_types`, `enabled`. Enabling a disabled endpoint clears
    `disabled_reason` and its failure history; disabling it ends its pending deliveries as failed.
    An empty body changes nothing."""
    now = now or timezone.now()
    changes: dict[str, Any] = {}
    if "url" in data and data["url"] != endpoint.url:
        changes["url"] = _url_checked(data["url"])
    if "description" in data:
        changes["description"] = data["description"]
    if "event_types" in data:
        changes["event_types"] = event_types_normalized(data["event_types"])
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
        enable = data.get("enabled")
        if enable is True and not locked.enabled:
            changes.update(enabled=True, disabled_reason=None, failing_since=None, retry_at=None)
        if changes:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**changes, updated_at=now)
        if enable is False and locked.enabled:
            endpoint_disable(endpoint=locked, reason=None, now=now)
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its deliveries; an attempt in flight finds nothing to record."""
    endpoint.delete()


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret signs from now on; the one it replaces signs too for 24 hours (receivers switch
    over in that time). Returns the endpoint with the new `secret` (show it once)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret=new_secret(),
            previous_secret=locked.secret,
            previous_secret_expires_at=now + ROTATION_OVERLAP,
            updated_at=now,
        )
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookDelivery:
    """Record a `webhook.ping` event (data: the endpoint, no secret) and its one delivery, to this
    endpoint alone whatever it subscribes to (events_record's `only_endpoint`); then dispatch the
    endpoint, whose backoff is cut short (a person asked: a failing endpoint is probed now).
    409 `endpoint_disabled`."""
    now = now or timezone.now()
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it first.", code="endpoint_disabled")
    with transaction.atomic():
        endpoints_probe_now(endpoint_ids=[endpoint.pk], now=now)  # the endpoint first: the lock order
        recorded = events_record(
            type=WEBHOOK_PING,
            subject_type=WEBHOOK_ENDPOINT,
            ids=[endpoint.pk],
            occurred_at=now,
            only_endpoint=endpoint.pk,
        )
        if not recorded:  # deleted since the caller read it
            raise NotFound("Webhook endpoint not found.")
        deliveries_dispatch(now=now, endpoint_ids=[endpoint.pk])
        # The endpoint row is locked until commit, so the newest ping delivery is this one.
        return (
            WebhookDelivery.objects.select_related("event")
            .filter(endpoint=endpoint, event__type=WEBHOOK_PING)
            .latest("event__seq")
        )
