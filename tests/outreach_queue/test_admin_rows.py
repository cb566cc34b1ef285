"""The outreach queue's admin pages: the list a person works from (columns, filters, search), a row's
page (the email as sent, the timeline, the buttons) and the moves, each through the services."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from enrollments.models import ScheduledStep
from tests.factories.core import MemberFactory
from tests.outreach_queue.admin_scenario import build_queue, superuser
from tests.outreach_queue.helpers import Status, ready_row

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/queue/queuerow/"


@pytest.fixture
def admin_client(client):
    client.force_login(superuser())
    return client


@pytest.fixture
def queue(company, fake_nylas):
    return build_queue(company, fake_nylas)


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def row_page(admin_client, row) -> str:
    return page(admin_client.get(f"{CHANGELIST}{row.pk}/change/"))


def move(admin_client, row, verb, **data):
    return page(admin_client.post(f"{CHANGELIST}{row.pk}/move/{verb}/", data, follow=True))


def test_the_queue_is_its_own_entry_ordered_by_due_time_in_the_rows_zone(admin_client, queue):
    index = page(admin_client.get("/admin/"))
    assert "Outreach queue" in index and CHANGELIST in index
    listing = page(admin_client.get(CHANGELIST))
    order = [listing.index(f"{CHANGELIST}{r.pk}/change/") for r in (queue.render_failed, queue.upcoming)]
    assert order == sorted(order)  # due first, the step in three days last
    local = queue.upcoming.scheduled_for.astimezone(datetime.timezone(datetime.timedelta(hours=-6)))
    assert f"{local:%a %d %b %Y, %H:%M}" in listing and "America/Chicago" in listing
    assert "Acme Rockets" in listing and "Net-30 reminders" in listing and "Day 0 reminder" in listing
    assert "Subject lower" not in listing and "Ar owner" not in listing


def test_errors_read_as_sentences(admin_client, queue):
    listing = page(admin_client.get(CHANGELIST))
    assert "Could not render: body_plain_template: the template divides by zero" in listing
    assert "&lt;class" not in listing and "<class" not in listing
    assert "Nylas answered HTTP 503 (api_error)" in listing


def test_an_old_exception_repr_is_shown_as_words(admin_client, queue):
    ScheduledStep.objects.filter(pk=queue.render_failed.pk).update(
        error="Could not render: body_plain: [<class 'decimal.DivisionByZero'>]"
    )
    assert "Could not render: body_plain: the template divides by zero" in row_page(
        admin_client, queue.render_failed
    )


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ("status__exact=failed", ["Crimson Consulting"], ["Bluebird Bakery"]),
        ("step_type__exact=call", ["Day 5 call"], ["Bluebird Bakery"]),
        ("trouble=failed_1d", ["Crimson Consulting"], ["Bluebird Bakery", "Acme Rockets"]),
        ("trouble=retrying", ["Acme Rockets"], ["Bluebird Bakery", "Crimson Consulting"]),
        ("owner=none", ["Acme Rockets", "Bluebird Bakery"], []),
        ("q=bluebird", ["Bluebird Bakery"], ["Acme Rockets"]),
        ("q=AP@bluebird.example", ["Bluebird Bakery"], ["Acme Rockets"]),
    ],
)
def test_filters_and_search(admin_client, queue, query, expected, absent):
    listing = page(admin_client.get(f"{CHANGELIST}?{query}"))
    assert all(name in listing for name in expected)
    assert not any(f">{name}<" in listing for name in absent)


def test_search_by_row_enrollment_customer_and_message_id(admin_client, queue):
    sent = ready_row(queue.call.company)
    ScheduledStep.objects.filter(pk=sent.pk).update(status=Status.SENT, provider_message_id="msg-abc-123")
    for term, row in [
        (queue.to_cancel.pk, queue.to_cancel),
        (queue.to_cancel.enrollment_id, queue.to_cancel),
        (queue.to_cancel.customer_id, queue.to_cancel),
        ("msg-abc-123", sent),
    ]:
        listing = page(admin_client.get(f"{CHANGELIST}?q={term}"))
        assert f"{CHANGELIST}{row.pk}/change/" in listing
        assert f"{CHANGELIST}{queue.render_failed.pk}/change/" not in listing


def test_owner_and_connection_filters(admin_client, queue):
    owner = MemberFactory(company=queue.call.company)
    queue.to_cancel.customer.ar_owner = owner
    queue.to_cancel.customer.save()  # the row's ar_owner_id follows by trigger
    listing = page(admin_client.get(f"{CHANGELIST}?owner={owner.pk}"))
    assert "Bluebird Bakery" in listing and ">Acme Rockets<" not in listing
    connection = queue.call.sequence.sender_connection_id
    listing = page(admin_client.get(f"{CHANGELIST}?connection={connection}"))
    assert all(f"{CHANGELIST}{r.pk}/change/" in listing for r in (queue.call, queue.retrying, queue.upcoming))


def test_a_row_page_shows_the_email_sandboxed_the_timeline_and_its_buttons(admin_client, queue):
    html = row_page(admin_client, queue.retrying)
    assert "The email, as the customer will see it" in html
    assert "Hello Acme Rockets, 1250.00 USD is due." in html  # the plain part
    frame = re.search(r"<iframe [^>]*>", html).group(0)
    assert 'sandbox=""' in frame and "srcdoc=" in frame
    assert "&lt;b&gt;Acme Rockets&lt;/b&gt;" in frame  # escaped into srcdoc: rendered only inside the frame
    assert "Timeline of the enrollment" in html and "queue_row.ready" in html and "Day 5 call" in html
    assert 'data-move="Retry now"' in html and 'data-move="Cancel row"' in html
    assert 'data-move="Send now"' not in html and 'data-move="Mark done"' not in html
    assert "subject_lower" not in html and "ar_owner_id" not in html and 'name="subject"' not in html
    assert "Acme Rockets · Day 0 reminder" in html  # titled by name, not "reminder ready @ ...Z"


def test_buttons_follow_the_rows_state(admin_client, queue):
    assert 'data-move="Mark done"' in row_page(admin_client, queue.call)
    assert 'data-move="Send now"' in row_page(admin_client, queue.to_cancel)
    failed = row_page(admin_client, queue.render_failed)
    assert 'id="row-error"' in failed
    # Failed before any send: retried while its enrollment runs; its enrollment ended with it here.
    retriable = queue.render_failed.enrollment.status in ("active", "paused")
    assert ('data-move="Retry now"' in failed) is retriable
    assert failed.count("data-move=") == int(retriable)


def test_retry_sends_through_the_service_and_says_so(admin_client, queue, fake_nylas):
    html = move(admin_client, queue.retrying, "retry")
    assert "Acme Rockets, Day 0 reminder: sent to ap@acme.example." in html
    queue.retrying.refresh_from_db()
    assert queue.retrying.status == Status.SENT and queue.retrying.attempts == 2
    assert len(fake_nylas.deliveries) == 1  # the 503 delivered nothing; the retry reused the row's key
    assert len({r["key"] for r in fake_nylas.requests}) == 1


def test_a_failed_send_is_told_on_the_page(admin_client, queue, fake_nylas):
    fake_nylas.fail_next(status=503)
    html = move(admin_client, queue.to_cancel, "send")
    assert "Bluebird Bakery, Day 0 reminder: not sent. Nylas 503 api_error: scripted 503" in html
    assert '<li class="error">' in html


def test_cancel_and_complete(admin_client, queue):
    assert "Bluebird Bakery, Day 0 reminder: cancelled." in move(admin_client, queue.to_cancel, "cancel")
    assert "Acme Rockets, Day 5 call: marked done." in move(
        admin_client, queue.call, "complete", notes="Left a voicemail"
    )
    queue.to_cancel.refresh_from_db()
    queue.call.refresh_from_db()
    assert queue.to_cancel.status == Status.CANCELLED
    assert (queue.call.status, queue.call.notes) == (Status.COMPLETED, "Left a voicemail")
    again = move(admin_client, queue.render_failed, "cancel")
    assert "Crimson Consulting, Day 3 reminder: not cancelled. A failed row cannot be cancelled." in again


def test_send_selected_tells_the_truth_about_each_row(admin_client, queue, fake_nylas):
    """One row sends; one has no sender (its sequence lost it): the page says which and why."""
    no_sender = ready_row(queue.call.company)
    no_sender.sequence.sender_connection = None
    no_sender.sequence.save()
    response = admin_client.post(
        CHANGELIST,
        {"action": "send_selected", "_selected_action": [str(queue.to_cancel.pk), str(no_sender.pk)]},
        follow=True,
    )
    html = page(response)
    assert "1 of 2 row(s) sent." in html
    assert f"{no_sender.customer.name}, {no_sender.step.label}: not sent. No sender:" in html
    assert "handed to workers" not in html
    no_sender.refresh_from_db()
    assert no_sender.status == Status.READY


def test_send_selected_refuses_more_rows_than_one_click_may_send(admin_client, queue, monkeypatch):
    monkeypatch.setattr("outreach_queue.admin.moves.MAX_SENDS_PER_CLICK", 1)
    ids = [str(queue.to_cancel.pk), str(queue.retrying.pk)]
    html = page(
        admin_client.post(CHANGELIST, {"action": "send_selected", "_selected_action": ids}, follow=True)
    )
    assert "Select at most 1 rows to send at once" in html
    assert ScheduledStep.objects.filter(pk__in=ids, status=Status.READY).count() == 2


def test_history_cannot_be_deleted_or_edited(admin_client, queue):
    assert admin_client.get(f"{CHANGELIST}{queue.render_failed.pk}/delete/").status_code == 403
    assert "delete_selected" not in page(admin_client.get(CHANGELIST))
    enrollment = queue.retrying.enrollment_id
    assert admin_client.get(f"/admin/enrollments/enrollment/{enrollment}/delete/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{queue.call.pk}/change/", {"status": "sent"}).status_code == 403


def test_moves_need_the_change_permission_and_a_post(client, queue):
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_queuerow"))
    client.force_login(viewer)
    html = page(client.get(f"{CHANGELIST}{queue.to_cancel.pk}/change/"))
    assert "data-move=" not in html
    refused = page(client.post(f"{CHANGELIST}{queue.to_cancel.pk}/move/cancel/", follow=True))
    assert "You may look at queue rows but not act on them." in refused
    assert client.get(f"{CHANGELIST}{queue.to_cancel.pk}/move/cancel/").status_code == 405
    queue.to_cancel.refresh_from_db()
    assert queue.to_cancel.status == Status.READY


def test_the_list_is_a_fixed_number_of_queries(admin_client, queue, django_assert_max_num_queries):
    for _ in range(5):
        ready_row(queue.call.company)
    with django_assert_max_num_queries(12):
        page(admin_client.get(CHANGELIST))
