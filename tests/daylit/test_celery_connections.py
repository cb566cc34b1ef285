"""Tasks keep their database connection like requests do (Celery's Django fixup would close it around
every task: a new PostgreSQL connection costs more than a webhook delivery)."""

import time
from types import SimpleNamespace

import pytest
from django.db import connection

from daylit.celery import app, close_old_database_connections


def test_celery_does_not_close_every_connection_around_every_task():
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 1_000_000


@pytest.mark.django_db(transaction=True)
def test_around_a_task_a_connection_is_kept_until_conn_max_age_then_closed():
    worker_task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    connection.close()
    connection.ensure_connection()  # a fresh one: CONN_MAX_AGE (60 s) from now
    close_old_database_connections(task=worker_task)
    assert connection.connection is not None  # reused by the next task

    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    close_old_database_connections(task=worker_task)
    assert connection.connection is None


@pytest.mark.django_db
def test_an_eager_task_leaves_the_callers_connection_and_transaction_alone():
    eager = SimpleNamespace(request=SimpleNamespace(is_eager=True))
    connection.close_at = time.monotonic() - 1
    close_old_database_connections(task=eager)
    assert connection.connection is not None and connection.in_atomic_block
