"""Celery tasks of the events app (queue `webhooks`): thin wrappers over events.delivery, safe to run
twice. The row is the truth: a lost task is found by the beat's dispatch sweep."""

from celery import shared_task
from django.utils import timezone

from events import delivery, services
from events.services import DISPATCH_TASK


@shared_task(name=DISPATCH_TASK)
def dispatch_deliveries() -> int:
    """Claim due deliveries and enqueue one deliver task each (also the 10-second beat sweep)."""
    return delivery.deliveries_dispatch()


@shared_task(name=delivery.DELIVER_TASK)
def deliver_webhook(delivery_id: str) -> str | None:
    """One attempt of one delivery, under its claim; a task without a live claim does nothing."""
    return delivery.delivery_deliver(delivery_id=delivery_id)


@shared_task(name="events.purge_events")
def purge_events() -> int:
    """Daily: events past their 30 days go, with their long-settled deliveries."""
    return services.events_purge(now=timezone.now())
