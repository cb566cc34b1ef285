"""What the raw SQL statements of dispatch, attempts and outcomes share: the table names they are
formatted with (`_sql`), an endpoint's claims counted up to its cap, the columns an attempt needs of a
delivery, its event and its endpoint, and the unsaved delivery built from such a row. A statement that
starts an attempt (`attempt._START`) and one that hands the next delivery on (`outcomes._DELIVERED`)
return the same columns, so both feed `_attempt_from_row`.
"""

import json

from events.models import Event, WebhookDelivery, WebhookEndpoint

# An endpoint's claims (`ep.id`), to count them up to its cap. Ordered as delivery_endpoint_claimed is,
# so the planner prefers that small index to every pending row of the endpoint.
_IN_FLIGHT = """SELECT 1 FROM {deliveries} claimed
    WHERE claimed.endpoint_id = ep.id AND claimed.status = 'pending' AND claimed.locked_until > %(now)s
    ORDER BY claimed.locked_until"""

# What an attempt needs of a delivery, its event and its endpoint (see `_attempt_from_row`).
_ATTEMPT_COLUMNS = """d.id, d.attempts, d.created_at, d.attempt_started_at,
    e.seq, e.id, e.type, e.occurred_at, e.company_id, e.data,
    ep.id, ep.url, ep.secret, ep.previous_secret, ep.previous_secret_expires_at"""


def _sql(template: str) -> str:
    names = {
        "endpoints": WebhookEndpoint._meta.db_table,
        "deliveries": WebhookDelivery._meta.db_table,
        "events": Event._meta.db_table,
        "columns": _ATTEMPT_COLUMNS,
    }
    return template.format(**names, in_flight=_IN_FLIGHT.format(**names))


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
