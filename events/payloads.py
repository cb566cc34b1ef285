"""The subjects whose payloads this app registers, built in SQL (see events.subjects): a webhook endpoint
(the `webhook.ping` subject; the API's WebhookEndpointSerializer shape without any secret,
tests/events/test_endpoints_api.py holds the two equal), and the core app's promises and disputes (the
API's PromiseSerializer and DisputeSerializer shapes; tests/daylit/test_collections_payloads.py). The
core app cannot import this app, so their payloads are registered here and their events recorded by
events.receivers."""

from events.subjects import api_date, api_time, register_subject

WEBHOOK_ENDPOINT = "webhook_endpoint"
PROMISE = "promise"
DISPUTE = "dispute"

PROMISE_SELECT = f"""
SELECT p.id, p.company_id, p.customer_id, NULL::uuid AS enrollment_id,
       jsonb_build_object(
           'id', p.id,
           'invoice_id', p.invoice_id,
           'customer_id', p.customer_id,
           'amount', p.amount::text,
           'currency', p.currency,
           'promised_date', {api_date("p.promised_date")},
           'status', p.status,
           'source', p.source,
           'note', p.note,
           'created_at', {api_time("p.created_at")},
           'settled_at', {api_time("p.settled_at")}
       ) AS data
FROM daylit_promise p
WHERE p.id = ANY(%(ids)s)
"""

DISPUTE_SELECT = f"""
SELECT d.id, d.company_id, d.customer_id, NULL::uuid AS enrollment_id,
       jsonb_build_object(
           'id', d.id,
           'invoice_id', d.invoice_id,
           'customer_id', d.customer_id,
           'reason', d.reason,
           'status', d.status,
           'resolution', d.resolution,
           'note', d.note,
           'resolution_note', d.resolution_note,
           'opened_at', {api_time("d.opened_at")},
           'resolved_at', {api_time("d.resolved_at")}
       ) AS data
FROM daylit_dispute d
WHERE d.id = ANY(%(ids)s)
"""

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
    register_subject(PROMISE, PROMISE_SELECT)
    register_subject(DISPUTE, DISPUTE_SELECT)
