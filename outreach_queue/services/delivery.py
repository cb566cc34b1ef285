"""Sending a queue row: claim, call Nylas outside any transaction, record the outcome.

Never twice: a row is claimed with one conditional UPDATE (`ready` -> `sending`) and only the claimer
calls Nylas; every call for a row carries `row_idempotency_key(row.id)`, so a retry after an unknown
outcome is replayed by Nylas (one-hour window) rather than delivered again. Outcomes are written
with `WHERE status = 'sending'`, so a late answer cannot overwrite a row someone else settled.

A row that settles records its event (and, if it was its enrollment's last open row, the enrollment's
end) in the same short transaction as the outcome UPDATE, only when that UPDATE changed it:
`queue_row.sent`, or `queue_row.failed` (a permanent failure, the idempotency window passed, the
reconciler's "outcome unknown"). The claim (`ready` -> `sending`) and a retryable failure (back to
`ready`) record none: to a client the row was ready and still is.

Gap between emails (company `min_hours_between_emails` N > 0, see outreach_queue.email_gap): every
claim takes the customer's advisory lock in the claim's transaction, and auto-send's claim also
requires, in its WHERE, no email of the customer `sending` or sent within N hours. A person's claim
is not refused, but holding the lock makes an auto-send claim of the same customer see its row.

Pacing per mailbox (connections.pacing, a counter in the database shared by every worker): the claim
takes one of the connection's slots in the claim's own transaction (lock order: see the claim).
"""

import contextlib
import datetime
import logging
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from connections.models import EmailConnection
from connections.pacing import connection_send_slot_take
from connections.sending import (
    PermanentSendError,
    RetryableSendError,
    SentMessage,
    send_email,
    sender_connection_authorize,
)
from daylit.errors import BadRequest, Conflict, UpstreamError
from daylit.models import Member
from daylit.updates import update_returning_pks
from enrollments.models import READY_SUBJECT_MAX_LENGTH, Enrollment, ScheduledStep
from enrollments.payloads import QUEUE_ROW
from enrollments.services import enrollments_finish_if_done
from events.services import events_record
from events.types import QUEUE_ROW_FAILED, QUEUE_ROW_SENT
from outreach_queue.email_gap import customer_gap_lock, email_to_customer_since
from outreach_queue.services.autosend_rules import auto_send_row_terms, auto_send_sender_is
from outreach_queue.services.backoff import send_retry_seconds
from outreach_queue.services.suppressions import normalized, suppressed_reasons
from sequences.models import Sequence, SequenceStep

logger = logging.getLogger(__name__)

Status = ScheduledStep.Status
OUTCOME_UNKNOWN = "outcome unknown"
WINDOW_PASSED = (
    "an earlier attempt may have delivered this email and Nylas no longer replays its idempotency key "
    "(one-hour window), so sending it again could deliver it twice"
)


class MailboxBusy(Exception):
    """Auto-send's claim found the mailbox at its rate: nothing was claimed, the row stays `ready`."""


def row_idempotency_key(row_id: UUID) -> str:
    """The one Idempotency-Key every send of this row uses, whoever sends it and however often."""
    return f"daylit-queue-row-{row_id}"


@dataclass(frozen=True)
class _Thread:
    reply_to_message_id: str | None
    subject: str


