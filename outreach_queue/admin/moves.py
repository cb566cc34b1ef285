"""A person's moves on queue rows from admin, each through the queue's services, each with its outcome
told in words (one message per row that did not do what was asked).

Sending is synchronous here: the page answers with what happened to each row (sent, failed and why,
refused and why) instead of "handed to workers" while the reason ends in a worker log. Nylas calls are
bounded by NYLAS_TIMEOUT_SECONDS, and so is the number of rows one click may send.
"""

from dataclasses import dataclass

from django.contrib import messages

from daylit.errors import DomainError
from enrollments.models import ScheduledStep
from outreach_queue import services
from outreach_queue.admin.display import readable_error

Status = ScheduledStep.Status
# One click sends at most this many rows: each may wait up to NYLAS_TIMEOUT_SECONDS for Nylas.
MAX_SENDS_PER_CLICK = 20


@dataclass(frozen=True)
class Outcome:
    done: bool
    text: str


def _who(row: ScheduledStep) -> str:
    return f"{row.customer.name}, {row.step.label}"


def row_send(row: ScheduledStep) -> Outcome:
    """Send (or retry) one ready reminder now, acting for the company (member None: the sequence's
    sender, a shared connection, or the connection of the row's earlier attempts)."""
    try:
        after = services.queue_row_send(row=row, member=None)
    except DomainError as exc:
        return Outcome(False, f"{_who(row)}: not sent. {exc.detail}")
    if after.status == Status.SENT:
        return Outcome(True, f"{_who(row)}: sent to {after.to_email}.")
    if after.status == Status.FAILED:
        return Outcome(
            False, f"{_who(row)}: the send failed and will not be retried. {readable_error(after.error)}"
        )
    if after.status == Status.SENDING:
        return Outcome(False, f"{_who(row)}: someone else is sending it right now; refresh in a moment.")
    if after.status == Status.READY:
        return Outcome(False, f"{_who(row)}: not sent, another send was in progress. {after.error}".strip())
    return Outcome(False, f"{_who(row)}: not sent, it is {after.get_status_display().lower()}.")


def row_retry_failed(row: ScheduledStep) -> Outcome:
    """A row that failed before any send: promoted again now, and the page says how that went."""
    try:
        after = services.queue_row_retry(row=row)
    except DomainError as exc:
        return Outcome(False, f"{_who(row)}: not retried. {exc.detail}")
    if after.status == Status.READY:
        return Outcome(True, f"{_who(row)}: ready again, waiting to be sent.")
    return Outcome(False, f"{_who(row)}: failed again. {readable_error(after.error)}")


def row_cancel(row: ScheduledStep) -> Outcome:
    try:
        after = services.queue_row_cancel(row=row)
    except DomainError as exc:
        return Outcome(False, f"{_who(row)}: not cancelled. {exc.detail}")
    return Outcome(after.status == Status.CANCELLED, f"{_who(row)}: cancelled.")


def row_complete(row: ScheduledStep, notes: str = "") -> Outcome:
    try:
        services.queue_row_complete(row=row, notes=notes)
    except DomainError as exc:
        return Outcome(False, f"{_who(row)}: not completed. {exc.detail}")
    return Outcome(True, f"{_who(row)}: marked done.")


def report(request, modeladmin, outcomes: list[Outcome], *, verb: str) -> None:
    """One success line counting what worked, and one error line per row that did not."""
    done = [o for o in outcomes if o.done]
    if len(outcomes) == 1:
        level = messages.SUCCESS if done else messages.ERROR
        modeladmin.message_user(request, outcomes[0].text, level)
        return
    if done:
        modeladmin.message_user(request, f"{len(done)} of {len(outcomes)} row(s) {verb}.", messages.SUCCESS)
    for outcome in outcomes:
        if not outcome.done:
            modeladmin.message_user(request, outcome.text, messages.ERROR)
    if not outcomes:
        modeladmin.message_user(request, f"No row was {verb}: none was selected.", messages.WARNING)
