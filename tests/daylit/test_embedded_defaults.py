"""`make run`'s embedded defaults (PostgreSQL from the wheel, file-system broker) work end to end.

Runs the real commands in subprocesses with a scratch var/ directory (so a fresh server is initialised
there), then calls the API over HTTP.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, wait_until_served

ROOT = Path(__file__).resolve().parents[2]


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


def postmaster(var: Path) -> int | None:
    """The pid of the embedded server of `var`, while it runs."""
    pid_file = var / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def sql(env, statement: str) -> str:
    return manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        f"from django.db import connection; c = connection.cursor(); c.execute({statement!r}); "
        "print(c.fetchone()[0])",
    ).strip()


def test_embedded_postgres_migrates_seeds_and_serves(embedded_env, tmp_path):
    var = tmp_path / "var"
    manage(embedded_env, "ensure_database")
    manage(embedded_env, "migrate", "--noinput")
    assert (var / "postgres" / "PG_VERSION").read_text().strip() == "18"
    # Each command started the server for itself and stopped it on exit: nothing was left running.
    assert postmaster(var) is None
    assert sql(embedded_env, "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'") == "pg_trgm"
    assert sql(embedded_env, "SELECT current_database()") == "daylit"
    assert sql(embedded_env, "SELECT inet_server_addr() IS NULL") == "True"  # a Unix socket, no TCP
    demo = json.loads(manage(embedded_env, "seed_demo", "--json"))
    again = json.loads(manage(embedded_env, "seed_demo", "--json"))
    assert demo["company_id"] == again["company_id"]

    port = free_port()
    # As `make run` does: the hold outlives the web process and stops the server after it.
    server = subprocess.Popen(
        [sys.executable, "scripts/with_database.py"]
        + [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_served(base)
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok", "database": "ok", "broker": "ok"}
        company = f"{base}/api/companies/{demo['company_id']}"
        status, body = http("GET", f"{company}/customers", demo["token"])
        assert status == 200 and body["count"] == len(demo["customer_ids"])
        status, body = http("POST", f"{company}/customers", again["token"], {"name": "Smoke Ltd"})
        assert status == 201 and body["name"] == "Smoke Ltd"
        status, body = http("GET", f"{company}/customers", "wrong-token")
        assert status == 401
        assert postmaster(var) is not None
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert postmaster(var) is None


def hold_db(env, *command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/with_database.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_the_hold_keeps_one_server_for_its_command_and_stops_it_after(embedded_env, tmp_path):
    var = tmp_path / "var"
    manage(embedded_env, "ensure_database")
    # Two processes inside the hold: the second finds the server the first used, still up.
    script = (
        f"{sys.executable} manage.py migrate --noinput -v 0 && "
        f"cat {var}/postgres/postmaster.pid | head -1 > {tmp_path}/first && "
        f"{sys.executable} manage.py shell --no-imports -c 'import os; print(os.getpid())' >/dev/null && "
        f"cat {var}/postgres/postmaster.pid | head -1 > {tmp_path}/second && exit 7"
    )
    result = hold_db(embedded_env, "sh", "-c", script)
    assert result.returncode == 7, result.stderr  # the command's own exit status
    assert (tmp_path / "first").read_text() == (tmp_path / "second").read_text()
    assert postmaster(var) is None


def test_a_holder_killed_with_sigkill_does_not_keep_the_server_up(embedded_env, tmp_path):
    var = tmp_path / "var"
    manage(embedded_env, "ensure_database")
    # The shell runs a Django process that connects (and so holds the server), then is SIGKILLed.
    script = (
        f"{sys.executable} manage.py shell --no-imports -c "
        "'import os, signal; from django.db import connection; connection.ensure_connection(); "
        "os.kill(os.getpid(), signal.SIGKILL)'; exit 0"
    )
    result = hold_db(embedded_env, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert postmaster(var) is None


def test_with_database_url_the_hold_only_runs_the_command(embedded_env, tmp_path):
    env = dict(embedded_env, DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    env.pop("DJANGO_SETTINGS_MODULE")
    result = hold_db(env, "sh", "-c", 'echo "settings=${DJANGO_SETTINGS_MODULE:-}"; exit 3')
    assert result.returncode == 3
    assert result.stdout.strip() == "settings="  # the command's environment is the caller's
    assert not (tmp_path / "var" / "postgres").exists()


def test_make_test_creates_no_database_of_its_own(embedded_env, tmp_path):
    """Django's test runner reaches the server through its maintenance database; `daylit` is made
    only by `ensure_database` (make migrate / make run)."""
    result = hold_db(
        embedded_env,
        sys.executable,
        "manage.py",
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection\n"
        "with connection._nodb_cursor() as c:\n"
        "    c.execute('SELECT datname FROM pg_database ORDER BY 1'); print([r[0] for r in c.fetchall()])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['postgres', 'template0', 'template1']"


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
    manage(dict(embedded_env, DATABASE_URL=""), "ensure_database")
    assert (tmp_path / "var" / "postgres" / "PG_VERSION").exists()


def test_a_database_url_other_than_postgres_is_refused(embedded_env):
    env = dict(embedded_env, DATABASE_URL="sqlite:///var/daylit.sqlite3")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "PostgreSQL is the only database" in result.stderr


def test_the_file_system_broker_connects_without_a_warning(embedded_env):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; from kombu import Connection; "
            "c = Connection(settings.CELERY_BROKER_URL, "
            "transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS); "
            "c.ensure_connection(max_retries=1); print(c.as_uri())",
        ],
        cwd=ROOT,
        env=embedded_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("filesystem://")
    assert "No hostname" not in result.stderr


def test_threads_connecting_at_once_share_one_server(embedded_env, tmp_path):
    """A thread-pool worker's first tasks all connect at the same moment (`make run`'s webhooks worker)."""
    manage(embedded_env, "ensure_database")
    probe = (
        "import threading\n"
        "from django.db import connection\n"
        "errors = []\n"
        "def connect():\n"
        "    try:\n"
        "        with connection.cursor() as c:\n"
        "            c.execute('SELECT 1')\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "    finally:\n"
        "        connection.close()\n"
        "threads = [threading.Thread(target=connect) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(errors)\n"
    )
    assert manage(embedded_env, "shell", "--no-imports", "-c", probe).strip() == "[]"
