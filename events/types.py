"""Every event type the service records (SPEC "Events and outbound webhooks").

A type is `<subject>.<what happened>`; the subject names the object `data` holds. Later features
(pauses, promises, disputes, replies) record theirs here too: a webhook endpoint may subscribe to any
type listed, and only to those.
"""

ENROLLMENT_CREATED = "enrollment.created"
ENROLLMENT_COMPLETED = "enrollment.completed"
ENROLLMENT_PAUSED = "enrollment.paused"
ENROLLMENT_RESUMED = "enrollment.resumed"
QUEUE_ROW_READY = "queue_row.ready"
QUEUE_ROW_SENT = "queue_row.sent"
QUEUE_ROW_FAILED = "queue_row.failed"
QUEUE_ROW_CANCELLED = "queue_row.cancelled"
QUEUE_ROW_COMPLETED = "queue_row.completed"
QUEUE_ROW_RESCHEDULED = "queue_row.rescheduled"  # re-planned: its invoice's due date changed
REPLY_RECEIVED = "reply.received"
PROMISE_CREATED = "promise.created"
PROMISE_KEPT = "promise.kept"
PROMISE_BROKEN = "promise.broken"
PROMISE_CANCELLED = "promise.cancelled"
DISPUTE_OPENED = "dispute.opened"
DISPUTE_RESOLVED = "dispute.resolved"
EMAIL_CONNECTION_UPDATED = "email_connection.updated"
WEBHOOK_PING = "webhook.ping"

EVENT_TYPES = (
    ENROLLMENT_CREATED,
    ENROLLMENT_COMPLETED,
    ENROLLMENT_PAUSED,
    ENROLLMENT_RESUMED,
    QUEUE_ROW_READY,
    QUEUE_ROW_SENT,
    QUEUE_ROW_FAILED,
    QUEUE_ROW_CANCELLED,
    QUEUE_ROW_COMPLETED,
    QUEUE_ROW_RESCHEDULED,
    REPLY_RECEIVED,
    PROMISE_CREATED,
    PROMISE_KEPT,
    PROMISE_BROKEN,
    PROMISE_CANCELLED,
    DISPUTE_OPENED,
    DISPUTE_RESOLVED,
    EMAIL_CONNECTION_UPDATED,
    WEBHOOK_PING,
)
ALL_TYPES = "*"
