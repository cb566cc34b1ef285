"""How a failed Nylas call (grant revoke, code exchange) is answered: one mapping, used by services.

Rate limits and outages may pass (502/503, try again); a refusal will not (Nylas said no, and why).
"""

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
            retry_after = _retry_after(exc)
            return UpstreamError(
                f"Nylas rate-limited the request to {action}; try again later.",
                status_code=503,
                retry_after=retry_after,
            )
        if status >= 500:
            return UpstreamError(f"Nylas failed to {action} (HTTP {status}); try again.")
        return BadRequest(f"Nylas refused to {action} (HTTP {status}): {exc}", code="nylas_refused")
    if isinstance(exc, NylasSdkTimeoutError):
        return UpstreamError(f"Nylas timed out while trying to {action}; try again.")
    return UpstreamError(f"Could not reach Nylas to {action}: {exc.__class__.__name__}; try again.")


def _retry_after(exc: AbstractNylasApiError) -> int | None:
    raw = (exc.headers or {}).get("Retry-After")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
