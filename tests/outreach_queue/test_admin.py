"""The queue's admin: listing, and the actions going through the services (sending synchronously, each
row's outcome told)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from enrollments.models import ScheduledStep
from tests.outreach_queue.helpers import Status, due_row, ready_row

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/queue/queuerow/"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("support", "support@example.com", "pw")
    client.force_login(user)
    return client


def run_action(admin_client, action, rows, capture):
    with capture(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": action, "_selected_action": [str(r.pk) for r in rows]}, follow=True
        )
    assert response.status_code == 200
    return response


def test_changelist_lists_and_searches_rows(admin_client, company, fake_nylas):
    row = ready_row(company)
    listing = admin_client.get(f"{CHANGELIST}?status__exact=ready")
    assert listing.status_code == 200 and row.subject in listing.content.decode()
    assert admin_client.get(f"{CHANGELIST}?q={row.to_email}").status_code == 200
    assert admin_client.get(f"{CHANGELIST}{row.pk}/change/").status_code == 200


def test_send_selected_twice_delivers_each_email_once(
    admin_client, company, fake_nylas, django_capture_on_commit_callbacks
):
    rows = [ready_row(company) for _ in range(2)]
    call = ready_row(company, step_type="call")
    first = run_action(admin_client, "send_selected", [*rows, call], django_capture_on_commit_callbacks)
    page = first.content.decode()
    assert "2 of 3 row(s) sent." in page
    assert "not sent. Only reminder steps are sent; complete a call instead." in page
    run_action(admin_client, "send_selected", [*rows, call], django_capture_on_commit_callbacks)
    statuses = dict(
        ScheduledStep.objects.filter(pk__in=[r.pk for r in [*rows, call]]).values_list("pk", "status")
    )
    assert [statuses[r.pk] for r in rows] == [Status.SENT] * 2 and statuses[call.pk] == Status.READY
    assert len(fake_nylas.deliveries) == 2 and len(fake_nylas.requests) == 2


def test_send_selected_retries_from_the_first_attempts_connection(
    admin_client, company, fake_nylas, django_capture_on_commit_callbacks, settings
):
    row = ready_row(company)
    settings.NYLAS_TIMEOUT_SECONDS = 0.5
    fake_nylas.fail_next(deliver_then_hang=1.0)
    first = run_action(admin_client, "send_selected", [row], django_capture_on_commit_callbacks)
    assert f"{row.customer.name}, {row.step.label}: not sent." in first.content.decode()
    row.refresh_from_db()
    assert row.status == Status.READY and row.attempts == 1
    run_action(admin_client, "send_selected", [row], django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.provider_message_id == fake_nylas.deliveries[0]["message_id"]
    assert len(fake_nylas.deliveries) == 1


def test_cancel_selected_cancels_scheduled_and_ready_rows_only(
    admin_client, company, fake_nylas, django_capture_on_commit_callbacks
):
    scheduled = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=3))
    ready = ready_row(company)
    sent = ready_row(company)
    ScheduledStep.objects.filter(pk=sent.pk).update(status=Status.SENT)
    response = run_action(
        admin_client, "cancel_selected", [scheduled, ready, sent], django_capture_on_commit_callbacks
    )
    page = response.content.decode()
    assert "2 of 3 row(s) cancelled." in page and "not cancelled. A sent row cannot be cancelled." in page
    statuses = dict(
        ScheduledStep.objects.filter(pk__in=[scheduled.pk, ready.pk, sent.pk]).values_list("pk", "status")
    )
    assert statuses == {scheduled.pk: Status.CANCELLED, ready.pk: Status.CANCELLED, sent.pk: Status.SENT}


def test_a_rows_schedule_note_is_shown_read_only(admin_client, company):
    row = due_row(company, schedule_note="Sat 2026-12-26 is not a send day")
    page = admin_client.get(f"{CHANGELIST}{row.pk}/change/").content.decode()
    assert "Sat 2026-12-26 is not a send day" in page
    assert not re.search(r'name="[^"]*schedule_note"', page)  # no input: read-only
    inline = admin_client.get(f"/admin/enrollments/enrollment/{row.enrollment_id}/change/").content.decode()
    assert "Sat 2026-12-26 is not a send day" in inline
    assert not re.search(r'name="[^"]*schedule_note"', inline)
