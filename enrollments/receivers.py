"""Signal receivers: how lower apps reach enrollments without importing it. Each only calls a service."""

from django.dispatch import receiver

from daylit.signals import (
    dispute_opened,
    dispute_resolved,
    invoice_due_date_changed,
    invoice_paid,
    promise_created,
    promises_ended,
)
from enrollments import answers, replanning, services
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


@receiver(promise_created, dispatch_uid="enrollments.pause_for_promise")
def pause_for_promise(sender, promise, pause_until, **kwargs) -> None:
    answers.enrollments_pause_for_promise(promise=promise, pause_until=pause_until)


@receiver(promises_ended, dispatch_uid="enrollments.resume_after_promises")
def resume_after_promises(sender, promises, outcome, **kwargs) -> None:
    answers.enrollments_resume_after_promises(promises=promises)


@receiver(dispute_opened, dispatch_uid="enrollments.pause_for_dispute")
def pause_for_dispute(sender, dispute, **kwargs) -> None:
    answers.enrollments_pause_for_dispute(dispute=dispute)


@receiver(dispute_resolved, dispatch_uid="enrollments.settle_dispute")
def settle_dispute(sender, dispute, **kwargs) -> None:
    answers.enrollments_settle_dispute(dispute=dispute)
