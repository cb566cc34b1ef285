"""For tests that start a real server process on 127.0.0.1 and call it over HTTP."""

import socket
import time
import urllib.error
import urllib.request


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