def queue_row_send(
    *, row: ScheduledStep, member: Member | None, sender_connection: EmailConnection | None = None
) -> ScheduledStep:
    """A person sends a `ready` reminder; returns the row after the attempt.

    409 for calls/tasks and for rows not due yet; a row past `ready` (sending, sent, failed,
    cancelled...) is returned unchanged. Sender rules: `sender_connection_authorize` (400/403).
    A retryable failure leaves the row `ready` with the reason in `error` and raises UpstreamError
    (502, or 503 when rate-limited); a permanent one ends the row `failed` and returns it.
    """
    row = ScheduledStep.objects.select_related("sequence", "company").get(pk=row.pk)
    if row.step_type != SequenceStep.StepType.REMINDER:
        raise Conflict(
            f"Only reminder steps are sent; complete a {row.step_type} instead.", code="not_a_reminder"
        )
    if row.status == Status.SCHEDULED:
        raise Conflict("This step is not due yet: it is still scheduled.", code="not_ready")
    if row.status != Status.READY:
        return row
    if row.draft_pending:
        raise Conflict(
            "This email has no content yet: its AI draft is pending or failed. Write it or regenerate it.",
            code="draft_pending",
        )
    sequence = row.sequence
    connection = _retry_connection(row, sender_connection) or sender_connection
    connection = connection or _connection(sequence.sender_connection_id)
    sender_connection_authorize(
        connection=connection, member=member, sequence_sender_id=sequence.sender_connection_id
    )
    if not row.to_email:
        raise BadRequest("The row has no recipient: set to_email first.", code="no_recipient")
    try:
        return queue_row_deliver(row=row, sequence=sequence, connection=connection)
    except RetryableSendError as exc:
        raise UpstreamError.passing(
            exc.reason, rate_limited=exc.rate_limited, retry_after=exc.retry_after
        ) from exc


def _retry_connection(row: ScheduledStep, requested: EmailConnection | None) -> EmailConnection | None:
    """The connection of the row's earlier attempts, or None before the first attempt.

    Nylas keeps idempotency keys per grant: the same key from another connection is a new email, so
    once an attempt was made (it may have delivered) every retry goes out from the same connection.
    """
    if row.sending_started_at is None:
        return None
    if row.sender_connection_id is None:
        raise Conflict(
            "An earlier attempt may have delivered this email, and the connection it was sent from no "
            "longer exists; sending from another one could deliver it twice. Cancel the row instead.",
            code="sender_gone",
        )
    if requested is not None and requested.pk != row.sender_connection_id:
        raise Conflict(
            "An earlier attempt may have delivered this email: it can only be retried from the same "
            "connection (omit sender_connection_id).",
            code="sender_fixed",
        )
    return row.sender_connection


def enrollment_paused(enrollment_id: UUID) -> bool:
    """Whether the enrollment is paused, read FOR SHARE (held until the caller's transaction ends)."""
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "status" FROM "{Enrollment._meta.db_table}" WHERE "id" = %s FOR SHARE',  # noqa: S608
            [enrollment_id],
        )
        found = cursor.fetchone()
    return found is not None and found[0] == Enrollment.Status.PAUSED


