"""Handing work to Celery by task name: the one place that decides what a failed enqueue means.

Services enqueue through here and never import a tasks module (tasks import services; importing back
would be a circle). A task only wakes a worker: the row is the truth of the job, and a periodic sweep
finds rows whose task never ran. So a task that could not be enqueued is logged, never raised: after
commit the request's work is done, and failing its response would make the client retry done work.

Eager mode (`CELERY_TASK_ALWAYS_EAGER`, debugging only) runs the task inline, once, as a worker would,
and keeps its exceptions to itself (logged), `celery.exceptions.Retry` included. The retry is not run
inline: Celery's eager retry ignores the countdown and would call the provider again at once, inside
the request. The row waits for the sweep, as it would for a lost task.
"""

import logging
from collections.abc import Sequence
from functools import partial

from celery.exceptions import Retry
from django.db import transaction

from daylit.celery import app

logger = logging.getLogger(__name__)


def enqueue(name: str, *, args: Sequence = (), countdown: float | None = None) -> bool:
    """Send task `name` with JSON `args`; False (logged) when it could not be handed to the broker."""
    if app.conf.task_always_eager:
        _run_inline(name, list(args))
        return True
    try:
        app.send_task(name, args=list(args), countdown=countdown)
    except Exception as exc:  # kombu's OperationalError when the broker is down; nothing may fail the caller
        logger.warning("could not enqueue %s%s; the sweep picks it up: %r", name, tuple(args), exc)
        return False
    return True


def enqueue_on_commit(name: str, *arg_lists: Sequence, countdowns: Sequence[float | None] = ()) -> None:
    """After the current transaction commits (at once outside one), enqueue task `name` once per
    argument list, the i-th with `countdowns[i]` when given. Stops at the first that cannot be enqueued:
    with the broker down, each of the rest would wait out the same connection retries, then fail."""
    if arg_lists:
        transaction.on_commit(partial(_enqueue_each, name, arg_lists, countdowns))


def _enqueue_each(name: str, arg_lists: Sequence[Sequence], countdowns: Sequence[float | None]) -> None:
    for i, args in enumerate(arg_lists):
        if not enqueue(name, args=args, countdown=countdowns[i] if countdowns else None):
            return


def _run_inline(name: str, args: list) -> None:
    if name not in app.tasks:
        app.loader.import_default_modules()  # the web process never imported this app's tasks module
    try:
        # throw=True: with throw=False Celery re-applies a retried task at once, recursively.
        app.tasks[name].apply(args=args, throw=True)
    except Retry as exc:
        logger.warning("eager %s%s asked for a retry (%s); left for the sweep", name, tuple(args), exc)
    except Exception:  # on a worker this would be the worker's log line, not the caller's error
        logger.exception("eager %s%s failed; left for the sweep", name, tuple(args))
