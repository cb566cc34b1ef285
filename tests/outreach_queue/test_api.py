import datetime
import uuid

import pytest
from django.utils import timezone

from connections.models import OutboxMessage
from enrollments.models import Enrollment
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory, InvoiceFactory, MemberFactory
from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.helpers import Status, due_row, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db


def queue_url(company, row=None, action=""):
    path = "sequences/queue" + (f"/{row.pk}" if row is not None else "") + (f"/{action}" if action else "")
    return company_url(company, path)


# --- list ---------------------------------------------------------------------------------------


def test_list_requires_auth(anon, company):
    assert anon.get(queue_url(company)).status_code == 401


def test_list_of_another_company_is_404(outsider_api, company):
    due_row(company)
    assert outsider_api.get(queue_url(company)).status_code == 404


@pytest.mark.parametrize(
    "params, field",
    [
        ({"category": "soon"}, "category"),
        ({"step_type": "fax"}, "step_type"),
        ({"sequence_id": "nope"}, "sequence_id"),
        ({"ar_owner": "nope,__unassigned__"}, "ar_owner"),
        ({"page_size": 101}, "page_size"),
        ({"page": 0}, "page"),
    ],
)
def test_list_bad_parameters_are_400(api, company, params, field):
    response = api.get(queue_url(company), params)
    assert response.status_code == 400 and field in response.json()


def test_list_promotes_before_reading_and_serialises_the_row(api, company):
    row = due_row(company)
    body = api.get(queue_url(company)).json()
    assert body["count"] == 1 and body["page"] == 1 and body["page_size"] == 20
    item = body["data"][0]
    assert item["id"] == str(row.pk) and item["status"] == "ready"
    assert item["step_label"] == row.step.label and item["sequence_name"] == row.sequence.name
    assert item["customer_name"] == row.customer.name and item["to_email"] == row.customer.email
    assert item["subject"].startswith("Invoice INV-") and item["scheduled_for"].endswith("Z")
    expected = {
        "id",
        "status",
        "step_type",
        "step_id",
        "step_label",
        "sequence_id",
        "sequence_name",
        "enrollment_id",
        "customer_id",
        "customer_name",
        "scheduled_for",
        "ready_at",
        "processed_at",
        "to_email",
        "subject",
        "body_plain",
        "body_html",
        "sender_connection_id",
        "provider_message_id",
        "provider_thread_id",
        "error",
    }
    assert expected <= set(item)


def test_categories_and_their_order(api, company):
    late = due_row(company, scheduled_for=timezone.now() - datetime.timedelta(hours=1))
    early = due_row(company, scheduled_for=timezone.now() - datetime.timedelta(hours=2))
    upcoming = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1))
    ids = [r["id"] for r in api.get(queue_url(company)).json()["data"]]
    assert ids == [str(early.pk), str(late.pk)]
    assert [r["id"] for r in api.get(queue_url(company), {"category": "upcoming"}).json()["data"]] == [
        str(upcoming.pk)
    ]
    api.post(queue_url(company, late, "cancel"))
    api.post(queue_url(company, early, "cancel"))
    history = [r["id"] for r in api.get(queue_url(company), {"category": "history"}).json()["data"]]
    assert history == [str(early.pk), str(late.pk)]  # newest change first


def test_filters(api, company, member):
    sequence = sequence_with_sender(company)
    owned = CustomerFactory(company=company, ar_owner=member)
    InvoiceFactory(customer=owned)
    a = due_row(company, sequence=sequence, customer=owned)
    b = due_row(company, step_type="call")
    c = due_row(company)  # unassigned customer

    def ids(**params):
        return {r["id"] for r in api.get(queue_url(company), params).json()["data"]}

    assert ids(step_type="call") == {str(b.pk)}
    assert ids(sequence_id=str(sequence.pk)) == {str(a.pk)}
    assert ids(enrollment_id=str(c.enrollment_id)) == {str(c.pk)}
    assert ids(customer_id=str(owned.pk)) == {str(a.pk)}
    assert ids(ar_owner=str(member.pk)) == {str(a.pk)}
    assert ids(ar_owner="__unassigned__") == {str(b.pk), str(c.pk)}
    assert ids(ar_owner=f"{member.pk},__unassigned__") == {str(a.pk), str(b.pk), str(c.pk)}
    assert ids(ar_owner=str(uuid.uuid4())) == set()


