"""Request ids: every request gets one (the caller's X-Request-ID when it is sane, else a new one).

The id goes on the response's X-Request-ID header and, through `daylit.observability.request_id_var`,
into every log line written while the request is served. One access line per request
(`daylit.request`) records method, path, status and duration.

Being outermost, it also keeps the API's one error shape for errors Django answers itself: under
/api/, any 4xx/5xx that is not JSON (the debug 404 and 500 pages with DEBUG on, DisallowedHost from
CommonMiddleware, the CSRF and 403 pages) becomes `{"detail", "code"}` with the same status and headers.
Only this position sees the answers Django builds for exceptions raised in every later middleware.
"""

import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponseBase

from daylit.errors import json_error
from daylit.observability import request_id_var

access_logger = logging.getLogger("daylit.request")
# A caller's id is echoed into headers and logs: keep it short and free of anything that could forge lines.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(self.header, "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = api_error_as_json(request, self.get_response(request))
            response[self.header] = request_id
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def api_error_as_json(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """The same error in the API's shape when Django, not a DRF view, answered a path under /api/."""
    under_api = request.path_info == "/api" or request.path_info.startswith("/api/")
    is_json = response.get("Content-Type", "").split(";")[0].strip() == "application/json"
    if not under_api or response.status_code < 400 or is_json:
        return response
    replacement = json_error(response.status_code, response.reason_phrase)
    for header, value in response.items():  # Allow, Vary, security headers, ...
        if header.lower() not in ("content-type", "content-length"):
            replacement[header] = value
    replacement.cookies = response.cookies
    return replacement
