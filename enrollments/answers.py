"""What a customer's answer does to their enrollments: a promise to pay pauses the ones chasing the
invoice until the promise is due, a dispute pauses them until it is resolved (writes, like services.py;
reached through daylit's signals, inside the transaction that recorded the answer).

"Chasing the invoice" is SPEC's: an enrollment whose `invoice_id` is the invoice, or one with no invoice
(it chases the customer's whole balance). A dispute pauses an enrollment with no invoice only when the
customer has no other open, undisputed invoice left for it to chase.

An enrollment with no invoice is shared by every promise and dispute of its customer: it stays paused
until the last open promise ends (its pause runs to the latest promised date), and a dispute upheld while
another is still open leaves it paused for that one.

Each function first locks the customer rows (FOR NO KEY UPDATE, in id order), then asks "is another
promise or dispute still open?". Two answers of one customer on two invoices (each holding only its own
invoice's lock) would otherwise each see the other still open and neither resume nor stop the shared
enrollment, or a promise made while beat breaks another would be undone by beat's resume. Lock order:
the invoice (the caller's), the customer, then scheduled rows and enrollments (as
`services.enrollments_stop_for_paid_invoice` takes them).
"""

import datetime
from collections.abc import Iterable

from django.db.models import Q

from daylit.collections_models import Dispute, Promise
from daylit.models import Invoice
from daylit.promises import promise_deadline
from daylit.services import customers_lock
from enrollments import pausing, services
from enrollments.models import PAUSE_REASON_DISPUTE, PAUSE_REASON_PROMISE, Enrollment

STOP_REASON_DISPUTE_UPHELD = "dispute_upheld"


def _chasing(*, customer_id, invoice_id) -> Q:
    return Q(customer_id=customer_id) & (Q(invoice_id=invoice_id) | Q(invoice_id__isnull=True))


def _ids(query: Q, **filters) -> list:
    return list(Enrollment.objects.filter(query, **filters).values_list("pk", flat=True))


def enrollments_pause_for_promise(*, promise, pause_until: datetime.datetime) -> int:
    """Pause the active enrollments chasing the promised invoice until `pause_until`; those a previous
    promise on it paused take the new date. The ones chasing the whole balance are paused until the
    latest deadline of the customer's open promises (a promise revised to an earlier date moves theirs
    back too). Returns how many changed."""
    customers_lock(customer_ids=[promise.customer_id])
    latest = max([pause_until, *_open_deadlines(promise.customer_id)])
    changed = 0
    for chasing, until in (
        (Q(customer_id=promise.customer_id, invoice_id=promise.invoice_id), pause_until),
        (Q(customer_id=promise.customer_id, invoice_id__isnull=True), latest),
    ):
        active = _ids(chasing, status=Enrollment.Status.ACTIVE)
        other_date = _ids(
            chasing & ~Q(paused_until=until),
            status=Enrollment.Status.PAUSED,
            pause_reason=PAUSE_REASON_PROMISE,
        )
        changed += len(
            pausing.enrollments_pause(enrollment_ids=active, until=until, reason=PAUSE_REASON_PROMISE)
        )
        changed += len(
            pausing.enrollments_pause(
                enrollment_ids=other_date,
                until=until,
                reason=PAUSE_REASON_PROMISE,
                statuses=[Enrollment.Status.PAUSED],
            )
        )
    return changed


def _open_deadlines(customer_id) -> list[datetime.datetime]:
    return [
        promise_deadline(promised_date=promised_date, grace_days=grace_days)
        for promised_date, grace_days in Promise.objects.filter(
            customer_id=customer_id, status=Promise.Status.OPEN
        ).values_list("promised_date", "company__promise_grace_days")
    ]


def enrollments_resume_after_promises(*, promises: Iterable) -> int:
    """A promise kept, broken or cancelled: what it paused and is still paused for it resumes, shifted
    (when kept, payment has already completed the enrollments on the invoice; the ones chasing the whole
    balance go on with the rest of it)."""
    promises = list(promises)
    customers = {promise.customer_id for promise in promises}
    customers_lock(customer_ids=customers)
    still_promised = set(  # the ended ones are settled already, in this transaction
        Promise.objects.filter(customer_id__in=customers, status=Promise.Status.OPEN).values_list(
            "customer_id", flat=True
        )
    )
    query = Q(pk__in=[])
    for promise in promises:
        query |= Q(customer_id=promise.customer_id, invoice_id=promise.invoice_id)
    for customer_id in customers - still_promised:
        query |= Q(customer_id=customer_id, invoice_id__isnull=True)
    ids = _ids(query, status=Enrollment.Status.PAUSED, pause_reason=PAUSE_REASON_PROMISE)
    return len(pausing.enrollments_resume(enrollment_ids=ids, shift=True))


def enrollments_pause_for_dispute(*, dispute) -> int:
    """Pause, with no end, the enrollments on the disputed invoice, and the customer's enrollments with no
    invoice when nothing else open and undisputed is left to chase. Enrollments already paused (a promise,
    an auto-reply, a person) become paused for the dispute, with no end."""
    customers_lock(customer_ids=[dispute.customer_id])
    on_invoice = Q(customer_id=dispute.customer_id, invoice_id=dispute.invoice_id)
    others_open = (
        Invoice.objects.filter(customer_id=dispute.customer_id, status=Invoice.Status.OPEN, disputed=False)
        .exclude(pk=dispute.invoice_id)
        .exists()
    )
    query = (
        on_invoice
        if others_open
        else on_invoice | Q(customer_id=dispute.customer_id, invoice_id__isnull=True)
    )
    # Every pause becomes the dispute's (no end): a promise breaking, an auto-reply's return date or a
    # person's `until` must not restart chasing a disputed invoice.
    targets = _ids(query, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED])
    return len(
        pausing.enrollments_pause(
            enrollment_ids=targets,
            until=None,
            reason=PAUSE_REASON_DISPUTE,
            statuses=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED],
        )
    )


def enrollments_settle_dispute(*, dispute) -> int:
    """Rejected: the enrollments the dispute paused resume (shifted). Upheld: they complete
    (`dispute_upheld`), since the invoice is not owed as it stands."""
    customers_lock(customer_ids=[dispute.customer_id])
    chasing = _chasing(customer_id=dispute.customer_id, invoice_id=dispute.invoice_id)
    ids = _ids(chasing, status=Enrollment.Status.PAUSED, pause_reason=PAUSE_REASON_DISPUTE)
    if dispute.resolution == "upheld":
        if Dispute.objects.filter(customer_id=dispute.customer_id, status=Dispute.Status.OPEN).exists():
            # The whole-balance enrollments wait for the customer's other open dispute.
            ids = _ids(
                Q(customer_id=dispute.customer_id, invoice_id=dispute.invoice_id),
                status=Enrollment.Status.PAUSED,
                pause_reason=PAUSE_REASON_DISPUTE,
            )
        return services.enrollments_stop(enrollment_ids=ids, reason=STOP_REASON_DISPUTE_UPHELD)
    return len(pausing.enrollments_resume(enrollment_ids=ids, shift=True))
