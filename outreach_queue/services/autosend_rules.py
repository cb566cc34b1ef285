"""What a row must be for auto-send to take it: one set of rules for the planner's read and the claim.

Auto-send reads its rows (services.autosend) before it claims them (services.delivery): a task sends
its batch one row after another, so a row's read can be seconds old by its claim (up to
AUTO_SEND_BATCH_SECONDS and one slow answer from Nylas). What the rules here check can change meanwhile (a
retryable failure sets `next_attempt_at`, a person turns auto-send off, changes the sequence's sender
or regenerates the row as an AI draft, a mailbox is disconnected), so the claim's conditional UPDATE
applies them again under the row's lock, and a row that no longer passes is not sent.

Read once per batch and not re-applied: the company's gap setting (`min_hours_between_emails`); a
change to it applies from the next planner pass. The claim checks the gap itself (services.delivery).
"""

import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, Q

from connections.models import EmailConnection
from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence

ACTIVE = EmailConnection.Status.ACTIVE
# No attempt yet: the row is sent from its sequence's sender (after one, only from its own connection).
_FIRST_ATTEMPT = Q(sender_connection__isnull=True, sending_started_at__isnull=True)


def auto_send_row_terms(now: datetime.datetime) -> Q:
    """A ready row auto-send may claim now: not an AI draft unless its sequence opted in, past its
    `next_attempt_at` (backoff or Retry-After), under AUTO_SEND_MAX_RETRIES attempts, of an active
    enrollment in an active auto-send sequence."""
    return Q(
        Q(generated=False) | Q(sequence__auto_send_generated=True),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        attempts__lt=max(1, settings.AUTO_SEND_MAX_RETRIES),
        status=ScheduledStep.Status.READY,
        draft_pending=False,
        sequence__auto_send=True,
        sequence__status=Sequence.Status.ACTIVE,
        enrollment__status=Enrollment.Status.ACTIVE,
    )


def auto_send_sender_active() -> Q:
    """The read: the connection auto-send would use is active. That is the row's own once an attempt
    was made (retries stay on one grant, see delivery), else its sequence's sender. A row attempted
    from a connection since deleted has none: it waits for a person (409 `sender_gone` tells why)."""
    sequences_sender = Q(_FIRST_ATTEMPT, sequence__sender_connection__status=ACTIVE)
    return sequences_sender | Q(sender_connection__status=ACTIVE)


def auto_send_sender_is(connection_id: UUID) -> Q:
    """The claim: `connection_id` is still the connection auto-send would use, and still active."""
    active = EmailConnection.objects.filter(pk=connection_id, status=ACTIVE)
    sequences_sender = Q(_FIRST_ATTEMPT, sequence__sender_connection_id=connection_id)
    return Q(sequences_sender | Q(sender_connection_id=connection_id), Exists(active))
