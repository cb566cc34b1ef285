"""Every list's query parameters: typed in the schema, and refused (400 naming them) when present but
empty, malformed or repeated; never ignored. Customers and invoices here; each app tests its own."""

import pytest
from django.utils import timezone

from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory, MemberFactory
from tests.list_params import assert_rejected, bad_cases, kind, list_operations, list_parameters

pytestmark = pytest.mark.django_db

PAGE = {"page": "integer", "page_size": "integer"}
# Every list of the API and how each query parameter is typed. A list or filter added without being
# typed (or without a 400 documented) fails `test_the_inventory_is_every_list_of_the_schema`.
INVENTORY = {
    "customers": {**PAGE, "search": "text", "ar_owner_id": "uuid"},
    "invoices": {**PAGE, "customer_id": "uuid", "status": "comma"},
    "email-connections": PAGE,
    "sequences": {**PAGE, "status": "comma", "search": "text"},
    "sequences/{sequence_id}/steps": PAGE,
    "sequence-enrollments": {**PAGE, "sequence_id": "uuid", "customer_id": "uuid", "status": "comma"},
    "sequences/queue": {
        **PAGE,
        "category": "enum",
        "step_type": "enum",
        "sequence_id": "uuid",
        "enrollment_id": "uuid",
        "enrollment_status": "enum",
        "customer_id": "uuid",
        "ar_owner": "comma",
        "search": "text",
    },
    "promises": {**PAGE, "status": "comma", "customer_id": "uuid", "invoice_id": "uuid"},
    "disputes": {**PAGE, "status": "comma", "customer_id": "uuid", "invoice_id": "uuid"},
    "replies": {**PAGE, "classification": "enum", "customer_id": "uuid", "reviewed": "boolean"},
    "suppressions": PAGE,
    "webhook-endpoints": PAGE,
    "webhook-endpoints/{endpoint_id}/deliveries": {**PAGE, "status": "comma"},
}


def test_the_inventory_is_every_list_of_the_schema():
    typed = {
        path: {name: kind(schema) for name, schema in params.items()}
        for path, params in list_parameters().items()
    }
    assert typed == INVENTORY


@pytest.mark.parametrize("path", sorted(INVENTORY))
def test_every_list_documents_its_400_as_the_field_map(path):
    bad = list_operations()[path]["responses"]["400"]
    assert bad["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationError"}
    assert "empty, malformed or repeated" in bad["description"]


@pytest.mark.parametrize("path, name, query", bad_cases("customers", "invoices", "promises", "disputes"))
def test_empty_malformed_or_repeated_parameter_is_400_naming_it(api, company, path, name, query):
    assert_rejected(api, company, path, name, query)


def test_unknown_parameters_are_ignored(api, company):
    # Like unknown JSON fields: cache busters and tracking parameters must not break a list.
    CustomerFactory(company=company)
    response = api.get(company_url(company, "customers"), {"_": "1700000000", "utm_source": ""})
    assert response.status_code == 200 and response.json()["count"] == 1


def test_invoice_customer_filter_still_filters_and_a_foreign_id_finds_nothing(api, company, other_company):
    mine = InvoiceFactory(customer=CustomerFactory(company=company))
    InvoiceFactory(customer=CustomerFactory(company=company))
    foreign = CustomerFactory(company=other_company)
    InvoiceFactory(customer=foreign)

    def ids(**query):
        response = api.get(company_url(company, "invoices"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids(customer_id=str(mine.customer_id)) == [str(mine.id)]
    assert ids(customer_id=str(foreign.id)) == []
    assert ids(status="open,paid", customer_id=str(mine.customer_id)) == [str(mine.id)]


def test_customer_owner_filter_still_filters_and_a_foreign_id_finds_nothing(api, company, other_company):
    owner = MemberFactory(company=company)
    owned = CustomerFactory(company=company, ar_owner=owner)
    CustomerFactory(company=company)

    def ids(**query):
        response = api.get(company_url(company, "customers"), query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["data"]]

    assert ids(ar_owner_id=str(owner.pk)) == [str(owned.id)]
    assert ids(ar_owner_id=str(MemberFactory(company=other_company).pk)) == []


def test_a_comma_list_may_come_as_repeated_parameters(api, company):
    # What most generated clients send for an array parameter; the same filter as the comma form.
    customer = CustomerFactory(company=company)
    paid = InvoiceFactory(customer=customer, status="paid", paid_at=timezone.now())
    InvoiceFactory(customer=customer, status="void")
    url = company_url(company, "invoices")
    opened = InvoiceFactory(customer=customer, status="open")

    def ids(query: str):
        response = api.get(f"{url}?{query}")
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["data"])

    both = sorted([str(paid.id), str(opened.id)])
    assert ids("status=open&status=paid") == ids("status=open,paid") == both
    assert ids("status=paid") == [str(paid.id)]
