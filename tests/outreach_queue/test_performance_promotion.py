"""Promotion of a backlog: helper passes in threads share it (SKIP LOCKED), each row moves once."""

import pytest

from enrollments.models import ScheduledStep
from outreach_queue.services import queue_rows_promote
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CompanyFactory
from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.helpers import Status, due_row


def _backlog(rows: int):
    company = CompanyFactory()
    sequence = SequenceFactory(
        company=company, status="active", sender_connection=EmailConnectionFactory(company=company)
    )
    return [due_row(company, sequence=sequence) for _ in range(rows)]


@pytest.mark.django_db(transaction=True)  # the helper passes have their own connections
@pytest.mark.parametrize("workers", [1, 3])
def test_a_backlog_is_promoted_once_whatever_the_number_of_passes(workers):
    rows = _backlog(30)
    assert queue_rows_promote(batch_size=4, workers=workers) == 30
    promoted = ScheduledStep.objects.filter(pk__in=[r.pk for r in rows])
    assert promoted.filter(status=Status.READY).exclude(subject="").count() == 30
    assert queue_rows_promote(batch_size=4, workers=workers) == 0


@pytest.mark.django_db
def test_inside_a_transaction_the_pass_stays_alone_and_still_promotes_everything():
    _backlog(9)
    assert queue_rows_promote(batch_size=2, workers=4) == 9
    assert ScheduledStep.objects.filter(status=Status.SCHEDULED).count() == 0
