"""What a reply does to the account (SPEC "Replies that act"): the action of its classification, on every
active or paused enrollment of the customer, since a reply concerns the account and not one thread.
A person's review replaces the action: what the old one paused resumes, a promise or dispute it made is
cancelled or withdrawn, a suppression it added is lifted; then the new class acts.

Runs in the caller's transaction (the webhook delivery's, or the review's), so a reply and everything
it did commit together. Stops are not undone by a review: a completed enrollment is history.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError

from daylit import disputes, promises
from daylit.collections_models import Dispute, Promise
from daylit.models import Invoice
from daylit.services import customers_lock
from enrollments import pausing
from enrollments.models import CURRENT_STATUSES, PAUSE_REASON_DISPUTE, Enrollment
from enrollments.services import enrollments_stop
from outreach_queue.models import Reply, ReplyClass, Suppression
from outreach_queue.services.suppressions import suppression_lift, suppressions_add

STOP_REASON_REPLIED = "replied"
PAUSE_REASON_AUTO_REPLY = "auto_reply"
# Without a return date an out-of-office pauses this long from when it arrived (SPEC).
AUTO_REPLY_PAUSE = datetime.timedelta(hours=72)
SUPPRESSING = {
    ReplyClass.WRONG_CONTACT: Suppression.Reason.WRONG_CONTACT,
    ReplyClass.UNSUBSCRIBE: Suppression.Reason.UNSUBSCRIBE,
}

# Reply.action values: what the reply did, as the API and admin show it.
ACTION_PAUSED = "paused"
ACTION_PROMISE = "promise_recorded"
ACTION_DISPUTE = "dispute_opened"
ACTION_STOPPED = "stopped"
ACTION_SUPPRESSED = "stopped_and_suppressed"
ACTION_NONE = "recorded"


@dataclass(frozen=True)
class Reading:
    """What the reply says, from the rules, the AI or a person."""

    classification: str
    confidence: float = 1.0
    return_date: datetime.date | None = None
    promised_date: datetime.date | None = None
    promised_amount: Decimal | None = None
    dispute_reason: str | None = None
    source: str = "person"
    prompt_version: str = ""


def reply_act(*, reply: Reply, reading: Reading) -> str:
    """Store the reading on `reply` and carry out its class's action. Returns what it did (the webhook
    delivery's outcome)."""
    with transaction.atomic(savepoint=False):
        reply.classification = reading.classification
        reply.confidence = max(0.0, min(1.0, float(reading.confidence)))
        reply.return_date = reading.return_date
        reply.promised_date = reading.promised_date
        reply.promised_amount = reading.promised_amount
        reply.classified_by = reading.source
        reply.prompt_version = reading.prompt_version
        reply.paused_enrollment_ids, reply.promise, reply.dispute = [], None, None
        reply.action, detail = _ACTIONS[reading.classification](reply, reading)
        reply.save()
    return f"{reading.classification}: {detail}"


def reply_review(*, reply: Reply, reading: Reading) -> Reply:
    """A person's correction. The same class only marks the reply reviewed; another undoes the old
    action and applies the new one. `promise` needs a promised date (400)."""
    if reading.classification == ReplyClass.PROMISE and reading.promised_date is None:
        raise ValidationError({"promised_date": ["A promise needs the date the customer promised to pay."]})
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        if locked.classification != reading.classification:
            _lock_account(locked)
            _undo(locked)
            reply_act(reply=locked, reading=reading)
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["reviewed_at"])
    return Reply.objects.get(pk=reply.pk)


