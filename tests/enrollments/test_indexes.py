"""Indexes the queue's lookups rely on exist, and the ones that earned no place are gone."""

import pytest
from django.db import connection

from enrollments.models import HISTORY_STATUSES, ScheduledStep

pytestmark = pytest.mark.django_db


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tiny test table would be scanned
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_reply_finds_its_row_by_message_id_through_its_own_index():
    plan = _plan("SELECT id FROM enrollments_scheduledstep WHERE provider_message_id = %s", ["msg-1"])
    assert "sched_provider_message" in plan


def test_the_upcoming_tab_has_no_subject_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'enrollments_scheduledstep'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"queue_subject_ready", "queue_subject_history", "sched_provider_message"} <= names
    assert "queue_subject_upcoming" not in names
    assert "sched_company_status_when" not in names  # no query of the app read it (enrollments.0015)


def test_the_history_indexes_cover_exactly_the_history_statuses():
    """Migrations spell the end states in SQL; they must stay the model's HISTORY_STATUSES."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'enrollments_scheduledstep' "
            "AND indexname LIKE 'queue_%%history%%'"
        )
        definitions = dict(cursor.fetchall())
    assert definitions
    for name, definition in definitions.items():
        spelled = {value for value in ScheduledStep.Status.values if f"'{value}'" in definition}
        assert spelled == set(HISTORY_STATUSES), name
