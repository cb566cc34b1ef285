"""A webhook endpoint as an event's `data` (the `webhook.ping` subject): the API's
WebhookEndpointSerializer shape without any secret, built in SQL (see events.subjects;
tests/events/test_endpoints_api.py holds the two equal)."""

from events.subjects import api_time, register_subject

WEBHOOK_ENDPOINT = "webhook_endpoint"

WEBHOOK_ENDPOINT_SELECT = f"""
SELECT w.id, w.company_id, NULL::uuid AS customer_id, NULL::uuid AS enrollment_id,
       jsonb_build_object(
           'id', w.id,
           'url', w.url,
           'description', w.description,
           'event_types', w.event_types,
           'enabled', w.enabled,
           'disabled_reason', w.disabled_reason,
           'created_at', {api_time("w.created_at")}
       ) AS data
FROM events_webhookendpoint w
WHERE w.id = ANY(%(ids)s)
"""


def register() -> None:
    register_subject(WEBHOOK_ENDPOINT, WEBHOOK_ENDPOINT_SELECT)