def test_search_matches_sequence_label_customer_and_subject_in_any_case(api, company):
    by_sequence = due_row(
        company, sequence=SequenceFactory(company=company, status="active", name="Zebra chase")
    )
    by_customer = due_row(company, customer=CustomerFactory(company=company, name="Quokka Ltd"))
    InvoiceFactory(customer=by_customer.customer)
    by_label = due_row(company)
    by_label.step.label = "Walrus call"
    by_label.step.save()
    by_subject = due_row(company)
    by_subject.step.subject_template = "About your Narwhal account"
    by_subject.step.save()

    def ids(term):
        return {r["id"] for r in api.get(queue_url(company), {"search": term}).json()["data"]}

    assert ids("zEBRA") == {str(by_sequence.pk)}
    assert ids("quokka") == {str(by_customer.pk)}
    assert ids("WALRUS") == {str(by_label.pk)}
    assert ids("narwhal") == {str(by_subject.pk)}
    assert ids("nothing-like-this") == set()


def test_list_has_a_fixed_number_of_queries(api, company, django_assert_max_num_queries):
    for _ in range(3):
        due_row(company)
    api.get(queue_url(company))  # promote first
    for _ in range(10):
        due_row(company, status=Status.READY)
    with django_assert_max_num_queries(8):
        assert api.get(queue_url(company)).json()["count"] == 13


def test_page_past_the_end_is_empty(api, company):
    due_row(company)
    body = api.get(queue_url(company), {"page": 5}).json()
    assert body["count"] == 1 and body["data"] == []


# --- one row: GET, PATCH ------------------------------------------------------------------------


def test_get_row_and_other_companys_row_is_404(api, company, other_company):
    row = ready_row(company)
    assert api.get(queue_url(company, row)).json()["id"] == str(row.pk)
    foreign = due_row(other_company)
    assert api.get(queue_url(company, foreign)).status_code == 404
    assert api.get(company_url(company, "sequences/queue/not-a-uuid")).status_code == 404


def test_patch_edits_a_ready_reminder(api, company):
    row = ready_row(company)
    response = api.patch(
        queue_url(company, row),
        {"subject": "Edited", "body_plain": "New body", "body_html": "<b>New</b>", "to_email": "x@y.example"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    row.refresh_from_db()
    assert (row.subject, row.body_plain, row.body_html, row.to_email) == (
        "Edited",
        "New body",
        "<b>New</b>",
        "x@y.example",
    )


def test_patch_bad_email_is_400(api, company):
    row = ready_row(company)
    response = api.patch(queue_url(company, row), {"to_email": "not-an-email"}, format="json")
    assert response.status_code == 400 and "to_email" in response.json()


def test_patch_other_states_and_calls_are_409(api, company):
    scheduled = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1))
    assert api.patch(queue_url(company, scheduled), {"subject": "x"}, format="json").status_code == 409
    call = due_row(company, step_type="call")
    assert api.patch(queue_url(company, call), {"subject": "x"}, format="json").status_code == 409


def test_patch_other_company_is_404(outsider_api, company):
    row = ready_row(company)
    assert outsider_api.patch(queue_url(company, row), {"subject": "x"}, format="json").status_code == 404


# --- cancel, complete -----------------------------------------------------------------------------


def test_cancel_ready_then_again_is_200_unchanged(api, company):
    row = ready_row(company)
    first = api.post(queue_url(company, row, "cancel"))
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    again = api.post(queue_url(company, row, "cancel"))
    assert again.status_code == 200 and again.json()["processed_at"] == first.json()["processed_at"]


def test_cancelling_the_last_open_row_finishes_the_enrollment(api, company):
    row = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=2))
    assert api.post(queue_url(company, row, "cancel")).status_code == 200
    assert Enrollment.objects.get(pk=row.enrollment_id).stop_reason == "finished"


def test_cancel_a_sent_row_is_409(api, company):
    row = due_row(company, status=Status.SENT)
    assert api.post(queue_url(company, row, "cancel")).status_code == 409


