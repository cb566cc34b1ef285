"""A fake Nylas API v3 on 127.0.0.1 that honours Idempotency-Key like the real one.

Only `POST /v3/grants/{grant}/messages/send` is served. A key seen before replays the cached answer
(`Idempotent-Response: true`), a key still in flight answers 409 `api.concurrent_idempotent_request`,
the same key with another payload answers 409 `api.invalid_idempotent_request`. Scripted answers
(`fail_next`) let a test make the next request fail (not cached, so a retry may deliver) or deliver
and then hang past the client's timeout (cached: the outcome is unknown to the caller).
`latency` makes every delivery take that long, as a real provider's does (bench/bench_send.py);
each request and delivery records `at`, the time.monotonic() it arrived or went out. `on_deliver`, if
set, is called with each delivered email's body before the answer leaves: a test changes the world
there while the sender waits for Nylas.
"""

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Scripted:
    status: int = 500
    body: bytes | dict | None = None
    headers: dict = field(default_factory=dict)
    deliver_then_hang: float = 0.0  # deliver, cache, then sleep this long before answering


class FakeNylas:
    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.on_deliver: Callable[[dict], None] | None = None
        self.requests: list[dict] = []  # every send request: grant, key, body
        self.deliveries: list[dict] = []  # emails that actually "went out"
        self._cache: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._in_flight: set[tuple[str, str]] = set()
        self._script: list[Scripted] = []
        self._threads_by_message: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits out a poll of serve_forever (0.5 s by default) on every teardown.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> "FakeNylas":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        """Forget every request, delivery and cached key (a benchmark's next phase starts afresh)."""
        with self._lock:
            self.requests.clear()
            self.deliveries.clear()
            self._cache.clear()

    def fail_next(
        self,
        status: int = 500,
        body: bytes | dict | None = None,
        headers: dict | None = None,
        deliver_then_hang: float = 0.0,
    ) -> None:
        if body is None and not deliver_then_hang:
            body = {"request_id": "req-fail", "error": {"type": "api_error", "message": f"scripted {status}"}}
        self._script.append(Scripted(status, body, headers or {}, deliver_then_hang))

    def _handle_send(self, grant: str, key: str, payload: bytes) -> tuple[int, dict, bytes, float]:
        body = json.loads(payload or b"{}")
        cache_key = (grant, key)
        with self._lock:
            self.requests.append({"grant": grant, "key": key, "body": body, "at": time.monotonic()})
            if key and cache_key in self._cache:
                cached_payload, answer = self._cache[cache_key]
                if cached_payload != payload:
                    return 409, {}, _error("api.invalid_idempotent_request", "payload differs"), 0
                return 200, {"Idempotent-Response": "true"}, answer, 0
            if key and cache_key in self._in_flight:
                return 409, {}, _error("api.concurrent_idempotent_request", "in flight"), 0
            scripted = self._script.pop(0) if self._script else None
            if scripted is not None and not scripted.deliver_then_hang:
                raw = (
                    scripted.body if isinstance(scripted.body, bytes) else json.dumps(scripted.body).encode()
                )
                return scripted.status, scripted.headers, raw, 0
            self._in_flight.add(cache_key)
        answer = self._deliver(grant, key, body)
        with self._lock:
            if key:
                self._cache[cache_key] = (payload, answer)
            self._in_flight.discard(cache_key)
        return 200, {}, answer, scripted.deliver_then_hang if scripted else 0

    def _deliver(self, grant: str, key: str, body: dict) -> bytes:
        if self.latency:
            time.sleep(self.latency)  # outside the lock: deliveries overlap, as a provider's do
        if self.on_deliver is not None:
            self.on_deliver(body)
        with self._lock:
            n = next(self._ids)
            message_id = f"msg-{n}"
            thread_id = self._threads_by_message.get(body.get("reply_to_message_id") or "", f"thread-{n}")
            self._threads_by_message[message_id] = thread_id
            self.deliveries.append(
                {
                    "grant": grant,
                    "key": key,
                    "message_id": message_id,
                    "thread_id": thread_id,
                    "at": time.monotonic(),
                    **body,
                }
            )
        data = {
            "id": message_id,
            "grant_id": grant,
            "thread_id": thread_id,
            "subject": body.get("subject", ""),
        }
        return json.dumps({"request_id": f"req-{n}", "data": data}).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                parts = self.path.strip("/").split("/")
                payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if len(parts) != 5 or parts[:2] != ["v3", "grants"] or parts[3:] != ["messages", "send"]:
                    status, headers, raw, hang = 404, {}, _error("not_found", "no route"), 0
                else:
                    key = self.headers.get("Idempotency-Key", "")
                    status, headers, raw, hang = fake._handle_send(parts[2], key, payload)
                if hang:
                    time.sleep(hang)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    is_json = raw[:1] in (b"{", b"[")
                    self.send_header("Content-Type", "application/json" if is_json else "text/html")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly the case being simulated

            def log_message(self, format, *args):  # noqa: A002
                pass

        return Handler


class _Server(ThreadingHTTPServer):
    # The SDK opens a connection per request: under a benchmark's hundreds a second, the default
    # listen backlog of 5 resets connections the server would have taken a moment later.
    request_queue_size = 512


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"request_id": "req-err", "error": {"type": error_type, "message": message}}).encode()


@pytest.fixture
def fake_nylas(settings):
    """A running fake Nylas; settings point the SDK at it (NYLAS_API_KEY set: no outbox)."""
    server = FakeNylas().start()
    settings.NYLAS_API_KEY = "test-nylas-key"
    settings.NYLAS_API_URI = server.url
    settings.NYLAS_TIMEOUT_SECONDS = 2
    yield server
    server.stop()
