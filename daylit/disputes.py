"""Disputes: open and resolve. Each function owns its transaction.

Lock order: the invoice row (FOR NO KEY UPDATE, as `daylit.services.invoice_update` takes it), then its
dispute rows. `Invoice.disputed` is written only here, under that lock, in the transaction that opens or
resolves the dispute: it is true exactly while the invoice has an open dispute (at most one:
`daylit_dispute_one_open_per_invoice`).

Signals (`daylit.signals`), sent inside the transaction after the rows are written: `dispute_opened`
(dispute) and `dispute_resolved` (dispute, its `resolution` set).
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from daylit.errors import Conflict, violates
from daylit.models import Dispute, Invoice
from daylit.signals import dispute_opened, dispute_resolved

ONE_OPEN_DISPUTE = "daylit_dispute_one_open_per_invoice"


def _open_dispute_conflict() -> Conflict:
    return Conflict(
        "The invoice already has an open dispute: resolve it before opening another.", code="dispute_open"
    )


def dispute_open(
    *, invoice: Invoice, reason: str, note: str = "", now: datetime.datetime | None = None
) -> Dispute:
    """Open a dispute on an open invoice (409 `invoice_not_open`) that has none open (409
    `dispute_open`), and mark the invoice `disputed`."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
        if locked.status != Invoice.Status.OPEN:
            raise Conflict(
                f"Invoice {locked.number} is {locked.status}: only an open invoice can be disputed.",
                code="invoice_not_open",
            )
        if Dispute.objects.filter(invoice=locked, status=Dispute.Status.OPEN).exists():
            raise _open_dispute_conflict()
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    company_id=locked.company_id,
                    invoice=locked,
                    customer_id=locked.customer_id,
                    reason=reason,
                    note=note,
                    opened_at=now,
                )
        except IntegrityError as exc:  # the constraint answers what the lock already decided
            if violates(exc, ONE_OPEN_DISPUTE):
                raise _open_dispute_conflict() from exc
            raise
        locked.disputed = True
        locked.save(update_fields=["disputed"])
        dispute_opened.send(sender=Dispute, dispute=dispute)
    return dispute


def dispute_resolve(
    *, dispute: Dispute, resolution: str, note: str = "", now: datetime.datetime | None = None
) -> Dispute:
    """Resolve an open dispute as `upheld` or `rejected` (409 `dispute_resolved` when it is resolved
    already) and clear the invoice's `disputed`. The invoice may be in any status by now."""
    if resolution not in Dispute.Resolution.values:
        raise ValueError(f"unknown resolution {resolution!r}")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(no_key=True).get(pk=dispute.invoice_id)
        changed = Dispute.objects.filter(pk=dispute.pk, status=Dispute.Status.OPEN).update(
            status=Dispute.Status.RESOLVED, resolution=resolution, resolution_note=note, resolved_at=now
        )
        if not changed:
            raise Conflict("The dispute is resolved already: a resolution is final.", code="dispute_resolved")
        still_open = Dispute.objects.filter(invoice=locked, status=Dispute.Status.OPEN).exists()
        if locked.disputed != still_open:
            locked.disputed = still_open
            locked.save(update_fields=["disputed"])
        fresh = Dispute.objects.get(pk=dispute.pk)
        dispute_resolved.send(sender=Dispute, dispute=fresh)
    return fresh
