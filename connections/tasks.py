"""Celery tasks of the connections app: thin wrappers over services, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from connections import oauth, webhooks
from connections.models import WebhookDelivery

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500


@shared_task(name=webhooks.PROCESS_TASK)
def process_webhook_delivery(delivery_id: str) -> str | None:
    """Act on one recorded Nylas notification; a processed or missing delivery is a no-op."""
    return webhooks.webhook_delivery_process(delivery_id=delivery_id)


@shared_task(name="connections.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    """Process deliveries whose task was lost (broker down at enqueue, worker crash) or failed. Idempotent.

    The sweep is a delivery's last try: one that fails here is marked processed with `outcome` "error: ..."
    (kept for the admin log), so poison deliveries cannot fill every batch and starve newer lost ones.
    """
    stale = timezone.now() - SWEEP_AFTER
    ids = list(
        WebhookDelivery.objects.filter(processed_at__isnull=True, received_at__lt=stale)
        .order_by("received_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    done = 0
    for delivery_id in ids:
        try:
            done += webhooks.webhook_delivery_process(delivery_id=delivery_id) is not None
        except Exception as exc:  # one poison delivery must not block the rest; its row keeps the reason
            logger.exception("Webhook delivery %s failed; marked processed with the error", delivery_id)
            WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).update(
                outcome=f"error: {exc.__class__.__name__}: {exc}"[:255], processed_at=timezone.now()
            )
    return done


@shared_task(name="connections.purge_oauth_states")
def purge_oauth_states() -> int:
    """Delete OAuth state nonces older than a day (they expired long ago)."""
    return oauth.oauth_states_purge()
