import pytest

from daylit.models import Invoice
from daylit.signals import invoice_paid
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def invoice_body(customer, **overrides):
    body = {
        "customer_id": str(customer.id),
        "number": "INV-9",
        "amount_due": "100.00",
        "issue_date": "2026-10-01",
        "due_date": "2026-10-31",
    }
    body.update(overrides)
    return body


def test_create_invoice(api, company):
    customer = CustomerFactory(company=company)
    response = api.post(company_url(company, "invoices"), invoice_body(customer), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "open"
    assert response.json()["currency"] == "USD"


def test_duplicate_number_is_409(api, company):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, number="INV-9")
    response = api.post(company_url(company, "invoices"), invoice_body(customer), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_number"


def test_customer_of_other_company_is_rejected(api, company, other_company):
    foreign = CustomerFactory(company=other_company)
    response = api.post(company_url(company, "invoices"), invoice_body(foreign), format="json")
    assert response.status_code == 400
    assert "customer_id" in response.json()
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"due_date": "2026-09-01"}, "due_date"),
        ({"issue_date": "2026-02-30"}, "issue_date"),
        ({"amount_due": "-1"}, "amount_due"),
        ({"amount_due": "1e40"}, "amount_due"),
        ({"currency": "dollars"}, "currency"),
        ({"number": "x" * 65}, "number"),
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"status": "maybe"}, "status"),
    ],
)
def test_bad_input_names_the_field(api, company, overrides, field):
    customer = CustomerFactory(company=company)
    response = api.post(company_url(company, "invoices"), invoice_body(customer, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_filters(api, company):
    customer = CustomerFactory(company=company)
    InvoiceFactory(customer=customer, status="open")
    InvoiceFactory(customer=customer, status="void")
    InvoiceFactory(customer__company=company)
    data = api.get(company_url(company, "invoices"), {"customer_id": customer.id, "status": "open"}).json()
    assert data["count"] == 1
    assert api.get(company_url(company, "invoices"), {"status": "open,void"}).json()["count"] == 3
    assert api.get(company_url(company, "invoices"), {"status": "late"}).status_code == 400
    assert api.get(company_url(company, "invoices"), {"customer_id": "zzz"}).status_code == 400


def test_marking_paid_stamps_paid_at_and_signals_once(api, company):
    invoice = InvoiceFactory(customer__company=company)
    received = []

    def receiver(sender, invoice, **kwargs):
        received.append(invoice.pk)

    invoice_paid.connect(receiver)
    try:
        url = company_url(company, f"invoices/{invoice.id}")
        response = api.patch(url, {"status": "paid"}, format="json")
        assert response.status_code == 200
        assert response.json()["paid_at"] is not None
        api.patch(url, {"status": "paid"}, format="json")
    finally:
        invoice_paid.disconnect(receiver)
    assert received == [invoice.pk]


def test_reopening_clears_paid_at(api, company):
    invoice = InvoiceFactory(customer__company=company)
    url = company_url(company, f"invoices/{invoice.id}")
    api.patch(url, {"status": "paid"}, format="json")
    response = api.patch(url, {"status": "open"}, format="json")
    assert response.json()["paid_at"] is None


def test_invoice_cannot_move_customer(api, company):
    invoice = InvoiceFactory(customer__company=company)
    other = CustomerFactory(company=company)
    response = api.patch(
        company_url(company, f"invoices/{invoice.id}"), {"customer_id": str(other.id)}, format="json"
    )
    assert response.status_code == 400
