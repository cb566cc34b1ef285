import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.core import signing
from django.utils import timezone

from connections.models import EmailConnection, OAuthState
from connections.oauth import STATE_MAX_AGE, STATE_SALT
from tests.conftest import company_url
from tests.connections.conftest import NYLAS_URI
from tests.factories.connections import EmailConnectionFactory
from tests.factories.core import MemberFactory

pytestmark = pytest.mark.django_db

CALLBACK = "/api/nylas/callback"
TOKEN_URL = f"{NYLAS_URI}/v3/connect/token"


def start(api, company, **body):
    response = api.post(company_url(company, "email-connections/nylas/start"), body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["url"]


def state_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["state"][0]


def token_response(grant_id="grant-new", email="me@seller.example", provider="google"):
    return {
        "access_token": "at-secret",
        "grant_id": grant_id,
        "expires_in": 3600,
        "email": email,
        "provider": provider,
        "token_type": "Bearer",
        "scope": "email",
    }


def test_start_requires_token(anon, company, nylas_on):
    assert anon.post(company_url(company, "email-connections/nylas/start")).status_code == 401


def test_start_for_other_company_is_404(outsider_api, company, nylas_on):
    assert outsider_api.post(company_url(company, "email-connections/nylas/start")).status_code == 404


def test_start_without_nylas_configuration_is_503(api, company):
    response = api.post(company_url(company, "email-connections/nylas/start"))
    assert response.status_code == 503
    assert response.json()["code"] == "nylas_not_configured"
    assert "NYLAS_CLIENT_ID" in response.json()["detail"]
    assert not OAuthState.objects.exists()


def test_start_returns_hosted_auth_url_with_state(api, company, member, nylas_on):
    url = start(api, company, provider="google", login_hint="me@seller.example")
    parsed = urlparse(url)
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == f"{NYLAS_URI}/v3/connect/auth"
    query = parse_qs(parsed.query)
    assert query["client_id"] == ["test-client-id"]
    assert query["redirect_uri"] == ["http://testserver/api/nylas/callback"]
    assert query["provider"] == ["google"] and query["login_hint"] == ["me@seller.example"]
    payload = signing.loads(query["state"][0], salt=STATE_SALT)
    assert payload["m"] == str(member.id)
    assert OAuthState.objects.get(nonce=payload["n"]).used_at is None


def test_start_rejects_unknown_provider(api, company, nylas_on):
    response = api.post(
        company_url(company, "email-connections/nylas/start"), {"provider": "aol"}, format="json"
    )
    assert response.status_code == 400 and "provider" in response.json()


@responses.activate
def test_callback_creates_the_members_connection(api, anon, company, member, nylas_on):
    responses.post(TOKEN_URL, json=token_response())
    state = state_of(start(api, company))
    response = anon.get(CALLBACK, {"code": "auth-code-1", "state": state})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "me@seller.example" and body["status"] == "active"
    assert body["member_id"] == str(member.id)
    assert "grant-new" not in json.dumps(body) and "at-secret" not in json.dumps(body)
    connection = EmailConnection.objects.get()
    assert connection.grant_id == "grant-new" and connection.company_id == company.id
    sent = json.loads(responses.calls[0].request.body)
    assert sent["code"] == "auth-code-1" and sent["grant_type"] == "authorization_code"
    assert (
        sent["redirect_uri"] == "http://testserver/api/nylas/callback"
        and sent["client_id"] == "test-client-id"
    )


@responses.activate
def test_reauth_keeps_grant_and_reactivates(api, anon, company, member, nylas_on):
    existing = EmailConnectionFactory(company=company, member=member, grant_id="grant-new", status="error")
    responses.post(TOKEN_URL, json=token_response())
    response = anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))})
    assert response.status_code == 200
    assert response.json()["id"] == str(existing.id)
    existing.refresh_from_db()
    assert existing.status == "active" and EmailConnection.objects.count() == 1


@responses.activate
def test_grant_of_another_company_is_409(api, anon, company, other_company, nylas_on):
    foreign = EmailConnectionFactory(company=other_company, grant_id="grant-new")
    responses.post(TOKEN_URL, json=token_response())
    response = anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))})
    assert response.status_code == 409
    foreign.refresh_from_db()
    assert foreign.company_id == other_company.id


@responses.activate
def test_replayed_state_is_refused(api, anon, company, nylas_on):
    responses.post(TOKEN_URL, json=token_response())
    state = state_of(start(api, company))
    assert anon.get(CALLBACK, {"code": "c", "state": state}).status_code == 201
    response = anon.get(CALLBACK, {"code": "c", "state": state})
    assert response.status_code == 400 and response.json()["code"] == "state_used"
    assert len(responses.calls) == 1


