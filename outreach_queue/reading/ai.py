"""Classify a person's reply with one structured-output call to the AI-drafts provider.

Uses the same OpenAI-compatible settings as AI drafts (`AI_API_KEY`, `AI_BASE_URL`, `AI_MODEL`,
`AI_TIMEOUT_SECONDS`; `sequences/drafting/generate.py`). The contract is that this never raises:
without a provider, on a timeout, an error status, or an answer that is not JSON of the agreed
shape, the reading is `other` with no dates, and the reply pipeline goes on (a person takes over,
which is what `other` means). Each failure is logged with its reason, never swallowed silently.
"""

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

PROMPT_VERSION = "classify_v1"
_PROMPT_FILE = Path(__file__).parent / "prompts" / f"{PROMPT_VERSION}.txt"

Classification = Literal[
    "promise", "dispute", "paid_claim", "wrong_contact", "unsubscribe", "question", "other"
]
DisputeReason = Literal["pricing", "not_received", "quality", "duplicate", "already_paid", "other"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    classification: Classification
    confidence: float = Field(ge=0, le=1)
    promised_date: datetime.date | None = None
    # Bounded as the promise API bounds an amount: 12 digits, 2 decimals, not negative.
    promised_amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    dispute_reason: DisputeReason | None = None


@dataclass(frozen=True)
class AiReading:
    classification: str
    confidence: float
    promised_date: datetime.date | None
    promised_amount: Decimal | None
    dispute_reason: str | None
    source: str  # "ai" when the provider answered, "none" when it was not asked or failed


UNREAD = AiReading("other", 0.0, None, None, None, "none")


def ai_configured() -> bool:
    return bool(getattr(settings, "AI_API_KEY", ""))


@cache
def _system_prompt() -> str:
    return _PROMPT_FILE.read_text(encoding="utf-8")


def _ask(*, subject: str, text: str, received_on: datetime.date) -> str | None:
    import openai  # ~1 s to import; only replies that reach the AI pay it

    client = openai.OpenAI(
        api_key=settings.AI_API_KEY,
        base_url=settings.AI_BASE_URL,
        timeout=settings.AI_TIMEOUT_SECONDS,
        max_retries=0,  # a reply is read once, inline; a failure is `other`, a person reviews it
    )
    completion = client.chat.completions.create(
        model=settings.AI_MODEL,
        messages=[
            {"role": "system", "content": _system_prompt()},
            {"role": "user", "content": f"RECEIVED: {received_on.isoformat()}\nSUBJECT: {subject}\n\n{text}"},
        ],
        response_format={"type": "json_object"},
        temperature=0,
    )
    choice = completion.choices[0] if completion.choices else None
    return choice.message.content if choice is not None else None


def _reading(answer: _Answer, *, received_on: datetime.date) -> AiReading:
    promised_date = answer.promised_date
    if promised_date is not None and promised_date < received_on:
        promised_date = None  # a promise to pay in the past is a misreading, not a promise
    return AiReading(
        classification=answer.classification,
        confidence=answer.confidence,
        promised_date=promised_date,
        promised_amount=answer.promised_amount,
        dispute_reason=answer.dispute_reason if answer.classification == "dispute" else None,
        source="ai",
    )


def ai_classify(*, subject: str, text: str, received_on: datetime.date) -> AiReading:
    """The provider's reading of a reply that the rules did not find automatic; `UNREAD` on failure."""
    if not ai_configured() or not text.strip():
        return UNREAD
    import openai

    try:
        raw = _ask(subject=subject, text=text, received_on=received_on)
    except openai.OpenAIError as exc:  # timeouts, connection errors, 4xx and 5xx alike
        logger.warning("reply classification failed: %s: %s", type(exc).__name__, exc)
        return UNREAD
    if not raw:
        logger.warning("reply classification failed: the provider returned no content")
        return UNREAD
    try:
        answer = _Answer.model_validate_json(raw)
    except ValidationError as exc:
        logger.warning("reply classification failed: malformed answer: %s", exc.errors()[0]["msg"])
        return UNREAD
    return _reading(answer, received_on=received_on)