def _lock_account(reply: Reply) -> None:
    """The customer's invoices (in id order), then the customer: the order every promise and dispute
    takes them in (invoice, customer, scheduled rows, enrollments). Undoing the old action touches
    enrollments before the new one may open a promise or dispute (an invoice's lock); without these
    locks first, a review and a promise or dispute of the same customer could deadlock."""
    list(
        Invoice.objects.select_for_update(no_key=True)
        .filter(customer_id=reply.customer_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    customers_lock(customer_ids=[reply.customer_id])


# --- the actions ------------------------------------------------------------------------------------


def _account(reply: Reply):
    return Enrollment.objects.filter(customer_id=reply.customer_id, status__in=CURRENT_STATUSES)


def _pause_auto_reply(reply: Reply, reading: Reading) -> tuple[str, str]:
    """Until 00:00 the day after the return date (each enrollment's zone), else 72 h after the reply. A
    later auto-reply extends the pause of one before it; other pauses (a promise, a dispute, a person)
    stay as they are. Nothing is stopped."""
    if reading.return_date is not None:
        until = reading.return_date + datetime.timedelta(days=1)
    else:
        until = reply.received_at + AUTO_REPLY_PAUSE
    active = list(_account(reply).filter(status=Enrollment.Status.ACTIVE).values_list("pk", flat=True))
    paused = pausing.enrollments_pause(enrollment_ids=active, until=until, reason=PAUSE_REASON_AUTO_REPLY)
    earlier = list(
        _account(reply)
        .filter(status=Enrollment.Status.PAUSED, pause_reason=PAUSE_REASON_AUTO_REPLY)
        .values_list("pk", "time_zone", "paused_until")
    )
    extend = [
        pk for pk, zone, current in earlier if current is None or current < pausing.until_instant(until, zone)
    ]
    paused += pausing.enrollments_pause(
        enrollment_ids=extend,
        until=until,
        reason=PAUSE_REASON_AUTO_REPLY,
        statuses=[Enrollment.Status.PAUSED],
    )
    reply.paused_enrollment_ids = sorted(set(paused))
    return ACTION_PAUSED, _count("paused", len(reply.paused_enrollment_ids))


def _promise(reply: Reply, reading: Reading) -> tuple[str, str]:
    """A promise (`source: reply`) on the thread's invoice, else the customer's oldest open one; it pauses
    as any promise does. No date, or one the promise rules refuse: a person takes over (stop)."""
    invoice = _invoice(reply)
    if reading.promised_date is None or invoice is None:
        return _stop(reply, reading)
    try:
        with transaction.atomic():  # a refused promise must not undo the reply
            promise = promises.promise_create(
                invoice=invoice,
                promised_date=reading.promised_date,
                amount=reading.promised_amount if _fits(reading.promised_amount, invoice) else None,
                note=f"From the customer's reply: {reply.text[:200]}",
                source=Promise.Source.REPLY,
            )
    except (APIException, DjangoValidationError):  # the promise rules refused it: a person takes over
        return _stop(reply, reading)
    reply.promise = promise
    return ACTION_PROMISE, f"promise recorded for {reading.promised_date.isoformat()}"


def _dispute(reply: Reply, reading: Reading) -> tuple[str, str]:
    """A dispute on the thread's invoice; without one, the account's enrollments pause with no end."""
    invoice = Invoice.objects.filter(pk=reply.invoice_id, status=Invoice.Status.OPEN).first()
    if invoice is None:
        # Active ones, and those an auto-reply paused: a promise's or a person's pause stays theirs.
        ids = list(
            _account(reply)
            .filter(Q(status=Enrollment.Status.ACTIVE) | Q(pause_reason=PAUSE_REASON_AUTO_REPLY))
            .values_list("pk", flat=True)
        )
        paused = pausing.enrollments_pause(
            enrollment_ids=ids, until=None, reason=PAUSE_REASON_DISPUTE, statuses=list(CURRENT_STATUSES)
        )
        reply.paused_enrollment_ids = sorted(paused)
        return ACTION_PAUSED, _count("paused", len(paused))
    reason = (
        reading.dispute_reason if reading.dispute_reason in Dispute.Reason.values else Dispute.Reason.OTHER
    )
    try:
        with transaction.atomic():
            reply.dispute = disputes.dispute_open(
                invoice=invoice, reason=reason, note=f"From the customer's reply: {reply.text[:200]}"
            )
    except APIException:  # already disputed: the open dispute stands
        return ACTION_NONE, "the invoice's open dispute stands"
    return ACTION_DISPUTE, "dispute opened"


def _stop(reply: Reply, reading: Reading) -> tuple[str, str]:
    """A person takes over: stop the account's enrollments whose sequence stops on replies."""
    ids = _account(reply).filter(sequence__stop_on_reply=True).values_list("pk", flat=True)
    stopped = enrollments_stop(enrollment_ids=list(ids), reason=STOP_REASON_REPLIED)
    if not stopped:
        return ACTION_NONE, "no enrollment stops on reply"
    return ACTION_STOPPED, _count("stopped", stopped)


def _stop_and_suppress(reply: Reply, reading: Reading) -> tuple[str, str]:
    """Wrong person or unsubscribe: stop every enrollment of the account and never email the address.
    An address already on the list stays as it was, and the action says so: a review then lifts nothing
    that this reply did not add."""
    stopped = enrollments_stop(
        enrollment_ids=list(_account(reply).values_list("pk", flat=True)), reason=STOP_REASON_REPLIED
    )
    added = reply.from_email and suppressions_add(
        company_id=reply.company_id, emails=[reply.from_email], reason=SUPPRESSING[reading.classification]
    )
    if not added:
        kept = f"{reply.from_email} was suppressed already" if reply.from_email else "no address to suppress"
        return ACTION_STOPPED, f"{_count('stopped', stopped)}; {kept}"
    return ACTION_SUPPRESSED, f"{_count('stopped', stopped)}; {reply.from_email} suppressed"


_ACTIONS = {
    ReplyClass.AUTO_REPLY: _pause_auto_reply,
    ReplyClass.PROMISE: _promise,
    ReplyClass.DISPUTE: _dispute,
    ReplyClass.PAID_CLAIM: _stop,
    ReplyClass.QUESTION: _stop,
    ReplyClass.OTHER: _stop,
    ReplyClass.WRONG_CONTACT: _stop_and_suppress,
    ReplyClass.UNSUBSCRIBE: _stop_and_suppress,
}


def _undo(reply: Reply) -> None:
    """Take back what the reply's action made: its pauses (still paused for it), its open promise, its
    open dispute (withdrawn: rejected), the suppression it added."""
    still_paused = Enrollment.objects.filter(
        pk__in=reply.paused_enrollment_ids,
        status=Enrollment.Status.PAUSED,
        pause_reason__in=[PAUSE_REASON_AUTO_REPLY, PAUSE_REASON_DISPUTE],
    ).values_list("pk", flat=True)
    pausing.enrollments_resume(enrollment_ids=list(still_paused))
    if reply.promise_id and Promise.objects.filter(pk=reply.promise_id, status=Promise.Status.OPEN).exists():
        promises.promise_cancel(promise=reply.promise)
    if reply.dispute_id and Dispute.objects.filter(pk=reply.dispute_id, status=Dispute.Status.OPEN).exists():
        disputes.dispute_resolve(
            dispute=reply.dispute,
            resolution=Dispute.Resolution.REJECTED,
            note="Withdrawn: the reply was reclassified.",
        )
    reason = SUPPRESSING.get(reply.classification)
    if reason and reply.from_email and reply.action == ACTION_SUPPRESSED and not _still_asked(reply, reason):
        suppression_lift(company_id=reply.company_id, email=reply.from_email, reason=reason)


def _still_asked(reply: Reply, reason: str) -> bool:
    """Whether another reply from the address asks for the same suppression (a second unsubscribe, or
    one that listed the address again after a person removed it): a review of one does not lift it."""
    classes = [cls for cls, suppressing in SUPPRESSING.items() if suppressing == reason]
    return (
        Reply.objects.filter(
            company_id=reply.company_id, from_email__iexact=reply.from_email, classification__in=classes
        )
        .exclude(pk=reply.pk)
        .exists()
    )


def _invoice(reply: Reply) -> Invoice | None:
    """The thread's invoice while open, else the customer's open invoice due first."""
    open_invoices = Invoice.objects.filter(customer_id=reply.customer_id, status=Invoice.Status.OPEN)
    thread = open_invoices.filter(pk=reply.invoice_id).first() if reply.invoice_id else None
    return thread or open_invoices.filter(Q(disputed=False)).order_by("due_date", "issue_date", "id").first()


def _count(verb: str, count: int) -> str:
    return f"{verb} {count} enrollment{'' if count == 1 else 's'}"


def _fits(amount: Decimal | None, invoice: Invoice) -> bool:
    return amount is not None and Decimal("0") < amount <= invoice.amount_due
