"""Reads of webhook endpoints and deliveries, always within one company (another company's ids are
not found)."""

from uuid import UUID

from django.db.models import QuerySet

from daylit.errors import NotFound
from daylit.models import Company
from events.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, company: Company) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(company=company).order_by("-created_at", "-id")


def webhook_endpoint_get(*, company: Company, endpoint_id: UUID) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(company=company, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def webhook_delivery_list(
    *, endpoint: WebhookEndpoint, statuses: list[str] | None = None
) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their events (one query for a page)."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if statuses:
        deliveries = deliveries.filter(status__in=statuses)
    return deliveries.order_by("-created_at", "-id")


def webhook_delivery_get(*, company: Company, delivery_id: UUID) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(pk=delivery_id, endpoint__company=company)
        .first()
    )
    if delivery is None:
        raise NotFound("Webhook delivery not found.")
    return delivery
