"""Cross-cutting API conventions: auth, tenancy, pagination and malformed input."""

import pytest

from daylit.models import ApiToken, Customer
from daylit.services import api_token_issue, api_token_revoke
from tests.conftest import company_url
from tests.factories.core import CustomerFactory

pytestmark = pytest.mark.django_db

CORE_LIST_PATHS = ["customers", "invoices"]


@pytest.mark.parametrize("path", CORE_LIST_PATHS)
def test_no_token_is_401(anon, company, path):
    assert anon.get(company_url(company, path)).status_code == 401


@pytest.mark.parametrize("path", CORE_LIST_PATHS)
def test_non_member_is_404_everywhere(outsider_api, company, path):
    response = outsider_api.get(company_url(company, path))
    assert response.status_code == 404
    assert response.json() == {"detail": "Company not found.", "code": "not_found"}
    assert outsider_api.post(company_url(company, path), {}, format="json").status_code == 404


def test_unknown_company_is_404(api):
    assert api.get("/api/companies/00000000-0000-0000-0000-000000000000/customers").status_code == 404


def test_non_uuid_path_ids_are_404_json(api, company):
    response = api.get(company_url(company, "customers/123"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/api/companies/nope/customers").status_code == 404


def test_token_is_stored_hashed_and_revocable(anon, member, company):
    token, key = api_token_issue(user=member.user)
    assert key not in (token.key_hash, token.prefix) and key.startswith(token.prefix)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon.get(company_url(company, "customers")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    api_token_revoke(token=token)
    assert anon.get(company_url(company, "customers")).status_code == 401


def test_malformed_auth_header_is_401(anon, company):
    anon.credentials(HTTP_AUTHORIZATION="Token a b")
    assert anon.get(company_url(company, "customers")).status_code == 401


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": "1.5"}, "page_size"),
    ],
)
def test_pagination_validation(api, company, params, field):
    response = api.get(company_url(company, "customers"), params)
    assert response.status_code == 400
    assert field in response.json()


def test_pagination_pages_and_past_the_end(api, company):
    CustomerFactory.create_batch(5, company=company)
    first = api.get(company_url(company, "customers"), {"page_size": 2}).json()
    assert (first["count"], first["page"], first["page_size"], len(first["data"])) == (5, 1, 2, 2)
    last = api.get(company_url(company, "customers"), {"page_size": 2, "page": 3}).json()
    assert len(last["data"]) == 1
    past = api.get(company_url(company, "customers"), {"page_size": 2, "page": 9})
    assert past.status_code == 200 and past.json()["data"] == []
    seen = {
        c["id"]
        for p in (1, 2, 3)
        for c in api.get(company_url(company, "customers"), {"page_size": 2, "page": p}).json()["data"]
    }
    assert len(seen) == 5


def test_bad_json_is_400(api, company):
    response = api.generic(
        "POST", company_url(company, "customers"), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_wrong_types_are_400(api, company):
    response = api.post(company_url(company, "customers"), {"name": ["a"], "email": 5}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_body_that_is_not_an_object_is_400(api, company):
    response = api.post(company_url(company, "customers"), [1, 2], format="json")
    assert response.status_code == 400


def test_oversize_strings_are_400(api, company):
    response = api.post(company_url(company, "customers"), {"name": "x" * 201}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_nul_bytes_are_400_in_body_and_query(api, company):
    response = api.post(company_url(company, "customers"), {"name": "a\x00b"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api.get(company_url(company, "customers"), {"search": "a\x00b"})
    assert response.status_code == 400 and "search" in response.json()
    assert not Customer.objects.exists()


def test_unknown_fields_are_ignored(api, company):
    response = api.post(
        company_url(company, "customers"), {"name": "Acme", "favourite": "blue"}, format="json"
    )
    assert response.status_code == 201


def test_tokens_for_one_user_are_independent(member):
    api_token_issue(user=member.user)
    api_token_issue(user=member.user)
    assert ApiToken.objects.filter(user=member.user).count() == 2
