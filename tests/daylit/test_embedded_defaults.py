"""`make run`'s embedded defaults (SQLite in WAL mode, file-system broker) work end to end.

Runs the real commands in subprocesses with a scratch var/ directory, then calls the API over HTTP.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_SETTINGS_MODULE="daylit.settings", DAYLIT_VAR_DIR=str(tmp_path / "var"))
    return env


def manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sqlite_defaults_migrate_seed_and_serve(embedded_env, tmp_path):
    manage(embedded_env, "migrate", "--noinput")
    assert (tmp_path / "var" / "daylit.sqlite3").exists()
    journal = manage(
        embedded_env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])",
    )
    assert journal.strip() == "wal"
    demo = json.loads(manage(embedded_env, "seed_demo", "--json"))
    again = json.loads(manage(embedded_env, "seed_demo", "--json"))
    assert demo["company_id"] == again["company_id"]

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok", "database": "ok", "broker": "ok"}
        company = f"{base}/api/companies/{demo['company_id']}"
        status, body = http("GET", f"{company}/customers", demo["token"])
        assert status == 200 and body["count"] == len(demo["customer_ids"])
        status, body = http("POST", f"{company}/customers", again["token"], {"name": "Smoke Ltd"})
        assert status == 201 and body["name"] == "Smoke Ltd"
        status, body = http("GET", f"{company}/customers", "wrong-token")
        assert status == 401
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_production_settings_pass_deploy_checks(embedded_env):
    env = dict(
        embedded_env,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-" + "y" * 30,
        DJANGO_ALLOWED_HOSTS="daylit.example",
    )
    manage(env, "check", "--deploy", "--fail-level", "ERROR")


def test_production_settings_refuse_a_missing_secret(embedded_env):
    env = dict(embedded_env, DJANGO_DEBUG="false")
    env.pop("DJANGO_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_an_empty_database_url_means_the_embedded_default(embedded_env, tmp_path):
    manage(dict(embedded_env, DATABASE_URL=""), "migrate", "--noinput")
    assert (tmp_path / "var" / "daylit.sqlite3").exists()
