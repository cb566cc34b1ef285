import pytest

from tests.conftest import company_url
from tests.factories.core import CustomerFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_list_requires_token(anon, company):
    response = anon.get(company_url(company, "customers"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_is_401(anon, company):
    anon.credentials(HTTP_AUTHORIZATION="Token nope")
    assert anon.get(company_url(company, "customers")).status_code == 401


def test_non_member_gets_404(outsider_api, company):
    CustomerFactory(company=company)
    response = outsider_api.get(company_url(company, "customers"))
    assert response.status_code == 404
    assert "data" not in response.json()


def test_create_and_list(api, company, member):
    response = api.post(
        company_url(company, "customers"),
        {"name": "Acme", "email": "ap@acme.example", "ar_owner_id": str(member.id)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ar_owner_id"] == str(member.id)
    listing = api.get(company_url(company, "customers")).json()
    assert listing["count"] == 1 and listing["page"] == 1 and listing["page_size"] == 20
    assert listing["data"][0]["id"] == body["id"]


def test_ar_owner_of_other_company_does_not_exist(api, company, other_company):
    foreign = MemberFactory(company=other_company)
    response = api.post(
        company_url(company, "customers"), {"name": "Acme", "ar_owner_id": str(foreign.id)}, format="json"
    )
    assert response.status_code == 400
    assert "ar_owner_id" in response.json()


def test_patch_customer(api, company):
    customer = CustomerFactory(company=company)
    response = api.patch(company_url(company, f"customers/{customer.id}"), {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "Renamed"


def test_customer_of_other_company_is_404(api, company, other_company):
    foreign = CustomerFactory(company=other_company)
    assert api.get(company_url(company, f"customers/{foreign.id}")).status_code == 404


def test_search_by_name_in_any_case_with_like_signs_taken_literally(api, company):
    societe = CustomerFactory(company=company, name="Société 100% Générale")
    CustomerFactory(company=company, name="Societe 1000 Generale")
    url = company_url(company, "customers")

    def ids(term):
        return {c["id"] for c in api.get(url, {"search": term}).json()["data"]}

    assert ids("SOCIÉTÉ") == {str(societe.pk)}
    assert ids("100%") == {str(societe.pk)}
