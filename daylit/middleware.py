"""Request ids: every request gets one (the caller's X-Request-ID when it is sane, else a new one).

The id goes on the response's X-Request-ID header and, through `daylit.observability.request_id_var`,
into every log line written while the request is served. One access line per request
(`daylit.request`) records method, path, status and duration.
"""

import logging
import re
import time
import uuid

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
            response = self.get_response(request)
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
