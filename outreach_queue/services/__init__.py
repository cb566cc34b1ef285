"""Writes of the queue app (label "queue"). Each function owns its transactions; none runs network I/O
inside one. Split by concern: promotion, delivery (send, reconcile), auto-send, a person's other moves.
"""

from outreach_queue.services.autosend import (
    AutoSendBatch,
    AutoSendPlan,
    auto_send_batches,
    queue_row_auto_send,
    queue_rows_auto_send,
    queue_rows_auto_send_plan,
)
from outreach_queue.services.backoff import backoff_seconds, send_retry_seconds
from outreach_queue.services.counts import status_counts_compact, status_counts_rebuild
from outreach_queue.services.delivery import (
    OUTCOME_UNKNOWN,
    queue_row_deliver,
    queue_row_send,
    queue_rows_reconcile_sending,
    row_idempotency_key,
)
from outreach_queue.services.drafts import (
    DraftResult,
    enqueue_draft_generation,
    queue_row_draft,
    queue_row_regenerate,
    queue_rows_draft_sweep,
)
from outreach_queue.services.promotion import (
    PROMOTION_BATCH_SIZE,
    queue_rows_promote,
    queue_rows_promote_helper,
)
from outreach_queue.services.replies import sent_rows_mark_bounced, sent_rows_stop_on_reply
from outreach_queue.services.retry import queue_row_retry
from outreach_queue.services.transitions import queue_row_cancel, queue_row_complete, queue_row_update

__all__ = [
    "OUTCOME_UNKNOWN",
    "PROMOTION_BATCH_SIZE",
    "AutoSendBatch",
    "AutoSendPlan",
    "auto_send_batches",
    "backoff_seconds",
    "DraftResult",
    "enqueue_draft_generation",
    "queue_row_draft",
    "queue_row_regenerate",
    "queue_rows_draft_sweep",
    "queue_row_auto_send",
    "queue_rows_auto_send",
    "queue_row_cancel",
    "queue_row_retry",
    "queue_row_complete",
    "queue_row_deliver",
    "queue_row_send",
    "queue_row_update",
    "queue_rows_auto_send_plan",
    "queue_rows_promote",
    "queue_rows_promote_helper",
    "queue_rows_reconcile_sending",
    "send_retry_seconds",
    "row_idempotency_key",
    "sent_rows_mark_bounced",
    "sent_rows_stop_on_reply",
    "status_counts_compact",
    "status_counts_rebuild",
]
