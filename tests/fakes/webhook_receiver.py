"""A webhook receiver on 127.0.0.1 that checks every request the way an integrator would:
`standardwebhooks.Webhook(secret).verify(body, headers)` with each secret it knows. Verified requests
go to `received` (with the secret that verified them), the rest to `refused` (with the reason).

It answers 200 unless told otherwise: `script(...)` queues behaviours for the next requests, `always`
sets the behaviour once the script is used up. A behaviour is an HTTP status (500), `Hang(seconds)`
(record, then wait before answering: past the client's timeout), `Trickle(interval)` (a 200 sent a
byte at a time), or `CLOSE` (record, then drop the connection without answering).
"""

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Hang:
    seconds: float


@dataclass(frozen=True)
class Trickle:
    """Answer 200, one byte every `interval` seconds: no single read waits long, the whole answer does."""

    interval: float


CLOSE = "close"


@dataclass
class Received:
    headers: dict[str, str]
    body: dict
    raw: bytes
    verified_with: list[str] = field(default_factory=list)  # every known secret that verifies it

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no news
            super().handle_error(request, client_address)


class WebhookReceiver:
    def __init__(self, *secrets: str) -> None:
        self.secrets: list[str] = list(secrets)
        self.received: list[Received] = []
        self.refused: list[tuple[dict, str]] = []
        self.always: int | Hang | str = 200
        self._script: list[int | Hang | str] = []
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *behaviours: int | Hang | Trickle | str) -> None:
        with self._lock:
            self._script.extend(behaviours)

    @property
    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def wait_for(self, count: int, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.01)
        return False

    def _verify(self, raw: bytes, headers: dict[str, str]) -> Received | str:
        verified_with = []
        reason = "no secret configured"
        for secret in self.secrets:
            try:
                Webhook(secret).verify(raw, headers)
            except WebhookVerificationError as exc:
                reason = str(exc)
            else:
                verified_with.append(secret)
        if not verified_with:
            return reason
        return Received(headers=headers, body=json.loads(raw), raw=raw, verified_with=verified_with)

    def _next(self) -> int | Hang | Trickle | str:
        with self._lock:
            return self._script.pop(0) if self._script else self.always

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real server: the client reuses sockets
            # Headers and body go out in two writes; with Nagle on, the second waits for the client's
            # delayed ACK (40 ms a request).
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                checked = receiver._verify(raw, headers)
                with receiver._lock:
                    if isinstance(checked, Received):
                        receiver.received.append(checked)
                    else:
                        receiver.refused.append((headers, checked))
                behaviour = receiver._next()
                if behaviour == CLOSE:
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(behaviour, Hang):
                    time.sleep(behaviour.seconds)
                    behaviour = 200
                if isinstance(behaviour, Trickle):
                    self.close_connection = True
                    try:
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(behaviour.interval)
                    except OSError:
                        pass  # the client gave up: the case being simulated
                    return
                status = 401 if not isinstance(checked, Received) else behaviour
                answer = json.dumps({"ok": status < 300}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): the case being simulated

            def log_message(self, format, *args):  # noqa: A002
                pass

        return Handler
