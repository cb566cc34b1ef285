"""Signal receivers: how lower apps reach enrollments without importing it. Each only calls a service."""

from django.dispatch import receiver

from daylit.signals import invoice_paid
from enrollments import services
from sequences.signals import sequence_archived


@receiver(sequence_archived, dispatch_uid="enrollments.stop_on_sequence_archived")
def stop_on_sequence_archived(sender, sequence, **kwargs) -> None:
    services.enrollments_stop_for_sequence(sequence=sequence, reason=services.STOP_REASON_ARCHIVED)


@receiver(invoice_paid, dispatch_uid="enrollments.stop_on_invoice_paid")
def stop_on_invoice_paid(sender, invoice, **kwargs) -> None:
    services.enrollments_stop_for_paid_invoice(invoice=invoice)
