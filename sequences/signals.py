"""Signals the sequences app sends; apps above it (enrollments) connect to them."""

from django.dispatch import Signal

# Sent inside the transaction that archived the sequence. kwargs: sequence.
sequence_archived = Signal()
