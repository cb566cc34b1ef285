"""Rendering a step's three templates with a context from `build_context`."""

from __future__ import annotations

import decimal
import functools
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
from jinja2.exceptions import UndefinedError

from sequences.models import SUBJECT_MAX_LENGTH
from sequences.templating.sandbox import FIELD_HTML, FIELD_PLAIN, FIELD_SUBJECT, HTML_ENV, TEXT_ENV
from sequences.templating.validation import parse_within_limits

MAX_OUTPUT_LENGTH = 1_000_000  # characters one rendered field may have


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_plain: str
    body_html: str


class TemplateRenderError(Exception):
    """A template could not be rendered; `str(e)` is the human reason stored on a failed row."""


class _MissingInvoice:
    """Stands in for `invoice` when there is none: false in `{% if %}`, a clear error when read."""

    MESSAGE = "the customer has no open invoice, so 'invoice' cannot be rendered"

    def __bool__(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise UndefinedError(self.MESSAGE)

    def __getitem__(self, name: Any) -> Any:
        raise UndefinedError(self.MESSAGE)

    def __str__(self) -> str:
        raise UndefinedError(self.MESSAGE)

    __html__ = __str__


@functools.lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    env = HTML_ENV if html else TEXT_ENV
    return env.from_string(parse_within_limits(source, env))


_RENDER_FAILURES = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
    SyntaxError,
)


def _render_one(field: str, source: str, context: dict, *, html: bool) -> str:
    if not source:
        return ""
    try:
        chunks, length = [], 0
        for chunk in _compiled(source, html).generate(context):
            length += len(chunk)
            if length > MAX_OUTPUT_LENGTH:
                raise TemplateRenderError(
                    f"{field}: the rendered text is longer than {MAX_OUTPUT_LENGTH} characters"
                )
            chunks.append(chunk)
        return "".join(chunks)
    except _RENDER_FAILURES as exc:
        raise TemplateRenderError(f"{field}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The failure as a phrase a person reads on the row. Decimal's signals stringify as their own
    repr (`[<class 'decimal.DivisionByZero'>]`), which says nothing to support staff or customers."""
    if isinstance(exc, ZeroDivisionError):  # decimal.DivisionByZero and DivisionUndefined too
        return "the template divides by zero"
    if isinstance(exc, decimal.InvalidOperation):
        return "the template does arithmetic that has no result (such as 0 divided by 0)"
    if isinstance(exc, OverflowError | decimal.Overflow):
        return "a number in the template is too large"
    message = getattr(exc, "message", None) or str(exc)
    if not message or message.startswith(("[<class", "<class")):
        return f"the template could not be rendered ({type(exc).__name__})"
    return message


def render_step(step, context: dict) -> RenderedEmail:
    """Render a step's three templates with `context` (from `build_context`).

    Raises TemplateRenderError (message names the field) for a template that does not parse, reads
    a missing value (e.g. `invoice` when there is none), trips the sandbox, or gives a subject longer
    than SUBJECT_MAX_LENGTH. An empty template renders as "" (an empty plain body is allowed when the
    HTML body has the content).
    """
    if context.get("invoice") is None:
        context = {**context, "invoice": _MissingInvoice()}
    # A subject is one line: newlines a template produced (loops, blocks) become single spaces.
    subject = " ".join(_render_one(FIELD_SUBJECT, step.subject_template, context, html=False).split())
    if len(subject) > SUBJECT_MAX_LENGTH:
        length = len(subject)
        raise TemplateRenderError(
            f"{FIELD_SUBJECT}: the rendered subject is {length} characters; at most {SUBJECT_MAX_LENGTH}"
        )
    return RenderedEmail(
        subject=subject,
        body_plain=_render_one(FIELD_PLAIN, step.body_plain_template, context, html=False),
        body_html=_render_one(FIELD_HTML, step.body_html_template, context, html=True),
    )
