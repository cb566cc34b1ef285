"""Celery tasks of the enrollments app: thin wrappers over services, safe to run twice."""

import logging

from celery import shared_task

from daylit.periodic import one_at_a_time
from enrollments import pausing

logger = logging.getLogger(__name__)


@shared_task(name="enrollments.resume_due", ignore_result=True)
@one_at_a_time("enrollments.resume_due")
def resume_due() -> int:
    """Every 30 s: resume, shifted, the paused enrollments whose `paused_until` has passed. A second run
    finds them active already (the resume is a conditional UPDATE)."""
    resumed = pausing.enrollments_resume_due()
    if resumed:
        logger.info("resumed %s paused enrollments", resumed)
    return resumed
