"""Core admin: every write that has a rule goes through the service."""

import pytest

from daylit.models import ApiToken, Company, Customer
from daylit.services import api_token_issue
from tests.factories.core import CompanyFactory, CustomerFactory, InvoiceFactory
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


# --- Calendars: the company's settings and a customer's calendar, checked with the API's rule ---------

COMPANY_FORM = {"name": "Acme AR", "country": "", "subdivision": "", "promise_grace_days": "2"}


def company_form(**changes) -> dict:
    return {**COMPANY_FORM, "min_hours_between_emails": "0", **changes}


def customer_form(customer, **changes) -> dict:
    return {
        "name": customer.name,
        "email": customer.email,
        "ar_owner": "",
        "timezone": "",
        "country": "",
        "subdivision": "",
        **changes,
    }


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was saved"
    return response.context["adminform"].form.errors


def test_company_settings_are_edited_in_admin_and_empty_boxes_are_null(admin_client):
    company = CompanyFactory()
    url = f"/admin/daylit/company/{company.pk}/change/"
    data = company_form(
        country="GB", subdivision="ENG", promise_grace_days="5", min_hours_between_emails="24"
    )
    assert admin_client.post(url, data).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.country, company.subdivision) == ("Acme AR", "GB", "ENG")
    assert (company.promise_grace_days, company.min_hours_between_emails) == (5, 24)

    assert admin_client.post(url, company_form()).status_code == 302
    company.refresh_from_db()
    assert (company.country, company.subdivision) == (None, None)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"country": "UK"}, "country", "'UK' is not a country code the holiday calendar knows"),
        ({"country": "gb"}, "country", 'codes are upper case: "GB".'),
        ({"subdivision": "ENG"}, "subdivision", "A subdivision needs a country"),
        ({"country": "DE", "subdivision": "ENG"}, "subdivision", "'ENG' is not a subdivision"),
        ({"promise_grace_days": "31"}, "promise_grace_days", "less than or equal to 30"),
        ({"min_hours_between_emails": "721"}, "min_hours_between_emails", "less than or equal to 720"),
        ({"min_hours_between_emails": "-1"}, "min_hours_between_emails", "greater than or equal to 0"),
    ],
)
def test_bad_company_settings_are_form_errors_in_admin(admin_client, changes, field, message):
    company = CompanyFactory()
    response = admin_client.post(f"/admin/daylit/company/{company.pk}/change/", company_form(**changes))
    errors = form_errors(response)
    assert list(errors) == [field] and message in errors[field][0], errors
    assert Company.objects.get(pk=company.pk).name == company.name


def test_a_customers_calendar_is_edited_in_admin(admin_client):
    customer = CustomerFactory()
    url = f"/admin/daylit/customer/{customer.pk}/change/"
    data = customer_form(customer, timezone="Australia/Sydney", country="AU", subdivision="NSW")
    assert admin_client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.timezone, customer.country, customer.subdivision) == ("Australia/Sydney", "AU", "NSW")

    assert admin_client.post(url, customer_form(customer)).status_code == 302
    customer.refresh_from_db()
    assert (customer.timezone, customer.country, customer.subdivision) == (None, None, None)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus' is not a valid IANA timezone"),
        ({"country": "XX"}, "country", "'XX' is not a country code the holiday calendar knows"),
        ({"country": "GBR"}, "country", "at most 2 characters"),
        ({"subdivision": "BY"}, "subdivision", "A subdivision needs a country"),
        ({"country": "GB", "subdivision": "BY"}, "subdivision", "use one of ENG, NIR, SCT, WLS."),
    ],
)
def test_a_bad_customer_calendar_is_a_form_error_in_admin(admin_client, changes, field, message):
    customer = CustomerFactory(in_england=True)
    response = admin_client.post(
        f"/admin/daylit/customer/{customer.pk}/change/", customer_form(customer, **changes)
    )
    errors = form_errors(response)
    assert list(errors) == [field] and message in errors[field][0], errors
    customer.refresh_from_db()
    assert (customer.country, customer.subdivision) == ("GB", "ENG")


def test_companies_and_customers_cannot_be_deleted_in_admin(admin_client):
    customer = CustomerFactory()
    assert admin_client.get(f"/admin/daylit/customer/{customer.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/daylit/company/{customer.company.pk}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/daylit/customer/", {"action": "delete_selected", "_selected_action": [str(customer.pk)]}
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert response.status_code in (200, 302)


def test_a_customer_keeps_its_company_in_admin(admin_client):
    customer = CustomerFactory()
    response = admin_client.get(f"/admin/daylit/customer/{customer.pk}/change/")
    assert response.status_code == 200
    assert "company" not in response.context["adminform"].form.fields
