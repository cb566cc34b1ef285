"""For tests that start a real server process on 127.0.0.1 and call it over HTTP, or call the WSGI
application in-process."""

import contextlib
import socket
import time
import urllib.error
import urllib.request

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_served(base: str, *, seconds: float = 20) -> None:
    """Return once `base`/healthz answers 200, or after `seconds`: the caller asserts on what it says."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return
        except (urllib.error.URLError, ConnectionError):  # HTTPError (503) too: not up yet
            time.sleep(0.1)


@contextlib.contextmanager
def wsgi_in_the_test_transaction():
    """Calls into daylit.wsgi.application from the test itself (schemathesis, httpx's WSGI transport).

    Like Django's test client: the WSGI handler must not close the connection holding the test's
    transaction at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
