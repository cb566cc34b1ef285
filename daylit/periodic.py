"""Periodic tasks that two beat schedulers may both enqueue: one run at a time, the other skips.

Celery beat has no leader election: a second beat (a deployment that runs two by mistake, a rolling
restart) enqueues every periodic task again. Each periodic task's work is already safe to repeat (the
rows it moves are claimed by conditional UPDATEs or SKIP LOCKED), so a second run could not send,
promote or record anything twice; `one_at_a_time` also keeps it from doing the same pass twice (a
second auto-send plan would enqueue every row's task again, and each would only find the row taken).

The lock is a PostgreSQL session-level advisory lock, tried, never waited for: a run that finds it
held returns None at once (the other run is doing this pass). It belongs to the task's database
connection, so a worker killed mid-run loses its connection and the lock with it; nothing to expire.
Not for a connection pooler in transaction mode (PgBouncer), which would hand the session to others.
"""

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# The class key of these locks (two-int form, apart from the one-bigint and other two-int locks).
PERIODIC_LOCK_CLASS = 0x5045_5244  # "PERD"

P = ParamSpec("P")
R = TypeVar("R")


def one_at_a_time(name: str) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the decorated function only while holding the lock `name`; None when another run holds it."""

    def decorate(function: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [PERIODIC_LOCK_CLASS, name])
                if not cursor.fetchone()[0]:
                    logger.info("%s: another run holds its lock; skipped", name)
                    return None
            try:
                return function(*args, **kwargs)
            finally:
                _unlock(name)

        return run

    return decorate


def _unlock(name: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [PERIODIC_LOCK_CLASS, name])
    except DatabaseError:
        # The session cannot run the unlock (the task's error broke it): closing it releases the lock,
        # which a persistent connection would otherwise hold for its whole life.
        logger.warning("%s: could not release its lock; closing the database connection", name)
        connection.close()
