"""Structured logs: one JSON object per line, each with the request id, and secrets redacted.

`RequestIdFilter` stamps every record with the id of the request being served (set by
`daylit.middleware.RequestIdMiddleware` in a context variable, so it follows the request through
services and into any thread that copies the context). `RedactSecretsFilter` runs on the handler, so
every record that reaches output is cleaned, whichever logger made it: API keys (`dl_...`),
`Authorization` values, bearer tokens, grant ids (in key=value pairs, JSON and Nylas URL paths) and the
configured provider keys are replaced by `[redacted]`.
"""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

REDACTED = "[redacted]"
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Keys whose values are secrets wherever they appear as `key=value`, `key: value` or `"key": "value"`.
SECRET_KEYS = (
    "authorization",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "client_secret",
    "code",  # OAuth authorization codes in callback query strings
    "grant_id",
    "grant",
    "password",
    "secret",
    "token",
    "x-api-key",
)
_KEYS = "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True))
_PATTERNS = [
    # Our API keys, wherever they appear.
    (re.compile(r"\bdl_[A-Za-z0-9_\-]{8,}"), REDACTED),
    # "Token abc", "Bearer abc", "Basic abc" (an Authorization value without its header name).
    (re.compile(r"\b(Token|Bearer|Basic)\s+[A-Za-z0-9_\-\.=:+/]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # Nylas paths carry the grant id: /v3/grants/<grant>/messages/send.
    (re.compile(r"(/grants/)[^/\s\"'?]+"), r"\1" + REDACTED),
    # "key": "value" (JSON) and 'key': 'value' (Python reprs).
    (
        re.compile(rf"([\"']({_KEYS})[\"']\s*:\s*)([\"'])(?:(?!\3).)*\3", re.IGNORECASE),
        r"\1\3" + REDACTED + r"\3",
    ),
    # key=value and key: value in free text and headers.
    (re.compile(rf"(\b({_KEYS})\b\s*[=:]\s*)(?![\"'\[])[^\s,;&\"')}}]+", re.IGNORECASE), r"\1" + REDACTED),
]


def _configured_secrets() -> list[str]:
    """Literal secret values from settings (provider keys); read lazily so tests may change them."""
    try:
        from django.conf import settings

        names = ("NYLAS_API_KEY", "NYLAS_CLIENT_SECRET", "NYLAS_WEBHOOK_SECRET", "AI_API_KEY", "SECRET_KEY")
        return [v for v in (getattr(settings, n, "") for n in names) if isinstance(v, str) and len(v) >= 6]
    except Exception:  # settings not configured yet (early import): nothing literal to hide
        return []


def redact(text: str) -> str:
    """`text` with every secret this module knows about replaced by `[redacted]`."""
    for secret in _configured_secrets():
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs 4xx/5xx after the middleware has returned; it passes the request along.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Formats the message once, redacts it, and freezes it (args cleared) so no handler sees the raw one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# LogRecord attributes that are not "extra" fields; `request` (django.request's HttpRequest) is dropped:
# its repr carries the query string, and the request id already ties the line to the request.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "request"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        # Extras may carry secrets too (e.g. a header dict): the whole line goes through redact().
        return redact(json.dumps(entry, default=str))
