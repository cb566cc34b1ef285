"""Celery tasks of the core app: thin, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from daylit import promises
from daylit.periodic import one_at_a_time

SETTLE_PROMISES_TASK = "daylit.settle_promises"


@shared_task(name=SETTLE_PROMISES_TASK, ignore_result=True)
@one_at_a_time(SETTLE_PROMISES_TASK)
def settle_promises() -> dict[str, int]:
    """Every minute: open promises whose invoice was paid or voided, or whose deadline passed, become
    kept, broken or cancelled (daylit.promises.promises_settle; only open ones are read, so a second run
    finds nothing to do)."""
    return promises.promises_settle(now=timezone.now())
