"""How a queue row reads to support staff: a status badge, the due time in the row's own zone, the error
as a sentence."""

import re
import zoneinfo

from django.utils.html import format_html
from django.utils.text import Truncator

from enrollments.models import ScheduledStep

Status = ScheduledStep.Status
# Errors stored before rendering said it in words (sequences.templating.rendering._reason).
_EXCEPTION_REPR = re.compile(r"\[?<class '(?:[\w.]+\.)?(\w+)'>\]?")
_REPR_SENTENCES = {
    "DivisionByZero": "the template divides by zero",
    "DivisionUndefined": "the template divides zero by zero",
    "InvalidOperation": "the template does arithmetic that has no result",
}


def waiting_to_retry(row: ScheduledStep) -> bool:
    """A ready reminder whose last send failed in a way worth trying again (the reason is in `error`)."""
    return row.status == Status.READY and row.attempts > 0 and bool(row.error)


def status_badge(row: ScheduledStep):
    if waiting_to_retry(row):
        return format_html(
            '<span class="badge badge-retrying" title="{}">ready · send failed</span>', row.error
        )
    return format_html('<span class="badge badge-{}">{}</span>', row.status, row.get_status_display())


def local_time(row: ScheduledStep, moment=None):
    """`moment` (default: when the row is due) on the wall clock the row was planned in: the
    enrollment's zone (the sequence's, or the customer's), named, so nobody reads UTC as local."""
    moment = moment or row.scheduled_for
    if moment is None:
        return "—"
    zone_name = row.enrollment.time_zone or row.sequence.timezone
    local = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    return format_html('{}<br><span class="zone">{}</span>', local.strftime("%a %d %b %Y, %H:%M"), zone_name)


# connections.sending's reasons for an answer from Nylas: "Nylas 503 api_error: <Nylas's message>".
_NYLAS_ANSWER = re.compile(r"^Nylas (\d{3}) (\w+): (.*)$", re.DOTALL)


def readable_error(text: str) -> str:
    """The row's error for people: exception reprs left by older code become words, and a provider's
    answer says who answered what."""

    def word(match: re.Match) -> str:
        name = match.group(1)
        return _REPR_SENTENCES.get(name, f"an error ({name})")

    text = _EXCEPTION_REPR.sub(word, text)
    answer = _NYLAS_ANSWER.match(text)
    if answer:
        status, kind, message = answer.groups()
        return f"Nylas answered HTTP {status} ({kind}): {message}"
    return text


def short(text: str, chars: int) -> str:
    return Truncator(text).chars(chars)
