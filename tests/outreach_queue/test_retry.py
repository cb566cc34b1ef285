"""Retrying a row that failed before any send (a template that would not render, a suppressed address):
the service through the admin row page's button, and the rows it refuses."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from daylit.errors import Conflict
from events.models import Event
from events.types import QUEUE_ROW_READY, QUEUE_ROW_RESCHEDULED
from outreach_queue import services
from outreach_queue.models import Suppression
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import ScheduledStepFactory
from tests.outreach_queue.helpers import Status, due_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(client):
    client.force_login(get_user_model().objects.create_superuser("support", "s@daylit.example", "x"))
    return client


def failed_row(company):
    """A reminder that failed at promotion (its customer has no invoice to render), with a later step
    still to come so the enrollment stays active."""
    row = due_row(company, customer=CustomerFactory(company=company))
    ScheduledStepFactory(enrollment=row.enrollment, scheduled_for=timezone.now() + datetime.timedelta(days=5))
    services.queue_rows_promote(company=company)
    row.refresh_from_db()
    assert row.status == Status.FAILED, row.status
    return row


def move(support, row, verb):
    return support.post(f"/admin/queue/queuerow/{row.pk}/move/{verb}/", follow=True)


def test_the_row_page_retries_a_failed_row_once_its_cause_is_fixed(support, company):
    row = failed_row(company)
    page = support.get(f"/admin/queue/queuerow/{row.pk}/change/").content.decode()
    assert "Retry now" in page and "retry_failed" in page

    failed_again = move(support, row, "retry_failed").content.decode()
    assert "failed again" in failed_again
    InvoiceFactory(customer=row.customer, amount_due=Decimal("75.00"))
    response = move(support, row, "retry_failed").content.decode()
    assert "ready again, waiting to be sent" in response
    row.refresh_from_db()
    assert row.status == Status.READY and row.error == ""
    types = list(Event.objects.filter(subject_id=row.pk).order_by("seq").values_list("type", flat=True))
    assert types[-2:] == [QUEUE_ROW_RESCHEDULED, QUEUE_ROW_READY]


def test_a_suppressed_row_fails_again_until_the_address_is_freed(company):
    row = due_row(company)
    ScheduledStepFactory(enrollment=row.enrollment, scheduled_for=timezone.now() + datetime.timedelta(days=5))
    Suppression.objects.create(company=company, email=row.customer.email.lower(), reason="manual")
    services.queue_rows_promote(company=company)
    assert services.queue_row_retry(row=row).error == "suppressed: manual"
    Suppression.objects.all().delete()
    assert services.queue_row_retry(row=row).status == Status.READY


def test_rows_that_may_have_been_sent_or_whose_enrollment_ended_are_refused(support, company):
    attempted = failed_row(company)
    type(attempted).objects.filter(pk=attempted.pk).update(sending_started_at=timezone.now())
    with pytest.raises(Conflict, match="may have delivered"):
        services.queue_row_retry(row=attempted)
    assert "retry_failed" not in support.get(f"/admin/queue/queuerow/{attempted.pk}/change/").content.decode()

    ended = failed_row(company)
    ended.enrollment.__class__.objects.filter(pk=ended.enrollment_id).update(
        status="completed", completed_at=timezone.now(), stop_reason="stopped"
    )
    with pytest.raises(Conflict, match="enrollment is completed"):
        services.queue_row_retry(row=ended)
    ready = due_row(company)
    services.queue_rows_promote(company=company)
    with pytest.raises(Conflict, match="Only a failed row"):
        services.queue_row_retry(row=ready)
