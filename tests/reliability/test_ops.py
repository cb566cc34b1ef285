"""Operations: request ids in headers and logs, JSON log lines, secrets redacted, deploy checks clean."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daylit.observability import JsonFormatter, RedactSecretsFilter, RequestIdFilter, redact
from tests.conftest import company_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_lines():
    """Every log line written during the test, as the production handler formats it (parsed JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_settings_wire_the_filters_and_json_formatter(settings):
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id", "redact"]
    assert settings.LOGGING["formatters"]["json"]["()"] == "daylit.observability.JsonFormatter"
    assert settings.MIDDLEWARE[0] == "daylit.middleware.RequestIdMiddleware"


@pytest.mark.django_db
def test_request_id_is_taken_from_the_caller_and_put_on_every_line(api, company, log_lines):
    response = api.get(company_url(company, "customers"), HTTP_X_REQUEST_ID="req-abc.123")
    assert response["X-Request-ID"] == "req-abc.123"
    lines = [line for line in log_lines() if line["logger"] == "daylit.request"]
    assert lines and all(line["request_id"] == "req-abc.123" for line in lines)
    assert lines[-1]["status"] == 200 and lines[-1]["method"] == "GET"
    assert {"ts", "level", "message", "duration_ms"} <= set(lines[-1])


@pytest.mark.django_db
def test_request_id_is_made_when_missing_or_unsafe(api, company, log_lines):
    made = api.get(company_url(company, "customers"))["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    forged = api.get(company_url(company, "customers"), HTTP_X_REQUEST_ID="x\ninjected line")
    assert forged["X-Request-ID"] != "x\ninjected line" and len(forged["X-Request-ID"]) == 32
    ids = {line["request_id"] for line in log_lines() if line["logger"] == "daylit.request"}
    assert made in ids and forged["X-Request-ID"] in ids


@pytest.mark.django_db
def test_logs_from_a_failing_request_keep_its_id(api, company, log_lines):
    response = api.get(
        company_url(company, "customers/00000000-0000-0000-0000-000000000001"), HTTP_X_REQUEST_ID="trace-404"
    )
    assert response.status_code == 404
    by_id = [line for line in log_lines() if line["request_id"] == "trace-404"]
    # One line per request: django.request's own warning for a 4xx would print it a second time.
    assert [(line["logger"], line["status"]) for line in by_id] == [("daylit.request", 404)]


def test_secrets_never_reach_a_log_line(settings, log_lines):
    settings.NYLAS_API_KEY = "nyk_v0_live_secret_9f8e7d"
    settings.AI_API_KEY = "sk-ai-secret-0123456789"
    api_key = "dl_" + "A1b2C3d4E5f6G7h8I9j0" * 2
    log = logging.getLogger("connections.sending")
    log.info("sending via https://api.us.nylas.com/v3/grants/5f1a-grant-77/messages/send")
    log.info("headers %s", {"Authorization": "Bearer nyk_v0_live_secret_9f8e7d", "X-Ok": "yes"})
    log.info("client auth header: Token %s", api_key)
    log.warning("grant_id=gr-abcdef-123 failed; api_key: %s", "sk-ai-secret-0123456789")
    log.info('payload {"grant_id": "gr-json-456", "access_token": "at-789xyz", "subject": "Hi"}')
    log.warning("Bad Request: /api/nylas/callback?code=oauth-code-321&state=s1")
    try:
        raise RuntimeError(f"upstream refused key {api_key}")
    except RuntimeError:
        log.exception("send failed")
    text = json.dumps(log_lines())
    for secret in (
        "nyk_v0_live_secret_9f8e7d",
        "sk-ai-secret-0123456789",
        api_key,
        "5f1a-grant-77",
        "gr-abcdef-123",
        "gr-json-456",
        "at-789xyz",
        "oauth-code-321",
    ):
        assert secret not in text, secret
    assert text.count("[redacted]") >= 8
    assert '"Hi"' in text or "Hi" in text  # ordinary content survives
    assert "X-Ok" in text


def test_redact_leaves_ordinary_text_alone():
    plain = "queue row 5b1e0c1e-6d7e-4c4b-9d1e-1f2a3b4c5d6e sent to ap1@customer.example (status=sent)"
    assert redact(plain) == plain


def test_production_settings_pass_deploy_checks_without_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DAYLIT_VAR_DIR=str(tmp_path / "var"),
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-" + "y" * 30,
        DJANGO_ALLOWED_HOSTS="daylit.example",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_the_oauth_callback_query_never_reaches_the_logs(client, log_lines):
    client.get("/api/nylas/callback?code=oauth-secret-code-777&state=not-a-valid-state")
    lines = log_lines()
    assert lines
    assert "oauth-secret-code-777" not in json.dumps(lines)
