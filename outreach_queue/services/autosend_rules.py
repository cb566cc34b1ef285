"""What a row itself must be for auto-send to take it: one rule for the planner's read and the claim.

Auto-send reads its rows (services.autosend) a little before it claims them (services.delivery): a
task sends its batch one row after another, so the last row's read is a second or two old by its
claim. Everything here can change meanwhile (a retryable failure sets `next_attempt_at`, a person
turns auto-send off or regenerates the row as an AI draft), so the claim's conditional UPDATE
applies the same terms again and the read's answer is never what lets a row through.
"""

import datetime

from django.conf import settings
from django.db.models import Q

from enrollments.models import Enrollment, ScheduledStep
from sequences.models import Sequence


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
