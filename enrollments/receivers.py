"""Signal receivers: how lower apps reach enrollments without importing it. Each only calls a service."""

from django.dispatch import receiver

from daylit.signals import invoice_due_date_changed, invoice_paid
from enrollments import replanning, services
from sequences.signals import sequence_archived


@receiver(sequence_archived, dispatch_uid="enrollments.stop_on_sequence_archived")
def stop_on_sequence_archived(sender, sequence, **kwargs) -> None:
    services.enrollments_stop_for_sequence(sequence=sequence, reason=services.STOP_REASON_ARCHIVED)


@receiver(invoice_paid, dispatch_uid="enrollments.stop_on_invoice_paid")
def stop_on_invoice_paid(sender, invoice, **kwargs) -> None:
    services.enrollments_stop_for_paid_invoice(invoice=invoice)


@receiver(invoice_due_date_changed, dispatch_uid="enrollments.replan_on_due_date_changed")
def replan_on_due_date_changed(sender, invoice, **kwargs) -> None:
    replanning.enrollments_replan_for_invoice(invoice=invoice)
