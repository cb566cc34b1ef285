"""An invoice's `payment_url`: an https URL or null, read and written through the invoice API."""

import pytest

from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

NEW_INVOICE = {"number": "INV-9", "amount_due": "10.00", "issue_date": "2026-11-01", "due_date": "2026-11-30"}


def test_created_with_an_https_url_and_read_back(api, company):
    customer = CustomerFactory(company=company)
    body = {**NEW_INVOICE, "customer_id": str(customer.pk), "payment_url": "https://pay.example/i/9?x=1"}
    response = api.post(company_url(company, "invoices"), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["payment_url"] == "https://pay.example/i/9?x=1"
    assert response.json()["disputed"] is False
    got = api.get(company_url(company, f"invoices/{response.json()['id']}")).json()
    assert got["payment_url"] == "https://pay.example/i/9?x=1"


def test_left_out_it_is_null_and_null_clears_it(api, company):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company), payment_url="https://pay.example/a")
    url = company_url(company, f"invoices/{invoice.pk}")
    assert api.patch(url, {"number": "INV-X"}, format="json").json()["payment_url"] == "https://pay.example/a"
    assert api.patch(url, {"payment_url": None}, format="json").json()["payment_url"] is None


def test_the_scheme_is_stored_in_lower_case(api, company):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    response = api.patch(
        company_url(company, f"invoices/{invoice.pk}"),
        {"payment_url": "HTTPS://pay.example/b"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["payment_url"] == "https://pay.example/b"


@pytest.mark.parametrize(
    "value",
    [
        "http://pay.example/a",
        "",
        "pay.example/a",
        "ftp://pay.example/a",
        "https://",
        "javascript:alert(1)",
        5,
    ],
)
def test_anything_but_an_https_url_or_null_is_400_naming_it(api, company, value):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    response = api.patch(
        company_url(company, f"invoices/{invoice.pk}"), {"payment_url": value}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert list(response.json()) == ["payment_url"]
    invoice.refresh_from_db()
    assert invoice.payment_url is None


def test_too_long_is_400(api, company):
    invoice = InvoiceFactory(customer=CustomerFactory(company=company))
    long = "https://pay.example/" + "a" * 2000
    response = api.patch(company_url(company, f"invoices/{invoice.pk}"), {"payment_url": long}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["payment_url"]
