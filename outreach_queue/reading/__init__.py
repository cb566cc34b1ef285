"""Reading a reply: what the customer wrote, and what it is (SPEC "Replies that act").

Pure: no database, no writes. `read_reply` strips quoted history (`text.py`), lets the rules decide
first whether the message is an auto-reply and when the sender is back (`rules.py`, `dates.py`), and
only for the rest asks the AI provider (`ai.py`), which may fail without failing the reading.
The reply pipeline (`outreach_queue/services/replies.py`) records the result and acts on it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from outreach_queue.reading.ai import PROMPT_VERSION, ai_classify
from outreach_queue.reading.dates import local_now
from outreach_queue.reading.dates import return_date as read_return_date
from outreach_queue.reading.phrases import LANGUAGES
from outreach_queue.reading.rules import auto_reply_finding, normalise_headers
from outreach_queue.reading.text import reply_text

__all__ = ["ReplyReading", "read_reply"]


@dataclass(frozen=True)
class ReplyReading:
    text: str  # the customer's own words, quoted history and signature stripped, at most 2,000 chars
    classification: str  # auto_reply|promise|dispute|paid_claim|wrong_contact|unsubscribe|question|other
    confidence: float  # 0..1; 1.0 for a rule, the model's own for the AI, 0.0 when unread
    return_date: datetime.date | None  # auto_reply only: the end of absence as written (docs/replies.md)
    promised_date: datetime.date | None
    promised_amount: Decimal | None
    dispute_reason: str | None
    source: str  # "rules" | "ai" | "none"
    prompt_version: str  # the AI prompt's version when source is "ai", else ""
    rule: str = ""  # which rule found an auto-reply ("header:auto-submitted", "phrase:de", ...)


def _return_date(
    *, subject: str, text: str, language: str | None, received_at: datetime.datetime, time_zone: str
) -> datetime.date | None:
    # The subject can carry the date too ("Out of office until 15 March").
    body = f"{subject}\n{text}"
    languages = [language] if language else list(LANGUAGES)
    for candidate in languages:
        day = read_return_date(text=body, language=candidate, received_at=received_at, time_zone=time_zone)
        if day is not None:
            return day
    return None


def read_reply(
    *,
    subject: str,
    text: str,
    html: str = "",
    headers: dict[str, str] | Iterable[tuple[str, str]] | None,
    received_at: datetime.datetime,
    time_zone: str = "UTC",
) -> ReplyReading:
    """Read one inbound message. Never raises on the message's content or on the AI provider.

    `headers` are the message's headers (names in any case; a list keeps repeated ones);
    `received_at` an aware datetime; `time_zone` the schedule's zone, in which "Monday" is read.
    """
    subject = (subject or "")[:1000]
    stripped = reply_text(text=text or "", html=html or "")
    finding = auto_reply_finding(subject=subject, text=stripped, headers=normalise_headers(headers))
    if finding is not None:
        return ReplyReading(
            text=stripped,
            classification="auto_reply",
            confidence=1.0,
            return_date=_return_date(
                subject=subject,
                text=stripped,
                language=finding.language,
                received_at=received_at,
                time_zone=time_zone,
            ),
            promised_date=None,
            promised_amount=None,
            dispute_reason=None,
            source="rules",
            prompt_version="",
            rule=finding.reason,
        )
    received_on = local_now(received_at, time_zone).date()
    ai = ai_classify(subject=subject, text=stripped, received_on=received_on)
    return ReplyReading(
        text=stripped,
        classification=ai.classification,
        confidence=ai.confidence,
        return_date=None,
        promised_date=ai.promised_date,
        promised_amount=ai.promised_amount,
        dispute_reason=ai.dispute_reason,
        source=ai.source,
        prompt_version=PROMPT_VERSION if ai.source == "ai" else "",
    )
