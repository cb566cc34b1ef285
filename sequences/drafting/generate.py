"""Generate one reminder draft through an OpenAI-compatible chat API.

`generate_draft` makes exactly one provider call (the SDK's own retries are off: the caller, a
Celery task or a person, owns retrying) and either returns a checked draft or raises:
`GenerationUnavailable` (timeout, connection error, 429, 5xx: worth retrying later),
`DraftRejected` (the answer is not valid JSON of the agreed shape, or fails the fact checks), or
`GenerationNotConfigured` (no AI_API_KEY).
"""

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connections.upstream import retry_after_seconds
from sequences.drafting.checks import check_facts, sanitize_html
from sequences.templating import RenderedEmail

if TYPE_CHECKING:
    import openai

PROMPT_VERSION = "reminder-v1"
_PROMPT_FILE = Path(__file__).parent / "prompts" / f"{PROMPT_VERSION}.txt"


class GenerationError(Exception):
    """A draft could not be produced; `str(e)` is the reason stored on the row."""

    retryable = False


class GenerationNotConfigured(GenerationError):
    def __init__(self) -> None:
        super().__init__("AI generation is not configured (set AI_API_KEY)")


class GenerationUnavailable(GenerationError):
    retryable = True

    def __init__(self, reason: str, *, retry_after: float | None = None, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class DraftRejected(GenerationError):
    pass


@dataclass(frozen=True)
class GeneratedDraft:
    subject: str
    body_plain: str
    body_html: str
    prompt_version: str


class _DraftShape(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    subject: str = Field(min_length=1, max_length=200)
    body_plain: str = Field(min_length=1, max_length=20_000)
    body_html: str = Field(default="", max_length=40_000)


def generation_configured() -> bool:
    return bool(settings.AI_API_KEY)


@cache
def _system_prompt() -> str:
    return _PROMPT_FILE.read_text(encoding="utf-8")


def _client() -> "openai.OpenAI":
    import openai

    return openai.OpenAI(
        api_key=settings.AI_API_KEY,
        base_url=settings.AI_BASE_URL,
        timeout=settings.AI_TIMEOUT_SECONDS,
        max_retries=0,
    )


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _user_message(
    *, instructions: str, context: dict, frame: RenderedEmail | None, history: list[dict]
) -> str:
    parts = [
        f"INSTRUCTIONS:\n{instructions.strip()}",
        "CONTEXT:\n" + json.dumps(context, default=_plain, indent=2),
    ]
    if frame is not None:
        parts.append(f"FRAME:\nSubject: {frame.subject}\n\n{frame.body_plain or frame.body_html}")
    for index, email in enumerate(history, start=1):
        parts.append(f"EARLIER EMAIL {index}:\nSubject: {email['subject']}\n\n{email['body_plain']}")
    return "\n\n".join(parts)


def _call_provider(messages: list[dict]) -> str:
    # Imported here: the SDK's types take ~1 s to import, paid by every process (web, worker, beat,
    # each manage.py command) though only drafting calls it.
    import openai

    try:
        completion = _client().chat.completions.create(
            model=settings.AI_MODEL,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=0.2,
        )
    except openai.APITimeoutError:
        raise GenerationUnavailable("the AI provider timed out") from None
    except openai.APIConnectionError as exc:
        raise GenerationUnavailable(f"could not reach the AI provider: {exc}") from None
    except openai.RateLimitError as exc:
        raise GenerationUnavailable(
            "the AI provider is rate limiting (429)",
            retry_after=retry_after_seconds(exc.response.headers),
            rate_limited=True,
        ) from None
    except openai.APIStatusError as exc:
        if exc.status_code >= 500:
            raise GenerationUnavailable(f"the AI provider failed ({exc.status_code})") from None
        raise GenerationError(
            f"the AI provider refused the request ({exc.status_code}): {exc.message}"
        ) from None
    choice = completion.choices[0] if completion.choices else None
    if choice is None or not choice.message.content:
        raise DraftRejected("the AI provider returned no content")
    return choice.message.content


def generate_draft(
    *, instructions: str, context: dict, frame: RenderedEmail | None = None, history: list[dict] | None = None
) -> GeneratedDraft:
    """One checked draft for `instructions` over the template `context` (plain data only).

    `frame` is the step's rendered templates when it has any; `history` the enrollment's earlier sent
    emails (`subject`, `body_plain`) when the sequence threads follow-ups. No transaction may be open
    around this call: it waits on the network.
    """
    if not generation_configured():
        raise GenerationNotConfigured()
    messages = [
        {"role": "system", "content": _system_prompt()},
        {
            "role": "user",
            "content": _user_message(
                instructions=instructions, context=context, frame=frame, history=history or []
            ),
        },
    ]
    raw = _call_provider(messages)
    try:
        shape = _DraftShape.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise DraftRejected(f"the AI answer is not a valid draft ({where}: {first['msg']})") from None
    if "\n" in shape.subject:
        raise DraftRejected("the AI answer is not a valid draft (subject: must be one line)")
    body_html = sanitize_html(shape.body_html)
    problems = check_facts(texts=[shape.subject, shape.body_plain, body_html], context=context)
    if problems:
        raise DraftRejected("draft rejected: " + "; ".join(problems))
    return GeneratedDraft(
        subject=shape.subject, body_plain=shape.body_plain, body_html=body_html, prompt_version=PROMPT_VERSION
    )
