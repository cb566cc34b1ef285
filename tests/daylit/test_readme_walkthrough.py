"""The README's curl walkthrough, run from the README's own text against a served API, twice."""

import datetime
import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from daylit.embedded_pg.server import connection_url
from enrollments.models import ScheduledStep
from sequences.models import Sequence
from tests.servers import free_port, wait_until_served

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Walkthrough") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def served(tmp_path):
    """The API served over HTTP on the test database, and the demo file `make run` writes."""
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    demo_file = tmp_path / "demo.json"
    demo_file.write_text(out.getvalue())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NYLAS_", "AI_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DATABASE_URL=connection_url(connection),
        DAYLIT_VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_URL="memory://",
        API_THROTTLE_RATE="off",
        LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(base)
        yield base, demo_file
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(base: str, demo_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", walkthrough()],
        cwd=ROOT,
        env=dict(os.environ, DAYLIT=base, DEMO=str(demo_file)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_walkthrough_runs_twice_in_a_row(served):
    base, demo_file = served
    for attempt in (1, 2):
        result = run(base, demo_file)
        assert result.returncode == 0, f"run {attempt}: {result.stderr}\n{result.stdout}"
        sent = ScheduledStep.objects.filter(status=ScheduledStep.Status.SENT, subject="A friendly reminder")
        assert sent.count() == attempt
    # The due-date part: each run enrolled Globex once, its three rows planned in London on weekdays
    # inside 09:00-17:00 (the 08:00 steps all moved into the window, and say so).
    due = ScheduledStep.objects.filter(sequence__name__startswith="Due-date reminders")
    assert due.values("sequence_id").distinct().count() == 2 and due.count() == 6
    for row in due.select_related("enrollment"):
        local = row.scheduled_for.astimezone(ZoneInfo("Europe/London"))
        assert row.enrollment.time_zone == "Europe/London"
        assert local.weekday() < 5 and datetime.time(9) <= local.time() < datetime.time(17)
        assert "before the send window" in row.schedule_note
    # Each run made its own sequence and sent only its own row.
    assert Sequence.objects.filter(name__startswith="Net-30 reminders").count() == 2
    assert set(sent.values_list("sequence_id", flat=True)) == set(
        Sequence.objects.filter(name__startswith="Net-30 reminders").values_list("id", flat=True)
    )


def test_the_walkthrough_stops_at_the_first_failing_step(served, tmp_path):
    base, demo_file = served
    demo = json.loads(demo_file.read_text())
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(dict(demo, token="dl_not-a-token")))
    sequences = Sequence.objects.count()
    result = run(base, broken)
    assert result.returncode != 0
    assert "401" in result.stderr or "not_authenticated" in result.stdout + result.stderr
    assert Sequence.objects.count() == sequences  # it did not go on to create anything
