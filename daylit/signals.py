"""Hooks the core app exposes to the apps above it (they connect; the core never imports them)."""

from django.dispatch import Signal

# Sent after an invoice became paid, inside the transaction that paid it. kwargs: invoice.
invoice_paid = Signal()

# Sent when an invoice's due_date changed, inside the transaction that changed it. kwargs: invoice.
invoice_due_date_changed = Signal()