def queue_row_deliver(
    *, row: ScheduledStep, sequence: Sequence, connection: EmailConnection, auto_send: bool = False
) -> ScheduledStep:
    """Claim `row` and send it from `connection` (already authorised). Returns the row as it ends up.

    If another caller holds or settled the row, returns its current state without calling Nylas.
    A row attempted before is only claimed with the same connection (keys are per grant) and while
    Nylas still replays its key (NYLAS_IDEMPOTENCY_WINDOW_SECONDS from the first attempt); past that
    window the row ends `failed` with "outcome unknown" instead of being sent again.
    `auto_send`: the claim also applies auto-send's rules again (autosend_rules: the enrollment still
    active, since a reply may stop it after auto-send's read, the backoff, the sequence still auto-sending
    from `connection`, which is still active...), and requires no email to the customer within the
    company's gap; a person may send a ready row of a stopped enrollment, or within the gap (SPEC).
    With a gap, the claim holds the customer's advisory lock (email_gap.customer_gap_lock) until it
    commits.
    Pacing (connections.pacing): the claim takes a slot of `connection` in its own transaction, so a
    slot is spent exactly when a claim happens. An auto-send claim raises MailboxBusy (nothing
    claimed) when the mailbox started AUTO_SEND_RATE_PER_MINUTE sends in the last 60 s; a person's
    send is never refused but counts against the same window.
    Raises RetryableSendError after putting the row back to `ready` with the reason.
    """
    now = timezone.now()
    window_start = now - datetime.timedelta(seconds=settings.NYLAS_IDEMPOTENCY_WINDOW_SECONDS)
    # `sending_started_at` is set once, by the first claim, so the copy in hand tells whether the window
    # can have passed; the conditional UPDATE still decides (and costs a round trip only then).
    started = row.sending_started_at
    expired = (
        started is not None
        and started < window_start
        and _moved(
            ScheduledStep.objects.filter(pk=row.pk, status=Status.READY, sending_started_at__lt=window_start),
            event=QUEUE_ROW_FAILED,
            status=Status.FAILED,
            error=f"{OUTCOME_UNKNOWN}: {WINDOW_PASSED}",
            processed_at=now,
            next_attempt_at=None,
            updated_at=now,
            finish=row.enrollment_id,
        )
    )
    if expired:
        logger.warning("queue row %s: not retried, the idempotency window has passed", row.pk)
        return ScheduledStep.objects.get(pk=row.pk)
    if row.sending_started_at is None:
        # The first attempt decides the threading and starts the idempotency window. Every later
        # attempt must send the same payload: Nylas answers a replayed key with another body by 409.
        thread = _thread_for(row=row, sequence=sequence, connection=connection)
        attempt = Q(sending_started_at__isnull=True)
        first_attempt = {"reply_to_message_id": thread.reply_to_message_id or "", "sending_started_at": now}
        if thread.reply_to_message_id:
            # A follow-up goes out as "Re: <first subject>"; an unthreaded email keeps the row's subject as
            # it stands at the claim (a PATCH between our read and the claim is what the person reviewed).
            first_attempt["subject"] = thread.subject
    else:
        attempt = Q(sender_connection=connection, sending_started_at__gte=window_start)
        first_attempt = {}
    if auto_send:
        # Auto-send's read of the row is older than this UPDATE: its rules apply again (autosend_rules).
        attempt &= auto_send_row_terms(now) & auto_send_sender_is(connection.pk)
    gap_hours = row.company.min_hours_between_emails
    if auto_send and gap_hours:
        attempt &= ~email_to_customer_since(now - datetime.timedelta(hours=gap_hours))
    claim = ScheduledStep.objects.filter(attempt, pk=row.pk, status=Status.READY, draft_pending=False)
    fields = {
        "status": Status.SENDING,
        "sender_connection": connection,
        "attempts": F("attempts") + 1,
        "next_attempt_at": None,
        "updated_at": now,
        **first_attempt,
    }
    with transaction.atomic():
        # Lock order: the queue row, its enrollment, the customer's gap lock, the mailbox's pacing row;
        # a cancel or complete also takes the row before the enrollment. FOR SHARE on the enrollment
        # serialises the claim with a pause: a pause committed first is seen here, and one that comes
        # later waits until this claim has committed (SPEC: a send happened before the pause or not at
        # all). The row's lock also holds its address still between the suppression check and the send.
        locked = ScheduledStep.objects.select_for_update().filter(pk=row.pk).first()
        to_email = locked.to_email if locked else ""
        suppressed = suppressed_reasons([(row.company_id, to_email or "")]).get(
            (row.company_id, normalized(to_email or ""))
        )
        if suppressed:
            if auto_send:
                return ScheduledStep.objects.get(pk=row.pk)
            raise Conflict(
                f"{to_email} is suppressed ({suppressed}): change to_email or remove the suppression.",
                code="suppressed",
            )
        if enrollment_paused(row.enrollment_id):
            if auto_send:
                return ScheduledStep.objects.get(pk=row.pk)
            raise Conflict(
                "This row's enrollment is paused: resume it (or the customer) to send.",
                code="enrollment_paused",
            )
        if gap_hours:
            customer_gap_lock(row.customer_id)
        paced = connection_send_slot_take(
            connection_id=connection.pk, limit=settings.AUTO_SEND_RATE_PER_MINUTE, force=not auto_send
        )
        if not paced:
            raise MailboxBusy(connection.pk)
        claimed = claim.update(**fields)
        if not claimed:
            transaction.set_rollback(True)  # another caller holds or settled the row: give the slot back
    if not claimed:
        return ScheduledStep.objects.get(pk=row.pk)
    # The row as the claim left it: what the lock read, with the claim's writes (no second read).
    locked.attempts += 1
    for field, value in {**fields, "attempts": locked.attempts}.items():
        setattr(locked, field, value)
    return _send_claimed(row=locked, connection=connection)