def test_complete_a_ready_call_with_notes(api, company):
    row = due_row(company, step_type="call")
    api.get(queue_url(company))
    response = api.post(
        queue_url(company, row, "complete"), {"notes": "Promised to pay Friday"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "completed"
    assert response.json()["notes"] == "Promised to pay Friday"
    assert api.post(queue_url(company, row, "complete")).status_code == 200


def test_complete_rules(api, company):
    reminder = ready_row(company)
    assert api.post(queue_url(company, reminder, "complete")).status_code == 409
    scheduled_task = due_row(
        company, step_type="task", scheduled_for=timezone.now() + datetime.timedelta(days=1)
    )
    assert api.post(queue_url(company, scheduled_task, "complete")).status_code == 409
    cancelled = due_row(company, step_type="task", status=Status.CANCELLED)
    assert api.post(queue_url(company, cancelled, "complete")).status_code == 409
    response = api.post(queue_url(company, reminder, "complete"), {"notes": 5 * "x" * 3000}, format="json")
    assert response.status_code == 400 and "notes" in response.json()


def test_cancel_and_complete_need_auth_and_membership(anon, outsider_api, company):
    row = ready_row(company)
    assert anon.post(queue_url(company, row, "cancel")).status_code == 401
    assert outsider_api.post(queue_url(company, row, "cancel")).status_code == 404
    assert outsider_api.post(queue_url(company, row, "complete")).status_code == 404


# --- send (offline outbox transport) -----------------------------------------------------------


def test_send_through_the_outbox(api, company, member):
    row = ready_row(company)
    response = api.post(queue_url(company, row, "send"), {}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "sent" and body["provider_message_id"].startswith("outbox-msg-")
    assert body["sender_connection_id"] == str(row.sequence.sender_connection_id)
    assert OutboxMessage.objects.get().to_email == row.to_email
    # Past ready: the current state, 200, nothing sent again.
    again = api.post(queue_url(company, row, "send"), {}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "sent"
    assert OutboxMessage.objects.count() == 1
    assert Enrollment.objects.get(pk=row.enrollment_id).stop_reason == "finished"


def test_send_needs_auth_and_membership(anon, outsider_api, company):
    row = ready_row(company)
    assert anon.post(queue_url(company, row, "send")).status_code == 401
    assert outsider_api.post(queue_url(company, row, "send")).status_code == 404


def test_send_state_rules(api, company):
    call = due_row(company, step_type="call")
    api.get(queue_url(company))
    assert api.post(queue_url(company, call, "send")).status_code == 409
    scheduled = due_row(company, scheduled_for=timezone.now() + datetime.timedelta(days=1))
    assert api.post(queue_url(company, scheduled, "send")).status_code == 409
    cancelled = due_row(company, status=Status.CANCELLED)
    response = api.post(queue_url(company, cancelled, "send"))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_send_without_any_sender_is_400(api, company):
    row = ready_row(
        company, sequence=SequenceFactory(company=company, status="active", sender_connection=None)
    )
    response = api.post(queue_url(company, row, "send"), {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "no_sender"


def test_send_from_someone_elses_private_connection_is_403(api, company):
    row = ready_row(company)
    theirs = EmailConnectionFactory(company=company, member=MemberFactory(company=company))
    response = api.post(
        queue_url(company, row, "send"), {"sender_connection_id": str(theirs.pk)}, format="json"
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.READY


def test_send_from_own_or_shared_connection(api, company, member):
    own = EmailConnectionFactory(company=company, member=member)
    row = ready_row(company)
    response = api.post(queue_url(company, row, "send"), {"sender_connection_id": str(own.pk)}, format="json")
    assert response.status_code == 200 and response.json()["sender_connection_id"] == str(own.pk)
    shared = EmailConnectionFactory(company=company, allow_shared_sending=True)
    row2 = ready_row(company)
    response = api.post(
        queue_url(company, row2, "send"), {"sender_connection_id": str(shared.pk)}, format="json"
    )
    assert response.status_code == 200


def test_send_from_a_revoked_sender_is_403(api, company):
    row = ready_row(company)
    row.sequence.sender_connection.status = "revoked"
    row.sequence.sender_connection.save()
    assert api.post(queue_url(company, row, "send"), {}, format="json").status_code == 403


def test_send_with_another_companys_connection_is_400(api, company, other_company):
    row = ready_row(company)
    foreign = EmailConnectionFactory(company=other_company, allow_shared_sending=True)
    response = api.post(
        queue_url(company, row, "send"), {"sender_connection_id": str(foreign.pk)}, format="json"
    )
    assert response.status_code == 400 and "sender_connection_id" in response.json()


def test_send_without_recipient_is_400(api, company):
    customer = CustomerFactory(company=company, email="")
    InvoiceFactory(customer=customer)
    row = ready_row(company, customer=customer)
    response = api.post(queue_url(company, row, "send"), {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "no_recipient"


def test_search_keeps_every_match_when_the_id_list_is_cut(api, company, monkeypatch):
    """More matching customers than are inlined: the narrow plan must switch to a subquery, not drop any."""
    from outreach_queue import search
    from tests.factories.core import CustomerFactory as Customers
    from tests.factories.core import InvoiceFactory as Invoices
    from tests.outreach_queue.helpers import ready_row as make_ready

    monkeypatch.setattr(search, "MAX_INLINE_IDS", 3)
    for n in range(6):
        customer = Customers(company=company, name=f"Zebra Traders {n}")
        Invoices(customer=customer)
        make_ready(company, customer=customer)
    response = api.get(company_url(company, "sequences/queue"), {"search": "zebra traders"})
    assert response.status_code == 200 and response.json()["count"] == 6
