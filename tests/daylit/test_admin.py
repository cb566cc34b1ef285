"""Core admin: every write that has a rule goes through the service."""

import pytest

from daylit.models import ApiToken
from daylit.services import api_token_issue
from tests.factories.core import InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_marking_an_invoice_paid_in_admin_stops_the_customers_enrollments(admin_client):
    invoice = InvoiceFactory()
    enrollment = EnrollmentFactory(
        customer=invoice.customer, company=invoice.company, sequence__company=invoice.company
    )
    response = admin_client.post(
        "/admin/daylit/invoice/", {"action": "mark_paid", "_selected_action": [str(invoice.pk)]}, follow=True
    )
    assert response.status_code == 200
    invoice.refresh_from_db()
    enrollment.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_at is not None
    assert (enrollment.status, enrollment.stop_reason) == ("completed", "paid")


def test_invoice_status_is_read_only_in_the_change_form(admin_client):
    invoice = InvoiceFactory()
    response = admin_client.get(f"/admin/daylit/invoice/{invoice.pk}/change/")
    assert response.status_code == 200
    assert "status" not in response.context["adminform"].form.fields


def test_revoking_tokens_in_admin(admin_client, member):
    token, _ = api_token_issue(user=member.user)
    admin_client.post("/admin/daylit/apitoken/", {"action": "revoke", "_selected_action": [str(token.pk)]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