def _send_claimed(*, row: ScheduledStep, connection: EmailConnection) -> ScheduledStep:
    try:
        sent = send_email(
            connection=connection,
            to_email=row.to_email,
            subject=row.subject,
            body_plain=row.body_plain,
            body_html=row.body_html,
            idempotency_key=row_idempotency_key(row.pk),
            reply_to_message_id=row.reply_to_message_id or None,
        )
    except RetryableSendError as exc:
        # Auto-send's only retry clock (its planner filters on it): backoff or Retry-After, the later.
        wait = max(send_retry_seconds(row.attempts), exc.retry_after or 0)
        _settle(row, status=Status.READY, error=exc.reason[:2000], retry_in=wait)
        logger.info("queue row %s: retryable send failure: %s", row.pk, exc.reason)
        raise
    except PermanentSendError as exc:
        # A key Nylas already holds with another payload: an earlier attempt may have delivered.
        error = f"{OUTCOME_UNKNOWN}: {exc.reason}" if exc.outcome_unknown else exc.reason
        _settle(row, status=Status.FAILED, error=error[:2000])
        logger.warning("queue row %s: permanent send failure: %s", row.pk, error)
    else:
        _record_sent(row.pk, sent, enrollment_id=row.enrollment_id)
    return ScheduledStep.objects.get(pk=row.pk)


def _record_sent(row_id: UUID, sent: SentMessage, *, enrollment_id: UUID) -> None:
    now = timezone.now()
    recorded = _moved(
        ScheduledStep.objects.filter(pk=row_id, status=Status.SENDING),
        event=QUEUE_ROW_SENT,
        status=Status.SENT,
        provider_message_id=sent.message_id,
        provider_thread_id=sent.thread_id,
        processed_at=now,
        error="",
        updated_at=now,
        finish=enrollment_id,
    )
    if not recorded:
        # Someone settled the row meanwhile (the reconciler, after a very slow answer). Its state is
        # not overwritten, but a delivery it does not know of must leave a trace for support.
        current = ScheduledStep.objects.filter(pk=row_id).values("status", "provider_message_id").first()
        if current and current["provider_message_id"] != sent.message_id:
            logger.warning(
                "queue row %s: Nylas delivered it (message %s, thread %s) after the row became %s; "
                "the row was not changed",
                row_id,
                sent.message_id,
                sent.thread_id,
                current["status"],
            )


def _settle(row: ScheduledStep, *, status: str, error: str, retry_in: float | None = None) -> None:
    now = timezone.now()
    fields = {"status": status, "error": error, "updated_at": now}
    if retry_in is not None:
        fields["next_attempt_at"] = now + datetime.timedelta(seconds=retry_in)
    failed = status == Status.FAILED
    if failed:
        fields["processed_at"] = now
    _moved(
        ScheduledStep.objects.filter(pk=row.pk, status=Status.SENDING),
        event=QUEUE_ROW_FAILED if failed else None,
        finish=row.enrollment_id if failed else None,
        **fields,
    )


def _moved(rows: QuerySet[ScheduledStep], *, event: str | None, finish: UUID | None = None, **fields) -> int:
    """A conditional UPDATE and, for exactly the rows it changed, `event` (None: no event), in one
    transaction; when it changed one, also the end of enrollment `finish` if that was its last open
    row (in the same transaction: a worker dying in between would leave it active for ever). Returns
    how many rows it changed."""
    with transaction.atomic():
        moved = update_returning_pks(rows, **fields)
        if event:
            events_record(type=event, subject_type=QUEUE_ROW, ids=moved)
        if moved and finish is not None:
            enrollments_finish_if_done(enrollment_ids=[finish])
    return len(moved)


