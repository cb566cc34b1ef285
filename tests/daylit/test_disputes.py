"""Disputes through the API and the services: open, resolve, each with its event and its signal; the
invoice's `disputed` flag; validation 400s and state 409s."""

import pytest
from django.db import IntegrityError, transaction

from daylit import disputes
from daylit.api.promise_serializers import DisputeSerializer
from daylit.models import Dispute, Invoice
from daylit.services import invoice_update
from daylit.signals import dispute_opened, dispute_resolved
from events.payloads import DISPUTE
from events.types import DISPUTE_OPENED, DISPUTE_RESOLVED
from tests.conftest import company_url
from tests.daylit.collections_helpers import caught
from tests.events.emission import event_data, payload, recorded
from tests.events.helpers import as_api_json
from tests.factories.core import CustomerFactory, DisputeFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

DISPUTE_FIELDS = {
    "id",
    "invoice_id",
    "customer_id",
    "reason",
    "status",
    "resolution",
    "note",
    "resolution_note",
    "opened_at",
    "resolved_at",
}


@pytest.fixture
def invoice(company):
    return InvoiceFactory(customer=CustomerFactory(company=company))


def open_url(company, invoice) -> str:
    return company_url(company, f"invoices/{invoice.pk}/disputes")


def resolve_url(company, dispute) -> str:
    return company_url(company, f"disputes/{dispute.pk}/resolve")