@responses.activate
def test_forged_state_is_refused_and_creates_nothing(api, anon, company, member, nylas_on):
    state = state_of(start(api, company))
    forged_payload = signing.loads(state, salt=STATE_SALT)
    forged = [
        state[:-2] + ("AA" if not state.endswith("AA") else "BB"),  # tampered signature
        signing.dumps(forged_payload, salt="some-other-salt"),  # signed for another purpose
        signing.dumps(forged_payload, salt=STATE_SALT, key="not-our-secret-key-0123456789"),
        "garbage",
    ]
    for bad in forged:
        response = anon.get(CALLBACK, {"code": "c", "state": bad})
        assert response.status_code == 400, bad
        assert response.json()["code"] == "state_invalid"
    assert len(responses.calls) == 0 and not EmailConnection.objects.exists()


@responses.activate
def test_state_for_another_member_nonce_is_refused(api, anon, company, nylas_on):
    """A validly signed state whose nonce was issued to someone else (e.g. leaked nonce) is refused."""
    nonce = signing.loads(state_of(start(api, company)), salt=STATE_SALT)["n"]
    other = MemberFactory(company=company)
    state = signing.dumps({"n": nonce, "m": str(other.id)}, salt=STATE_SALT)
    assert anon.get(CALLBACK, {"code": "c", "state": state}).status_code == 400
    assert len(responses.calls) == 0


class _IssuedEarlier(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - int(STATE_MAX_AGE.total_seconds()) - 60)


@responses.activate
def test_expired_state_is_refused(api, anon, company, nylas_on):
    payload = signing.loads(state_of(start(api, company)), salt=STATE_SALT)
    expired = _IssuedEarlier(salt=STATE_SALT).sign_object(payload, compress=True)
    response = anon.get(CALLBACK, {"code": "c", "state": expired})
    assert response.status_code == 400 and response.json()["code"] == "state_expired"
    assert len(responses.calls) == 0 and not EmailConnection.objects.exists()


@responses.activate
def test_stale_nonce_row_is_refused(api, anon, company, nylas_on):
    state = state_of(start(api, company))
    OAuthState.objects.update(created_at=timezone.now() - STATE_MAX_AGE * 2)
    assert anon.get(CALLBACK, {"code": "c", "state": state}).status_code == 400
    assert len(responses.calls) == 0


def test_callback_missing_params_is_400(anon, nylas_on):
    response = anon.get(CALLBACK)
    assert response.status_code == 400 and {"code", "state"} <= set(response.json())


def test_callback_with_provider_error_is_400(anon, nylas_on):
    response = anon.get(
        CALLBACK, {"error": "access_denied", "error_description": "User cancelled", "state": "x"}
    )
    assert response.status_code == 400 and "User cancelled" in response.json()["detail"]


@responses.activate
def test_refused_code_is_400_and_creates_nothing(api, anon, company, nylas_on):
    responses.post(
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_grant",
            "error_code": 400,
            "error_description": "Code expired",
            "error_uri": "x",
        },
    )
    response = anon.get(CALLBACK, {"code": "old", "state": state_of(start(api, company))})
    assert response.status_code == 400 and "Code expired" in response.json()["detail"]
    assert not EmailConnection.objects.exists()


@responses.activate
def test_exchange_outage_is_502(api, anon, company, nylas_on):
    responses.post(TOKEN_URL, status=503, body="<html>down</html>")
    response = anon.get(CALLBACK, {"code": "c", "state": state_of(start(api, company))})
    assert response.status_code == 502
    assert not EmailConnection.objects.exists()


def test_callback_is_not_token_authenticated(anon, nylas_on):
    # A bad token header would be a 401 on every other endpoint; here only the state matters.
    anon.credentials(HTTP_AUTHORIZATION="Token nope")
    assert anon.get(CALLBACK, {"code": "c", "state": "garbage"}).status_code == 400


def test_purge_deletes_only_old_states(member):
    from connections.tasks import purge_oauth_states

    OAuthState.objects.create(nonce="old", member=member)
    OAuthState.objects.create(nonce="new", member=member)
    OAuthState.objects.filter(nonce="old").update(created_at=timezone.now() - timedelta(days=2))
    assert purge_oauth_states() == 1
    assert list(OAuthState.objects.values_list("nonce", flat=True)) == ["new"]
