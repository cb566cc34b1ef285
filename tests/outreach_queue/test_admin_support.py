"""Customer and enrollment pages answer a support question on one screen: enrollments, upcoming and
recent rows, replies, suppressions (bounces), promises and disputes (daylit.admin_collections)."""

import pytest

from enrollments.models import ScheduledStep
from outreach_queue.services.suppressions import suppression_add
from tests.factories.outreach_queue import ReplyFactory
from tests.outreach_queue.admin_scenario import build_queue, superuser
from tests.outreach_queue.helpers import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(superuser())
    return client


@pytest.fixture
def queue(company, fake_nylas):
    return build_queue(company, fake_nylas)


def section(html: str, title: str) -> str:
    """The text of one support panel, from its heading to the next panel."""
    start = html.index(f">{title}</h2>")
    end = html.find('<section class="support-panel', start)
    return html[start : end if end != -1 else len(html)]


def customer_page(admin_client, customer) -> str:
    response = admin_client.get(f"/admin/daylit/customer/{customer.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_customer_page_shows_enrollments_upcoming_and_recent_rows(admin_client, queue):
    ScheduledStep.objects.filter(pk=queue.retrying.pk).update(
        status=Status.SENT, processed_at=queue.call.ready_at
    )
    html = customer_page(admin_client, queue.retrying.customer)
    assert "1250.00 USD" in section(html, "Invoices (open first)")
    assert "Net-30 reminders" in section(html, "Enrollments") and "Active" in section(html, "Enrollments")
    upcoming = section(html, "Upcoming steps")
    assert "Day 5 call" in upcoming and "Day 10 reminder" in upcoming and "Day 0 reminder" not in upcoming
    assert f"/admin/queue/queuerow/{queue.call.pk}/change/" in upcoming
    assert "Day 0 reminder" in section(html, "Recent steps (sent, failed, done, cancelled)")
    assert "Promises to pay" in html and "Disputes" in html  # daylit.admin_collections' panels
    assert "No replies heard." in section(html, "Replies")
    assert "Not suppressed" in section(html, "Suppressions")


def test_replies_and_bounces_are_on_the_customer_and_enrollment_pages(admin_client, queue):
    ScheduledStep.objects.filter(pk=queue.retrying.pk).update(
        status=Status.SENT, error="bounced: mailbox full", processed_at=queue.call.ready_at
    )
    ReplyFactory(row=queue.retrying, text="We will pay on Friday.")
    customer = queue.retrying.customer
    suppression_add(company_id=customer.company_id, email=customer.email, reason="bounce")
    html = customer_page(admin_client, customer)
    assert "We will pay on Friday." in section(html, "Replies")
    assert customer.email.lower() in section(html, "Suppressions") and "Bounce" in section(
        html, "Suppressions"
    )
    enrollment = admin_client.get(f"/admin/enrollments/enrollment/{queue.retrying.enrollment_id}/change/")
    page = enrollment.content.decode()
    assert "We will pay on Friday." in section(page, "Replies")
    assert "Acme Rockets in Net-30 reminders (active)" in page  # named, not two UUIDs
    assert f"/admin/queue/queuerow/{queue.call.pk}/change/" in page  # the inline's link to the row


def test_another_customers_rows_are_not_on_the_page(admin_client, queue):
    html = customer_page(admin_client, queue.to_cancel.customer)
    assert "Day 5 call" not in html and "Bluebird" in html


def test_replies_are_read_only_history(admin_client, queue):
    reply = ReplyFactory(row=queue.retrying)
    assert admin_client.get(f"/admin/queue/reply/{reply.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/queue/reply/{reply.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/queue/reply/add/").status_code == 403
