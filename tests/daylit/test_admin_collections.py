"""Promises and disputes in admin: listed with invoice and customer, filtered by status, cancel and
resolve through the services (events and signals follow), nothing added or deleted here."""

import datetime

import pytest
from django.utils import timezone

from daylit import disputes, promises
from daylit.models import Dispute, Promise
from events.types import DISPUTE_RESOLVED, PROMISE_CANCELLED
from tests.events.emission import recorded
from tests.factories.core import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def a_promise(company, **fields) -> Promise:
    invoice = InvoiceFactory(customer=CustomerFactory(company=company, name="Acme Ltd"), number="INV-77")
    return promises.promise_create(
        invoice=invoice, promised_date=timezone.now().astimezone(datetime.UTC).date(), **fields
    )


def a_dispute(company) -> Dispute:
    invoice = InvoiceFactory(customer=CustomerFactory(company=company, name="Globex"), number="INV-88")
    return disputes.dispute_open(invoice=invoice, reason="pricing", note="too dear")


def test_lists_show_invoice_and_customer_and_filter_by_status(admin_client, company):
    promise, dispute = a_promise(company), a_dispute(company)
    page = admin_client.get("/admin/daylit/promise/", {"status__exact": "open"}).content.decode()
    assert "INV-77" in page and "Acme Ltd" in page
    assert (
        "INV-77" not in admin_client.get("/admin/daylit/promise/", {"status__exact": "kept"}).content.decode()
    )
    page = admin_client.get("/admin/daylit/dispute/", {"status__exact": "open"}).content.decode()
    assert "INV-88" in page and "Globex" in page
    assert admin_client.get(f"/admin/daylit/promise/{promise.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/daylit/dispute/{dispute.pk}/change/").status_code == 200


def test_cancel_action_goes_through_the_service_and_reports_refusals(admin_client, company):
    promise = a_promise(company)
    action = {"action": "cancel", "_selected_action": [str(promise.pk)]}
    response = admin_client.post("/admin/daylit/promise/", action, follow=True)
    assert response.status_code == 200
    promise.refresh_from_db()
    assert promise.status == "cancelled" and recorded(PROMISE_CANCELLED) == [(PROMISE_CANCELLED, promise.pk)]
    again = admin_client.post("/admin/daylit/promise/", action, follow=True)
    assert "only an open promise can be cancelled" in again.content.decode()


@pytest.mark.parametrize("resolution", ["upheld", "rejected"])
def test_resolve_actions_go_through_the_service(admin_client, company, resolution):
    dispute = a_dispute(company)
    action = {"action": f"resolve_{resolution}", "_selected_action": [str(dispute.pk)]}
    assert admin_client.post("/admin/daylit/dispute/", action, follow=True).status_code == 200
    dispute.refresh_from_db()
    dispute.invoice.refresh_from_db()
    assert (dispute.status, dispute.resolution) == ("resolved", resolution)
    assert dispute.invoice.disputed is False
    assert recorded(DISPUTE_RESOLVED) == [(DISPUTE_RESOLVED, dispute.pk)]


def test_no_add_no_delete_and_every_field_read_only(admin_client, company):
    promise, dispute = a_promise(company), a_dispute(company)
    assert admin_client.get("/admin/daylit/promise/add/").status_code == 403
    assert admin_client.get("/admin/daylit/dispute/add/").status_code == 403
    assert admin_client.get(f"/admin/daylit/promise/{promise.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/daylit/dispute/{dispute.pk}/delete/").status_code == 403
    form = admin_client.get(f"/admin/daylit/promise/{promise.pk}/change/").context["adminform"].form
    assert list(form.fields) == []


def test_the_customer_page_shows_its_promises_and_disputes(admin_client, company):
    promise = a_promise(company, note="said Friday")
    html = admin_client.get(f"/admin/daylit/customer/{promise.customer_id}/change/").content.decode()
    assert ">Promises to pay</h2>" in html and "said Friday" in html and "INV-77" in html
    dispute = a_dispute(company)
    html = admin_client.get(f"/admin/daylit/customer/{dispute.customer_id}/change/").content.decode()
    assert ">Disputes</h2>" in html and "too dear" in html
