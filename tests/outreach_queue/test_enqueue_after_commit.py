"""Work a request hands to a task after commit never fails the request: not in eager mode (the README's
debugging mode) when the task asks for a retry, not when the broker is down. The row is the truth; the
draft sweep picks it up later."""

import datetime
import logging

import pytest
from django.utils import timezone

from enrollments.models import ScheduledStep
from outreach_queue import services
from tests.conftest import company_url
from tests.outreach_queue.test_ai_drafts import GOOD_DRAFT, instructed_row

Status = ScheduledStep.Status
PROVIDER_500 = {"status": 500, "body": b'{"error": {"message": "boom"}}'}


def later() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=1)


# transaction=True: on_commit hooks run inside the request, as they do in production.
@pytest.mark.django_db(transaction=True)
def test_eager_mode_provider_500_the_queue_answers_200_and_the_row_waits(
    api, company, fake_ai, eager_as_configured
):
    fake_ai.answer(**PROVIDER_500)
    row = instructed_row(company)
    response = api.get(company_url(company, "sequences/queue"))
    assert response.status_code == 200, response.content
    assert len(fake_ai.requests) == 1  # the task ran inline once; its retry is not run inside the request
    row.refresh_from_db()
    assert row.status == Status.READY and row.draft_pending and row.draft_attempts == 1
    assert "attempt 1 of" in row.error and "retrying" in row.error

    fake_ai.answer(GOOD_DRAFT)
    assert services.queue_rows_draft_sweep(now=later()) == 1  # the sweep runs it (eagerly) after commit
    row.refresh_from_db()
    assert row.generated and not row.draft_pending and row.subject == "Invoice INV-777 is overdue"


@pytest.mark.django_db(transaction=True)
def test_broker_down_the_queue_answers_200_and_the_sweep_enqueues_the_draft(
    api,
    company,
    fake_ai,
    broker,
    caplog,
):
    first, second = instructed_row(company), instructed_row(company, number="INV-778")
    broker.down()
    with caplog.at_level(logging.WARNING, logger="daylit.enqueue"):
        response = api.get(company_url(company, "sequences/queue"))
    assert response.status_code == 200, response.content
    assert caplog.text.count("could not enqueue queue.generate_draft") == 1  # stops at the first failure
    assert "the sweep picks it up" in caplog.text
    assert fake_ai.requests == []
    for row in (first, second):
        row.refresh_from_db()
        assert row.status == Status.READY and row.draft_pending and row.draft_attempts == 0

    broker.up()
    assert services.queue_rows_draft_sweep(now=later()) == 2
