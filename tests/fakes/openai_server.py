"""A fake OpenAI-compatible chat API on 127.0.0.1: scripted answers, every request recorded.

The `openai` SDK talks HTTP to it exactly as it would to a real provider (or a local model server),
so timeouts, status codes and malformed bodies travel the real client code.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Answer:
    status: int = 200
    content: str | None = None  # the model's message content (for 200)
    body: bytes | None = None  # a raw body instead (errors, garbage)
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


def completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def draft_json(
    subject="Payment reminder", body_plain="Please pay your open invoice.", body_html="<p>Pay</p>"
):
    return json.dumps({"subject": subject, "body_plain": body_plain, "body_html": body_html})


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        # shutdown() waits out a poll of serve_forever (0.5 s by default) on every teardown.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def answer(self, content: str | None = None, **kwargs) -> None:
        self.answers.append(Answer(content=content, **kwargs))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self, request: dict) -> Answer:
        with self._lock:
            self.requests.append(request)
            return self.answers.pop(0) if self.answers else Answer(content=draft_json())

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                answer = fake._next(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if answer.delay:
                    time.sleep(answer.delay)
                raw = answer.body if answer.body is not None else completion(answer.content or "")
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def fake_ai(settings):
    fake = FakeOpenAI()
    settings.AI_API_KEY = "test-ai-key"
    settings.AI_BASE_URL = fake.url
    settings.AI_MODEL = "fake-model"
    settings.AI_TIMEOUT_SECONDS = 2
    yield fake
    fake.stop()