def test_opening_is_201_marks_the_invoice_disputed_records_and_signals(api, company, invoice):
    with caught(dispute_opened) as sent:
        response = api.post(
            open_url(company, invoice), {"reason": "not_received", "note": "never came"}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == DISPUTE_FIELDS
    assert (body["reason"], body["status"], body["resolution"], body["resolved_at"]) == (
        "not_received",
        "open",
        None,
        None,
    )
    assert (body["note"], body["resolution_note"]) == ("never came", "")
    assert (body["invoice_id"], body["customer_id"]) == (str(invoice.pk), str(invoice.customer_id))
    invoice.refresh_from_db()
    assert invoice.disputed is True
    assert api.get(company_url(company, f"invoices/{invoice.pk}")).json()["disputed"] is True
    dispute = Dispute.objects.get(pk=body["id"])
    assert recorded() == [(DISPUTE_OPENED, dispute.pk)]
    assert event_data(DISPUTE_OPENED, dispute.pk) == body
    assert [s["dispute"] for s in sent] == [dispute]


def test_a_second_open_dispute_is_409_dispute_open(api, company, invoice):
    assert api.post(open_url(company, invoice), {"reason": "pricing"}, format="json").status_code == 201
    response = api.post(open_url(company, invoice), {"reason": "quality"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "dispute_open"
    assert Dispute.objects.count() == 1 and len(recorded(DISPUTE_OPENED)) == 1


@pytest.mark.parametrize("status", [Invoice.Status.PAID, Invoice.Status.VOID])
def test_only_an_open_invoice_can_be_disputed(api, company, invoice, status):
    invoice_update(invoice=invoice, data={"status": status})
    response = api.post(open_url(company, invoice), {"reason": "duplicate"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "invoice_not_open"
    invoice.refresh_from_db()
    assert not invoice.disputed and not Dispute.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "reason"),
        ({"reason": "too_expensive"}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": 3}, "reason"),
        ({"reason": "other", "note": "x" * 2001}, "note"),
        ({"reason": "other", "note": None}, "note"),
    ],
)
def test_bad_open_bodies_are_400_naming_the_field(api, company, invoice, body, field):
    response = api.post(open_url(company, invoice), body, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("resolution", ["upheld", "rejected"])
def test_resolving_clears_disputed_once_and_is_final(api, company, invoice, resolution):
    dispute = disputes.dispute_open(invoice=invoice, reason="pricing")
    with caught(dispute_resolved) as sent:
        response = api.post(
            resolve_url(company, dispute), {"resolution": resolution, "note": "checked"}, format="json"
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["resolution"], body["resolution_note"]) == (
        "resolved",
        resolution,
        "checked",
    )
    assert body["resolved_at"] and body["note"] == ""
    invoice.refresh_from_db()
    assert invoice.disputed is False and invoice.status == "open"  # upheld does not void it
    assert recorded() == [(DISPUTE_OPENED, dispute.pk), (DISPUTE_RESOLVED, dispute.pk)]
    assert event_data(DISPUTE_RESOLVED, dispute.pk) == body
    assert len(sent) == 1 and sent[0]["dispute"].resolution == resolution

    again = api.post(resolve_url(company, dispute), {"resolution": "rejected"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "dispute_resolved"
    assert len(recorded(DISPUTE_RESOLVED)) == 1
    # A resolved dispute is history: the invoice may be disputed again.
    assert api.post(open_url(company, invoice), {"reason": "other"}, format="json").status_code == 201


@pytest.mark.parametrize("body", [{}, {"resolution": "maybe"}, {"resolution": None}, {"resolution": "open"}])
def test_bad_resolve_bodies_are_400_naming_resolution(api, company, invoice, body):
    dispute = disputes.dispute_open(invoice=invoice, reason="pricing")
    response = api.post(resolve_url(company, dispute), body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["resolution"]
    dispute.refresh_from_db()
    assert dispute.status == "open"


def test_a_dispute_of_a_paid_invoice_can_still_be_resolved(api, company, invoice):
    dispute = disputes.dispute_open(invoice=invoice, reason="already_paid")
    invoice_update(invoice=invoice, data={"status": Invoice.Status.PAID})
    response = api.post(resolve_url(company, dispute), {"resolution": "upheld"}, format="json")
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert (invoice.status, invoice.disputed) == ("paid", False)


def test_another_companys_dispute_and_invoice_are_404(api, company, other_company):
    foreign = DisputeFactory(invoice__customer=CustomerFactory(company=other_company))
    assert api.post(resolve_url(company, foreign), {"resolution": "upheld"}, format="json").status_code == 404
    assert api.get(company_url(company, f"disputes/{foreign.pk}")).status_code == 404
    assert api.post(open_url(company, foreign.invoice), {"reason": "other"}, format="json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "open"


def test_disputed_is_read_only_in_the_invoice_api(api, company, invoice):
    response = api.patch(company_url(company, f"invoices/{invoice.pk}"), {"disputed": True}, format="json")
    assert response.status_code == 200 and response.json()["disputed"] is False


def test_the_database_holds_one_open_dispute_and_a_consistent_resolution(invoice):
    DisputeFactory(invoice=invoice)
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeFactory(invoice=invoice)
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeFactory(invoice=invoice, status="resolved")  # resolved needs a resolution and a time
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeFactory(invoice=invoice, status="open", resolution="upheld")


def test_list_filters_and_detail(api, company, other_company):
    a, b = (CustomerFactory(company=company) for _ in range(2))
    first = disputes.dispute_open(invoice=InvoiceFactory(customer=a), reason="pricing")
    second = disputes.dispute_open(invoice=InvoiceFactory(customer=b), reason="quality")
    disputes.dispute_resolve(dispute=second, resolution="rejected")
    DisputeFactory(invoice__customer=CustomerFactory(company=other_company))

    def ids(**query):
        response = api.get(company_url(company, "disputes"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [str(second.pk), str(first.pk)]
    assert ids(status="open") == [str(first.pk)]
    assert ids(status="resolved", customer_id=str(b.pk)) == [str(second.pk)]
    assert ids(invoice_id=str(first.invoice_id)) == [str(first.pk)]
    assert ids(customer_id=str(other_company.pk)) == []
    detail = api.get(company_url(company, f"disputes/{first.pk}"))
    assert detail.json() == as_api_json(DisputeSerializer(first).data)


@pytest.mark.parametrize("resolved", [False, True])
def test_the_event_payload_is_the_api_shape(company, resolved):
    dispute = disputes.dispute_open(
        invoice=InvoiceFactory(customer=CustomerFactory(company=company)), reason="other", note="n\u00e9"
    )
    if resolved:
        dispute = disputes.dispute_resolve(dispute=dispute, resolution="upheld", note="fine")
    event = payload(type=DISPUTE_OPENED, subject_type=DISPUTE, obj_id=dispute.pk)
    assert event.data == as_api_json(DisputeSerializer(dispute).data)
