# ruff: noqa: F811 (the webhook fixtures are imported by name)
"""Replies that act on the account, end to end: Nylas's signed webhook in, the reply read, and its action
on every active or paused enrollment of the customer; a person's review replacing the action; the
suppression list in the API, at promotion and at send."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import responses
from django.utils import timezone

from daylit.collections_models import Promise
from outreach_queue.models import Reply, Suppression
from outreach_queue.services import queue_rows_promote
from outreach_queue.services.suppressions import suppression_add
from tests.conftest import company_url
from tests.connections.conftest import eager_celery  # noqa: F401 (fixture)
from tests.connections.test_webhooks import bounce, connection, deliver, message_created, thread_replied  # noqa: F401
from tests.factories.core import InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.helpers import Status, due_row

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def account(company, connection):  # noqa: F811
    """A customer with an open invoice, enrolled in two sequences; one email of the first was sent in
    thread t-1, and each enrollment has a step still to come."""
    first = EnrollmentFactory(
        sequence=SequenceFactory(company=company, status="active", timezone="America/Chicago")
    )
    customer = first.customer
    InvoiceFactory(customer=customer, amount_due=Decimal("500.00"))
    second = EnrollmentFactory(
        sequence=SequenceFactory(company=company, status="active"), customer=customer, company=company
    )
    ScheduledStepFactory(
        enrollment=first,
        status="sent",
        sender_connection=connection,
        provider_message_id="m-1",
        provider_thread_id="t-1",
    )
    for enrollment in (first, second):
        ScheduledStepFactory(enrollment=enrollment, scheduled_for=timezone.now() + datetime.timedelta(days=3))
    return customer, first, second


def reply(subject: str, text: str, **fields) -> dict:
    body = message_created(sender="ap@customer.example")
    body["data"]["object"].update(subject=subject, snippet=text[:100], body=f"<p>{text}</p>", **fields)
    return body


def states(*enrollments) -> list[tuple]:
    found = []
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        found.append((enrollment.status, enrollment.pause_reason or enrollment.stop_reason))
    return found


def test_an_out_of_office_with_a_return_date_pauses_the_whole_account_until_the_day_after(deliver, account):  # noqa: F811
    customer, first, second = account
    received = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    text = (
        "Ich bin bis zum 14. Dezember 2026 nicht im Büro. "
        "In dringenden Fällen wenden Sie sich bitte an Frau Weber."
    )
    assert (
        deliver(reply("Abwesenheitsnotiz: Re: Rechnung", text, date=int(received.timestamp()))).status_code
        == 200
    )

    found = Reply.objects.get()
    assert (found.classification, found.return_date, found.action) == (
        "auto_reply",
        datetime.date(2026, 12, 14),
        "paused",
    )
    assert states(first, second) == [("paused", "auto_reply"), ("paused", "auto_reply")]
    # 00:00 of the day after the return date, in each enrollment's own zone; nothing was stopped.
    assert first.paused_until == datetime.datetime(2026, 12, 15, tzinfo=CHICAGO)
    assert second.paused_until == datetime.datetime(2026, 12, 15, tzinfo=ZoneInfo(second.time_zone))


def test_an_auto_reply_without_a_date_pauses_72_hours_and_a_later_one_extends_it(deliver, account):  # noqa: F811
    _, first, _ = account
    received = timezone.now().replace(microsecond=0)
    deliver(
        reply(
            "Automatic reply: Invoice",
            "I am out of the office with limited access to email.",
            date=int(received.timestamp()),
        )
    )
    first.refresh_from_db()
    assert first.paused_until == received + datetime.timedelta(hours=72)

    later = message_created(sender="ap@customer.example", message_id="m-reply-2")
    later["data"]["object"].update(
        subject="Out of office",
        snippet="",
        body="<p>I am out of the office until further notice.</p>",
        date=int((received + datetime.timedelta(days=1)).timestamp()),
    )
    deliver(later)
    first.refresh_from_db()
    assert first.paused_until == received + datetime.timedelta(days=1, hours=72)


@responses.activate
def test_a_truncated_notification_is_read_through_the_sdk_and_its_headers_decide(deliver, account, settings):  # noqa: F811
    settings.NYLAS_API_KEY, settings.NYLAS_API_URI = "test-key", "https://api.us.nylas.com"
    _, first, _ = account
    responses.get(
        "https://api.us.nylas.com/v3/grants/g-1/messages/m-reply",
        json={
            "request_id": "r1",
            "data": {
                "id": "m-reply",
                "grant_id": "g-1",
                "thread_id": "t-1",
                "object": "message",
                "subject": "Re: Invoice",
                "body": "<p>Thanks, we received your message.</p>",
                "headers": [{"name": "Auto-Submitted", "value": "auto-replied"}],
            },
        },
    )
    truncated = message_created(sender="ap@customer.example")
    truncated["type"] = "message.created.truncated"
    del truncated["data"]["object"]["body"]
    deliver(truncated)

    assert "include_headers" in responses.calls[0].request.url
    found = Reply.objects.get()
    assert found.classification == "auto_reply" and found.text == "Thanks, we received your message."
    assert states(first) == [("paused", "auto_reply")]


def test_a_plain_reply_stops_only_the_sequences_that_stop_on_replies(deliver, account):  # noqa: F811
    _, first, second = account
    SequenceFactory._meta.model.objects.filter(pk=second.sequence_id).update(stop_on_reply=False)
    deliver(reply("Re: Invoice", "Can you send me a copy of the contract?"))
    assert Reply.objects.get().classification == "other"
    assert states(first, second) == [("completed", "replied"), ("active", None)]


# --- review -------------------------------------------------------------------------------------------


def review(api, company, found, **body):
    return api.post(company_url(company, f"replies/{found.id}/review"), body, format="json")


def test_review_replaces_the_action_and_undoes_the_old_one(api, company, deliver, account):  # noqa: F811
    customer, first, second = account
    deliver(
        reply("Automatic reply", "I am out of the office until 30 December 2026, with no access to email.")
    )
    found = Reply.objects.get()
    assert states(first, second) == [("paused", "auto_reply")] * 2

    promised = (timezone.now() + datetime.timedelta(days=10)).date()
    no_date = review(api, company, found, classification="promise")
    assert no_date.status_code == 400 and "promised_date" in no_date.json()  # the field named
    assert Reply.objects.get().classification == "auto_reply"  # and nothing changed
    response = review(api, company, found, classification="promise", promised_date=str(promised))
    assert response.status_code == 200, response.json()
    assert response.json()["classification"] == "promise" and response.json()["reviewed_at"]
    promise = Promise.objects.get()
    assert (promise.source, promise.promised_date, promise.status) == ("reply", promised, "open")
    # The auto-reply's pause was lifted, then the promise paused what chases the invoice.
    assert [state for state, _ in states(first, second)] == ["paused", "paused"]
    assert {reason for _, reason in states(first, second)} == {"promise"}

    response = review(api, company, found, classification="unsubscribe")
    assert response.status_code == 200 and response.json()["action"] == "stopped_and_suppressed"
    promise.refresh_from_db()
    assert promise.status == "cancelled"
    assert states(first, second) == [("completed", "replied")] * 2
    assert Suppression.objects.get().email == "ap@customer.example"

    again = review(api, company, found, classification="unsubscribe")
    assert again.status_code == 200 and Suppression.objects.count() == 1


@pytest.mark.parametrize("listed_before", [False, True], ids=["added by the reply", "listed before"])
def test_review_lifts_only_a_suppression_the_reply_added(api, company, deliver, account, listed_before):  # noqa: F811
    if listed_before:  # by an earlier unsubscribe, for the same reason
        suppression_add(company_id=company.pk, email="AP@customer.example", reason="unsubscribe")
    deliver(reply("Re: Invoice", "Please take me off this list."))
    found = Reply.objects.get()

    response = review(api, company, found, classification="unsubscribe")
    assert response.status_code == 200, response.json()
    assert response.json()["action"] == ("stopped" if listed_before else "stopped_and_suppressed")
    assert Suppression.objects.get().reason == "unsubscribe"

    response = review(api, company, found, classification="question")
    assert response.status_code == 200, response.json()
    assert Suppression.objects.filter(email="ap@customer.example").exists() == listed_before


def test_review_keeps_a_suppression_another_reply_still_asks_for(api, company, deliver, account):  # noqa: F811
    deliver(reply("Re: Invoice", "Please take me off this list."))
    again = reply("Re: Invoice", "Unsubscribe me, as I asked before.")
    again["data"]["object"]["id"] = "m-reply-again"
    deliver(again)
    first, second = Reply.objects.order_by("received_at", "id")
    for found, action in ((first, "stopped_and_suppressed"), (second, "stopped")):  # listed by the first
        response = review(api, company, found, classification="unsubscribe")
        assert response.status_code == 200 and response.json()["action"] == action, response.json()

    response = review(api, company, first, classification="question")
    assert response.status_code == 200, response.json()
    # The second unsubscribe still stands: the address stays suppressed.
    assert Suppression.objects.filter(email="ap@customer.example", reason="unsubscribe").exists()


def test_replies_are_listed_and_filtered(api, company, deliver, account):  # noqa: F811
    deliver(reply("Re: Invoice", "Who is this?"))
    url = company_url(company, "replies")
    listed = api.get(url, {"classification": "other", "reviewed": "false"}).json()["data"]
    assert [item["id"] for item in listed] == [str(Reply.objects.get().pk)]
    assert api.get(url, {"reviewed": "true"}).json()["data"] == []
    assert api.get(url, {"classification": "shouting"}).status_code == 400


# --- suppressions ---------------------------------------------------------------------------------------


def test_the_suppression_list_through_the_api(api, company):
    url = company_url(company, "suppressions")
    created = api.post(url, {"email": "AP@Customer.example"}, format="json")
    assert created.status_code == 201 and created.json()["email"] == "ap@customer.example"
    assert created.json()["reason"] == "manual"
    assert api.post(url, {"email": "ap@customer.EXAMPLE"}, format="json").status_code == 409
    assert api.post(url, {"email": "not an address"}, format="json").status_code == 400
    assert [item["email"] for item in api.get(url).json()["data"]] == ["ap@customer.example"]
    assert api.get(f"{url}/AP@customer.example").json()["reason"] == "manual"
    assert api.delete(f"{url}/Ap@Customer.Example").status_code == 204
    assert api.delete(f"{url}/ap@customer.example").status_code == 404


def test_a_reminder_to_a_suppressed_address_fails_at_promotion_and_a_send_is_409(api, company, fake_nylas):
    row = due_row(company)
    Suppression.objects.create(company=company, email=row.customer.email.lower(), reason="unsubscribe")
    queue_rows_promote(company=company)
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.error == "suppressed: unsubscribe"

    ready = due_row(company)
    queue_rows_promote(company=company)
    Suppression.objects.create(company=company, email=ready.customer.email.lower(), reason="bounce")
    response = api.post(company_url(company, f"sequences/queue/{ready.pk}/send"), {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "suppressed"
    assert fake_nylas.requests == []
    edited = api.patch(
        company_url(company, f"sequences/queue/{ready.pk}"),
        {"to_email": "other@customer.example"},
        format="json",
    )
    if edited.status_code == 200:  # to_email editable: the suppression no longer applies
        assert (
            api.post(company_url(company, f"sequences/queue/{ready.pk}/send"), {}, format="json").status_code
            == 200
        )


def test_a_bounce_suppresses_the_address(deliver, account):  # noqa: F811
    sent = account[1].scheduled_steps.get(status="sent")
    sent.to_email = "AP@customer.example"
    sent.save()
    deliver(bounce())
    assert list(Suppression.objects.values_list("email", "reason")) == [("ap@customer.example", "bounce")]


def test_admin_reviews_replies_and_keeps_the_suppression_list_through_the_services(
    admin_client,
    company,
    deliver,
    account,  # noqa: F811
):
    _, first, _ = account
    deliver(reply("Re: Invoice", "Please remove me, I no longer handle invoices here."))
    found = Reply.objects.get()
    response = admin_client.post(
        "/admin/queue/reply/",
        {"action": "review_as_wrong_contact", "_selected_action": [str(found.pk)]},
        follow=True,
    )
    assert "Reviewed 1 reply(ies)." in response.content.decode()
    found.refresh_from_db()
    assert (found.classification, found.action) == ("wrong_contact", "stopped_and_suppressed")
    assert found.reviewed_at is not None
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("ap@customer.example", "wrong_contact")

    added = admin_client.post(
        "/admin/queue/suppression/add/",
        {"company": str(company.pk), "email": "Billing@Other.example", "reason": "manual"},
    )
    assert added.status_code == 302 and Suppression.objects.filter(email="billing@other.example").exists()
    admin_client.post(f"/admin/queue/suppression/{suppression.pk}/delete/", {"post": "yes"})
    assert not Suppression.objects.filter(pk=suppression.pk).exists()
    assert admin_client.get(f"/admin/queue/reply/{found.pk}/delete/").status_code == 403  # history stays


@responses.activate
def test_a_thread_replied_notification_is_read_through_the_sdk_too(deliver, account, settings):
    settings.NYLAS_API_KEY, settings.NYLAS_API_URI = "test-key", "https://api.us.nylas.com"
    _, first, _ = account
    responses.get(
        "https://api.us.nylas.com/v3/grants/g-1/messages/m-reply",
        json={
            "request_id": "r1",
            "data": {
                "id": "m-reply",
                "grant_id": "g-1",
                "thread_id": "t-1",
                "object": "message",
                "from": [{"email": "AP@customer.example"}],
                "subject": "Automatic reply: Invoice",
                # A NUL from the mailbox must not make the delivery unstorable.
                "body": "<p>I am out of the office\\u0000 until 20 December 2026.</p>".replace(
                    "\\u0000", "\x00"
                ),
                "headers": [{"name": "Auto-Submitted", "value": "auto-replied"}],
            },
        },
    )
    deliver(thread_replied(root_message_id="m-1"))
    found = Reply.objects.get()
    assert (found.classification, found.from_email) == ("auto_reply", "ap@customer.example")
    assert "\x00" not in found.text
    assert states(first) == [("paused", "auto_reply")]


def test_a_promise_the_rules_refuse_falls_back_to_a_person(api, company, deliver, account):
    _, first, _ = account
    deliver(reply("Re: Invoice", "Thanks for the reminder."))
    found = Reply.objects.get()
    too_far = (timezone.now() + datetime.timedelta(days=800)).date()
    response = review(api, company, found, classification="promise", promised_date=str(too_far))
    assert response.status_code == 200, response.json()
    assert response.json()["action"] in ("stopped", "recorded") and not Promise.objects.exists()
