import pytest
import responses

from connections.models import EmailConnection
from tests.conftest import company_url
from tests.connections.conftest import NYLAS_URI
from tests.factories.connections import EmailConnectionFactory

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {"id", "email", "provider", "status", "member_id", "allow_shared_sending", "created_at"}


def test_list_requires_token(anon, company):
    assert anon.get(company_url(company, "email-connections")).status_code == 401


def test_list_of_non_member_is_404(outsider_api, company):
    EmailConnectionFactory(company=company)
    response = outsider_api.get(company_url(company, "email-connections"))
    assert response.status_code == 404
    assert "data" not in response.json()


def test_list_shows_only_own_company_without_secrets(api, company, member, other_company):
    mine = EmailConnectionFactory(company=company, member=member, grant_id="grant-secret-1")
    EmailConnectionFactory(company=other_company)
    body = api.get(company_url(company, "email-connections")).json()
    assert body["count"] == 1 and body["page"] == 1 and body["page_size"] == 20
    row = body["data"][0]
    assert set(row) == PUBLIC_FIELDS
    assert row["id"] == str(mine.id) and row["member_id"] == str(member.id)
    assert "grant-secret-1" not in str(body)


def test_list_paginates_and_rejects_bad_page(api, company):
    EmailConnectionFactory.create_batch(3, company=company)
    assert len(api.get(company_url(company, "email-connections"), {"page_size": 2}).json()["data"]) == 2
    assert api.get(company_url(company, "email-connections"), {"page": 5}).json()["data"] == []
    response = api.get(company_url(company, "email-connections"), {"page_size": 0})
    assert response.status_code == 400 and "page_size" in response.json()


def test_list_query_count_is_fixed(api, company, django_assert_max_num_queries):
    EmailConnectionFactory.create_batch(5, company=company)
    with django_assert_max_num_queries(5):
        assert api.get(company_url(company, "email-connections")).status_code == 200


def test_detail_and_cross_company_404(api, company, other_company):
    mine = EmailConnectionFactory(company=company)
    foreign = EmailConnectionFactory(company=other_company)
    assert api.get(company_url(company, f"email-connections/{mine.id}")).json()["email"] == mine.email
    assert api.get(company_url(company, f"email-connections/{foreign.id}")).status_code == 404
    assert api.get(company_url(company, "email-connections/not-a-uuid")).status_code == 404


def test_owner_may_patch_shared_sending(plain_api, company, plain_member):
    conn = EmailConnectionFactory(company=company, member=plain_member)
    url = company_url(company, f"email-connections/{conn.id}")
    response = plain_api.patch(url, {"allow_shared_sending": True}, format="json")
    assert response.status_code == 200 and response.json()["allow_shared_sending"] is True
    conn.refresh_from_db()
    assert conn.allow_shared_sending is True


def test_admin_may_patch_someone_elses_connection(api, company, plain_member):
    conn = EmailConnectionFactory(company=company, member=plain_member)
    response = api.patch(
        company_url(company, f"email-connections/{conn.id}"), {"allow_shared_sending": True}, format="json"
    )
    assert response.status_code == 200


def test_non_owner_non_admin_gets_403(plain_api, company, member):
    conn = EmailConnectionFactory(company=company, member=member)
    response = plain_api.patch(
        company_url(company, f"email-connections/{conn.id}"), {"allow_shared_sending": True}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_connection_owner"
    conn.refresh_from_db()
    assert conn.allow_shared_sending is False


def test_patch_bad_type_is_400(api, company, member):
    conn = EmailConnectionFactory(company=company, member=member)
    response = api.patch(
        company_url(company, f"email-connections/{conn.id}"), {"allow_shared_sending": "maybe"}, format="json"
    )
    assert response.status_code == 400 and "allow_shared_sending" in response.json()


def test_patch_ignores_read_only_fields(api, company, member):
    conn = EmailConnectionFactory(company=company, member=member)
    api.patch(
        company_url(company, f"email-connections/{conn.id}"),
        {"status": "revoked", "email": "x@y.z"},
        format="json",
    )
    conn.refresh_from_db()
    assert conn.status == "active" and conn.email != "x@y.z"


def test_patch_other_company_connection_is_404(api, company, other_company):
    foreign = EmailConnectionFactory(company=other_company)
    response = api.patch(
        company_url(company, f"email-connections/{foreign.id}"), {"allow_shared_sending": True}, format="json"
    )
    assert response.status_code == 404


def test_revoke_without_nylas_skips_the_call(api, company, member):
    conn = EmailConnectionFactory(company=company, member=member)
    with responses.RequestsMock():  # any HTTP call would fail the test
        response = api.post(company_url(company, f"email-connections/{conn.id}/revoke"))
    assert response.status_code == 200 and response.json()["status"] == "revoked"


@responses.activate
def test_revoke_destroys_the_grant(api, company, member, nylas_on):
    conn = EmailConnectionFactory(company=company, member=member, grant_id="g-revoke")
    responses.delete(f"{NYLAS_URI}/v3/grants/g-revoke", json={"request_id": "r1"})
    response = api.post(company_url(company, f"email-connections/{conn.id}/revoke"))
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"] == "Bearer test-api-key"
    # Revoking again changes nothing and calls no one.
    assert api.post(company_url(company, f"email-connections/{conn.id}/revoke")).status_code == 200
    assert len(responses.calls) == 1


@responses.activate
def test_revoke_of_grant_nylas_no_longer_knows_still_revokes(api, company, member, nylas_on):
    conn = EmailConnectionFactory(company=company, member=member, grant_id="g-gone")
    responses.delete(
        f"{NYLAS_URI}/v3/grants/g-gone",
        status=404,
        json={"request_id": "r", "error": {"type": "not_found_error", "message": "grant not found"}},
    )
    assert api.post(company_url(company, f"email-connections/{conn.id}/revoke")).json()["status"] == "revoked"


@responses.activate
def test_revoke_when_nylas_fails_keeps_status_and_says_why(api, company, member, nylas_on):
    conn = EmailConnectionFactory(company=company, member=member, grant_id="g-down")
    responses.delete(f"{NYLAS_URI}/v3/grants/g-down", status=502, body="<html>bad gateway</html>")
    response = api.post(company_url(company, f"email-connections/{conn.id}/revoke"))
    assert response.status_code == 502
    assert "revoke" in response.json()["detail"]
    conn.refresh_from_db()
    assert conn.status == EmailConnection.Status.ACTIVE


def test_revoke_needs_owner_or_admin(plain_api, company, member):
    conn = EmailConnectionFactory(company=company, member=member)
    assert plain_api.post(company_url(company, f"email-connections/{conn.id}/revoke")).status_code == 403
    conn.refresh_from_db()
    assert conn.status == "active"


def test_revoke_tenancy(anon, outsider_api, company):
    conn = EmailConnectionFactory(company=company)
    url = company_url(company, f"email-connections/{conn.id}/revoke")
    assert anon.post(url).status_code == 401
    assert outsider_api.post(url).status_code == 404
