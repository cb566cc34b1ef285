"""Nylas hosted OAuth: a start URL carrying a signed, expiring, one-time `state`, and the callback.

`state` = django.core.signing of {nonce, member id} (salted, max age STATE_MAX_AGE). The signature proves
we issued it and for whom; the expiry bounds how long it is good; the nonce row (OAuthState) makes it
single-use: the callback consumes it with one conditional UPDATE before calling Nylas, so a replay, even
a concurrent one, finds it used. The callback is not token-authenticated: the state is the proof.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from connections import services
from connections.models import EmailConnection, OAuthState
from connections.nylas_client import nylas_client, nylas_configured
from connections.upstream import NYLAS_CALL_ERRORS, NylasNotConfigured, nylas_error_to_domain
from daylit.errors import BadRequest
from daylit.models import Member

STATE_SALT = "connections.nylas-oauth-state"
STATE_MAX_AGE = timedelta(minutes=15)


def oauth_configured() -> bool:
    return bool(settings.NYLAS_CLIENT_ID) and nylas_configured()


def oauth_start(*, member: Member, provider: str | None = None, login_hint: str | None = None) -> str:
    """The hosted-auth URL for `member` (no HTTP: the SDK only builds it). 503 when Nylas is not set up."""
    if not oauth_configured():
        raise NylasNotConfigured()
    nonce = secrets.token_urlsafe(32)
    OAuthState.objects.create(nonce=nonce, member=member)
    state = signing.dumps({"n": nonce, "m": str(member.id)}, salt=STATE_SALT, compress=True)
    config = {
        "client_id": settings.NYLAS_CLIENT_ID,
        "redirect_uri": settings.NYLAS_CALLBACK_URL,
        "state": state,
        "access_type": "online",
    }
    if provider:
        config["provider"] = provider
    if login_hint:
        config["login_hint"] = login_hint
    return nylas_client().auth.url_for_oauth2(config)


def oauth_state_consume(*, state: str) -> Member:
    """The member a state was issued to; 400 when it is forged, expired or already used.

    Consumes the nonce (committed on return) so no state works twice, even if the exchange then fails:
    the code is single-use at Nylas anyway, and the user simply starts again.
    """
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise BadRequest(
            "The OAuth state has expired; start the connection again.", code="state_expired"
        ) from None
    except signing.BadSignature:
        raise BadRequest(
            "The OAuth state is not valid (not issued by this server).", code="state_invalid"
        ) from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("n"), str)
        or not isinstance(payload.get("m"), str)
    ):
        raise BadRequest("The OAuth state is not valid (not issued by this server).", code="state_invalid")
    now = timezone.now()
    consumed = OAuthState.objects.filter(
        nonce=payload["n"], member_id=payload["m"], used_at__isnull=True, created_at__gte=now - STATE_MAX_AGE
    ).update(used_at=now)
    if consumed != 1:
        raise BadRequest("The OAuth state was already used; start the connection again.", code="state_used")
    member = Member.objects.select_related("company").filter(pk=payload["m"]).first()
    if member is None:
        raise BadRequest("The member who started this connection no longer exists.", code="state_invalid")
    return member


def oauth_callback_complete(*, code: str, state: str) -> tuple[EmailConnection, bool]:
    """Check the state, exchange the code for a grant (network, no transaction open), store the grant."""
    if not oauth_configured():
        raise NylasNotConfigured()
    member = oauth_state_consume(state=state)
    try:
        token = nylas_client().auth.exchange_code_for_token(
            {"redirect_uri": settings.NYLAS_CALLBACK_URL, "code": code, "client_id": settings.NYLAS_CLIENT_ID}
        )
    except NYLAS_CALL_ERRORS as exc:
        raise nylas_error_to_domain(exc, action="exchange the authorization code") from exc
    except KeyError as exc:  # the token response lacked a required field (e.g. grant_id)
        raise nylas_error_to_domain(
            ValueError(f"missing {exc}"), action="exchange the authorization code"
        ) from exc
    if not token.grant_id:
        raise BadRequest("Nylas returned no grant for this code.", code="no_grant")
    return services.email_connection_connect(
        member=member, grant_id=token.grant_id, email=token.email or "", provider=token.provider or "google"
    )


def oauth_states_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Housekeeping: states past their age are useless; delete them in one statement."""
    deleted, _ = OAuthState.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
