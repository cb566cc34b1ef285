"""Per-mailbox pacing (connections.pacing): a window of 60 s counted in the database, shared by threads
and processes alike; a refused or rolled-back take writes nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from connections.models import MailboxPacing
from connections.pacing import connection_send_slot_take, connection_sends_in_window
from daylit.embedded_pg.server import connection_url
from tests.factories.connections import EmailConnectionFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mailbox(company):
    return EmailConnectionFactory(company=company)


def take(mailbox, limit: int, **kwargs) -> bool:
    return connection_send_slot_take(connection_id=mailbox.pk, limit=limit, **kwargs)


def test_a_mailbox_takes_up_to_its_limit_in_a_minute_then_is_refused(mailbox):
    assert [take(mailbox, 3) for _ in range(5)] == [True, True, True, False, False]
    assert connection_sends_in_window(connection_ids=[mailbox.pk], now=timezone.now()) == {mailbox.pk: 3}


def test_each_mailbox_has_its_own_window(company, mailbox):
    other = EmailConnectionFactory(company=company)
    assert take(mailbox, 1) and not take(mailbox, 1)
    assert take(other, 1)


def test_sends_older_than_a_minute_leave_the_window(mailbox):
    assert take(mailbox, 2) and take(mailbox, 2) and not take(mailbox, 2)
    with connection.cursor() as cursor:  # the two sends happened 61 s ago
        cursor.execute(
            f"UPDATE {MailboxPacing._meta.db_table} SET recent_sends = "
            "ARRAY(SELECT t - interval '61 seconds' FROM unnest(recent_sends) t)"
        )
    assert take(mailbox, 2)
    assert len(MailboxPacing.objects.get(pk=mailbox.pk).recent_sends) == 1  # old times are dropped


def test_a_forced_take_is_never_refused_but_counts(mailbox):
    assert take(mailbox, 1)
    assert take(mailbox, 1, force=True)
    assert connection_sends_in_window(connection_ids=[mailbox.pk], now=timezone.now()) == {mailbox.pk: 1}
    assert not take(mailbox, 1)  # the window holds the newest `limit` times, the forced one among them


def test_a_take_rolled_back_with_its_transaction_gives_the_slot_back(mailbox):
    with transaction.atomic():
        assert take(mailbox, 1)
        transaction.set_rollback(True)
    assert take(mailbox, 1)


TAKER = """
import sys, django
django.setup()
from connections.pacing import connection_send_slot_take
mailbox, limit, tries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(sum(connection_send_slot_take(connection_id=mailbox, limit=limit) for _ in range(tries)))
"""


@pytest.mark.django_db(transaction=True)
def test_processes_taking_at_once_share_one_limit(mailbox):
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="daylit.settings",
        DATABASE_URL=connection_url(connection),
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(mailbox.pk), "7", "10"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    taken = [int(p.communicate(timeout=120)[0]) for p in processes]
    assert sum(taken) == 7, taken  # 40 tries from 4 processes, 7 slots in the minute
