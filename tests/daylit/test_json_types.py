"""Wrong JSON types are a 400 naming the field on every kind of body, never silently coerced."""

from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from daylit.models import Invoice
from tests.conftest import company_url
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, active_sequence_with_steps
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


def cases(company):
    sequence = SequenceFactory(company=company)
    step = SequenceStepFactory(sequence=sequence)
    active = active_sequence_with_steps(company=company)
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer)
    enrollment = EnrollmentFactory(sequence=active, company=company, customer=customer)
    connection = EmailConnectionFactory(company=company)
    return [
        ("post", "customers", {"name": 5}, "name"),
        (
            "post",
            "invoices",
            {
                "customer_id": str(customer.id),
                "number": "X-1",
                "amount_due": True,
                "issue_date": "2026-01-01",
                "due_date": "2026-01-02",
            },
            "amount_due",
        ),
        ("patch", f"invoices/{invoice.id}", {"issue_date": 20260101}, "issue_date"),
        ("post", "sequences", {"name": 5}, "name"),
        ("patch", f"sequences/{sequence.id}", {"auto_send": "true"}, "auto_send"),
        ("patch", f"sequences/{sequence.id}", {"sender_connection_id": 5}, "sender_connection_id"),
        ("post", f"sequences/{sequence.id}", {"action": ["activate"]}, "action"),
        ("post", f"sequences/{sequence.id}/steps", {"offset_days": "5"}, "offset_days"),
        ("patch", f"sequences/{sequence.id}/steps/{step.id}", {"label": 7}, "label"),
        ("patch", f"sequences/{sequence.id}/steps/{step.id}", {"is_active": 1}, "is_active"),
        ("post", "sequence-enrollments", {"sequence_id": str(active.id), "customer_id": 12}, "customer_id"),
        ("post", f"sequence-enrollments/{enrollment.id}/stop", {"stop_reason": 5}, "stop_reason"),
        ("post", f"sequences/{active.id}/enrollments/bulk", {"customer_ids": [1, 2]}, "customer_ids"),
        ("post", f"sequences/{active.id}/enrollments/bulk", {"customer_ids": "abc"}, "customer_ids"),
        (
            "patch",
            f"email-connections/{connection.id}",
            {"allow_shared_sending": "yes"},
            "allow_shared_sending",
        ),
    ]


def test_wrong_json_types_are_400_naming_the_field(api, company):
    for method, path, body, field in cases(company):
        response = getattr(api, method)(company_url(company, path), body, format="json")
        assert response.status_code == 400, (path, body, response.status_code, response.content)
        assert field in response.json(), (path, response.json())
        assert "Expected" in str(response.json()[field]) or "expected" in str(response.json()[field])


def test_right_types_still_pass(api, company):
    sequence = SequenceFactory(company=company)
    response = api.post(
        company_url(company, f"sequences/{sequence.id}/steps"),
        {"offset_days": 5, "label": "Day 5", "is_active": True, "offset_time": "10:30"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    customer = CustomerFactory(company=company)
    response = api.post(
        company_url(company, "invoices"),
        {
            "customer_id": str(customer.id),
            "number": "X-2",
            "amount_due": "12.5",
            "issue_date": "2026-01-01",
            "due_date": "2026-01-02",
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["amount_due"] == "12.50"


@pytest.mark.parametrize("amount", [12.5, 12, 0.1])
def test_money_as_a_json_number_is_400_saying_string(api, company, amount):
    customer = CustomerFactory(company=company)
    invoice = InvoiceFactory(customer=customer, amount_due=Decimal("5.00"))
    body = {
        "customer_id": str(customer.id),
        "number": "X-3",
        "amount_due": amount,
        "issue_date": "2026-01-01",
        "due_date": "2026-01-02",
    }
    created = api.post(company_url(company, "invoices"), body, format="json")
    updated = api.patch(company_url(company, f"invoices/{invoice.id}"), {"amount_due": amount}, format="json")
    for response in (created, updated):
        assert response.status_code == 400, response.json()
        assert response.json() == {"amount_due": ['Expected a string such as "12.50", got a number.']}
    assert not Invoice.objects.filter(number="X-3").exists()
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("5.00")


def test_schema_says_money_is_a_string():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for name in ("Invoice", "InvoiceRequest", "PatchedInvoiceRequest"):
        assert components[name]["properties"]["amount_due"]["type"] == "string", name
