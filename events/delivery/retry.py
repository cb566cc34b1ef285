"""A person asks: send it again now (the API's retry of one delivery, the admin's of many). Makes
deliveries due with their attempts kept, cuts their endpoints' backoff short (a failing endpoint is
probed now) and dispatches those endpoints, in the lock order: endpoints, then their deliveries.
"""

from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from daylit.errors import Conflict
from events.delivery.dispatch import deliveries_dispatch
from events.models import WebhookDelivery, WebhookEndpoint

Status = WebhookDelivery.Status


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
