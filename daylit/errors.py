"""One error shape for the whole API.

400 from serializers keeps DRF's field map (`{"field": ["message"]}`), flat: an error inside a list
names its item (`{"customer_ids": ["Item 2: Must be a valid UUID."]}`). Every other error is
`{"detail": "...", "code": "..."}`, plus `retry_after` (seconds, also the Retry-After header) when the
client should wait. The OpenAPI components `ValidationError` and `Error` (daylit.schema) are these.
Domain exceptions raised by services map to their status here, so views never translate errors
themselves.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class DomainError(exceptions.APIException):
    """Base of the errors services raise; each subclass is one status code."""


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class BadRequest(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You may not do this."
    default_code = "forbidden"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


class UpstreamError(DomainError):
    """The email provider failed in a way that may pass: 502, or 503 when it rate-limited us."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The email provider failed; try again."
    default_code = "upstream_error"

    def __init__(
        self, detail=None, code=None, *, status_code: int | None = None, retry_after: int | None = None
    ):
        super().__init__(detail, code)
        if status_code is not None:
            self.status_code = status_code
        self.retry_after = retry_after

    @classmethod
    def passing(cls, detail: str, *, rate_limited: bool = False, retry_after: int | None = None):
        """The one mapping of an upstream failure that may pass (Nylas, the AI provider) to HTTP: a
        rate limit is 503 `rate_limited` (with Retry-After when known), anything else 502."""
        if rate_limited:
            return cls(detail, "rate_limited", status_code=503, retry_after=retry_after)
        return cls(detail, "upstream_error", retry_after=retry_after)


class Contention(DomainError):
    """PostgreSQL undid this request's transaction to settle a conflict with a concurrent one (a deadlock,
    a serialization failure): nothing of it was saved, and the same request can simply be sent again."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Another change to the same records ran at the same moment and the database undid this one: "
        "nothing was saved. Send the request again."
    )
    default_code = "contention"
    retry_after = 1


# deadlock_detected, serialization_failure: the transaction was rolled back and may be retried as is.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def violates(exc: Exception, constraint: str) -> bool:
    """Whether an IntegrityError came from the named constraint (named in PostgreSQL's diagnostics)."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_messages(exc))
    elif isinstance(exc, DataError):
        # A value the database refuses (out of range, bad encoding) is the client's input, not our crash.
        logger.info("DataError answered as 400: %s", exc)
        exc = BadRequest("A value is out of range or not valid for its field.", code="invalid_value")
    elif isinstance(exc, OperationalError) and _sqlstate(exc) in RETRYABLE_SQLSTATES:
        logger.warning("answered 503 contention: %s", exc)
        exc = Contention()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {field: _flat_messages(messages) for field, messages in errors.items()}
        return response
    detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    response.data = {"detail": str(detail), "code": code}
    retry_after = getattr(exc, "retry_after", None) or getattr(exc, "wait", None)
    if retry_after:
        # DRF's Throttled sets the header from `wait` rounded up; the body says the same.
        response["Retry-After"] = response.get("Retry-After") or str(int(retry_after))
        response.data["retry_after"] = int(response["Retry-After"])
    return response


def _sqlstate(exc: Exception) -> str | None:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None)


def _flat_messages(messages, prefix: str = "") -> list[str]:
    """DRF nests the errors of list items and nested objects; one flat list of strings is easier to type."""
    if isinstance(messages, dict):
        items = messages.items()
    elif isinstance(messages, list):
        if all(not isinstance(m, dict | list) for m in messages):
            return [f"{prefix}{m}" for m in messages]
        items = enumerate(messages)
    else:
        return [f"{prefix}{messages}"]
    flat = []
    for key, nested in items:
        label = f"Item {key}" if isinstance(key, int) or str(key).isdigit() else str(key)
        flat.extend(_flat_messages(nested, f"{prefix}{label}: "))
    return flat


def _django_messages(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}


# Errors Django answers itself (URL handlers, debug pages, CSRF), with DRF's codes for the same statuses.
_HTTP_ERRORS = {
    400: ("Bad request.", "bad_request"),
    403: ("You do not have permission to perform this action.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    500: ("Internal server error.", "server_error"),
}


def json_error(status_code: int, reason: str = "Error") -> JsonResponse:
    """`{"detail", "code"}` for a status no DRF view answered; other statuses use `reason`, the phrase."""
    detail, code = _HTTP_ERRORS.get(status_code, (f"{reason}.", reason.lower().replace(" ", "_")))
    return JsonResponse({"detail": detail, "code": code}, status=status_code)


def json_not_found(request, exception=None):
    """handler404: URLs that do not resolve (including non-UUID ids) answer in the API's error shape."""
    return json_error(404)


def json_server_error(request):
    return json_error(500)


def json_bad_request(request, exception=None):
    return json_error(400)


__all__ = [
    "BadRequest",
    "Conflict",
    "DomainError",
    "Forbidden",
    "NotFound",
    "UpstreamError",
    "exception_handler",
    "json_error",
]