def _connection(connection_id: UUID | None) -> EmailConnection | None:
    return EmailConnection.objects.filter(pk=connection_id).first() if connection_id else None


def _thread_for(*, row: ScheduledStep, sequence: Sequence, connection: EmailConnection) -> _Thread:
    """With send_followups_in_thread, a follow-up replies to the enrollment's latest sent message with
    "Re: <first email's subject>". A thread lives in one mailbox, so the reply is threaded only when
    the latest message went out from the same connection; otherwise it is sent as a new email.
    """
    if not sequence.send_followups_in_thread:
        return _Thread(None, row.subject)
    earlier = list(
        ScheduledStep.objects.filter(enrollment_id=row.enrollment_id, status=Status.SENT)
        .exclude(pk=row.pk)
        .exclude(provider_message_id="")
        .order_by("processed_at", "id")
        .values("subject", "provider_message_id", "sender_connection_id")
    )
    if not earlier:
        return _Thread(None, row.subject)
    first, latest = earlier[0], earlier[-1]
    if latest["sender_connection_id"] != connection.pk:
        return _Thread(None, row.subject)
    subject = first["subject"] if first["subject"].lower().startswith("re:") else f"Re: {first['subject']}"
    # A first email sent before subjects were bounded may be longer; a retry puts this row back to
    # `ready`, where the database allows READY_SUBJECT_MAX_LENGTH. Clients thread by headers, not subject.
    return _Thread(latest["provider_message_id"], subject[:READY_SUBJECT_MAX_LENGTH])


def queue_rows_reconcile_sending(*, now: datetime.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Settle rows left in `sending` by a worker that died (no change for SENDING_STUCK_AFTER_SECONDS).

    Inside Nylas's idempotency window (from the row's first attempt) the row is resent with the same
    key, so Nylas replays a delivery that did happen; after it the row ends `failed` with "outcome
    unknown" (we cannot know whether it went out, and sending again could deliver twice). Each resend
    is claimed by a conditional UPDATE on `updated_at`, so two reconcilers never both resend a row.
    """
    now = now or timezone.now()
    stuck_before = now - datetime.timedelta(seconds=settings.SENDING_STUCK_AFTER_SECONDS)
    window_start = now - datetime.timedelta(seconds=settings.NYLAS_IDEMPOTENCY_WINDOW_SECONDS)
    stuck = list(
        ScheduledStep.objects.filter(status=Status.SENDING, updated_at__lt=stuck_before)
        .select_related("sequence", "sender_connection")
        .order_by("updated_at")[:limit]
    )
    counts = {"resent": 0, "failed": 0}
    for row in stuck:
        started = row.sending_started_at
        if started is None or started < window_start or row.sender_connection is None:
            moved = _moved(
                ScheduledStep.objects.filter(pk=row.pk, status=Status.SENDING, updated_at=row.updated_at),
                event=QUEUE_ROW_FAILED,
                status=Status.FAILED,
                error=f"{OUTCOME_UNKNOWN}: the send was interrupted and the idempotency window has passed",
                processed_at=now,
                updated_at=now,
                finish=row.enrollment_id,
            )
            counts["failed"] += moved
            continue
        claimed = ScheduledStep.objects.filter(
            pk=row.pk, status=Status.SENDING, updated_at=row.updated_at
        ).update(attempts=F("attempts") + 1, updated_at=now)
        if not claimed:
            continue
        # A retryable failure puts the row back to `ready`; auto-send or a person retries with the same key.
        with contextlib.suppress(RetryableSendError):
            _send_claimed(row=row, connection=row.sender_connection)
        counts["resent"] += 1
    return counts
