"""How a failed Nylas call (grant revoke, code exchange) is answered: one mapping, used by services.

Rate limits and outages may pass (502/503, try again); a refusal will not (Nylas said no, and why).
"""

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from nylas.models.errors import AbstractNylasApiError, NylasSdkTimeoutError

from daylit.errors import BadRequest, DomainError, UpstreamError

NYLAS_CALL_ERRORS = (AbstractNylasApiError, NylasSdkTimeoutError, requests.RequestException, ValueError)


class NylasNotConfigured(DomainError):
    status_code = 503
    default_detail = (
        "Nylas is not configured on this server (NYLAS_CLIENT_ID and NYLAS_API_KEY are required)."
    )
    default_code = "nylas_not_configured"


def nylas_error_to_domain(exc: Exception, *, action: str) -> DomainError:
    """`action` reads like "revoke the grant". JSONDecodeError (a proxy's HTML page) is a ValueError."""
    if isinstance(exc, AbstractNylasApiError):
        status = exc.status_code or 502
        if status == 429:
            return UpstreamError.passing(
                f"Nylas rate-limited the request to {action}; try again later.",
                rate_limited=True,
                retry_after=retry_after_seconds(exc.headers),
            )
        if status >= 500:
            return UpstreamError.passing(f"Nylas failed to {action} (HTTP {status}); try again.")
        return BadRequest(f"Nylas refused to {action} (HTTP {status}): {exc}", code="nylas_refused")
    if isinstance(exc, NylasSdkTimeoutError):
        return UpstreamError.passing(f"Nylas timed out while trying to {action}; try again.")
    return UpstreamError.passing(f"Could not reach Nylas to {action}: {exc.__class__.__name__}; try again.")


MAX_RETRY_AFTER_SECONDS = 86_400


def retry_after_seconds(headers: Mapping[str, Any] | None) -> int | None:
    """Retry-After as whole seconds (RFC 9110): delta-seconds, or an HTTP date (a past one is 0).

    None when absent or unreadable; capped at a day (a server's absurd value must not overflow our clocks).
    The one parser for Nylas and AI provider responses.
    """
    raw = (headers or {}).get("Retry-After")
    if raw is None:
        return None
    raw = str(raw).strip()
    if raw.isascii() and raw.isdigit():
        return min(int(raw), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; RFC 9110 dates are always GMT
        when = when.replace(tzinfo=UTC)
    return min(max(0, int((when - datetime.now(UTC)).total_seconds())), MAX_RETRY_AFTER_SECONDS)
