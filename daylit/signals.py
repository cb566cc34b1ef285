"""Hooks the core app exposes to the apps above it (they connect; the core never imports them)."""

from django.dispatch import Signal

# Sent after an invoice became paid, inside the transaction that paid it. kwargs: invoice.
invoice_paid = Signal()

# Sent when an invoice's due_date changed, inside the transaction that changed it. kwargs: invoice.
invoice_due_date_changed = Signal()

# Promises to pay and disputes (daylit.promises, daylit.disputes), each sent inside the transaction that
# wrote the change, after the rows are written.
# kwargs: promise, pause_until (aware UTC: 00:00 UTC of promised_date + promise_grace_days + 1 day),
# replaced (the invoice's open promise this one cancelled, or None; no promises_ended is sent for it).
promise_created = Signal()
# kwargs: promises (a list), outcome ("kept" | "broken" | "cancelled").
promises_ended = Signal()
# kwargs: dispute.
dispute_opened = Signal()
# kwargs: dispute (its resolution set: "upheld" | "rejected").
dispute_resolved = Signal()
