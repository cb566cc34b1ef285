from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from connections import oauth, selectors, services, webhooks
from connections.api.serializers import (
    EmailConnectionPatch,
    EmailConnectionSerializer,
    OAuthCallbackQuery,
    OAuthStartBody,
    OAuthStartResponse,
)
from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from daylit.errors import BadRequest, DomainError

WEBHOOK_ACK = inline_serializer(
    "NylasWebhookAck", {"status": serializers.CharField(help_text="`accepted`, or `duplicate` for a repeat")}
)


class SignatureInvalid(DomainError):
    # Not DRF's AuthenticationFailed: with no authenticator DRF would turn that 401 into a 403.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The X-Nylas-Signature header is missing or does not match the body."
    default_code = "invalid_signature"


class WebhookNotConfigured(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "NYLAS_WEBHOOK_SECRET is not configured; webhook deliveries cannot be verified."
    default_code = "webhook_not_configured"


MANAGE_FORBIDDEN = OpenApiResponse(
    description="`code` `not_connection_owner`: only the member who connected the mailbox or a company "
    "admin may change or revoke it."
)
NYLAS_FAILED = OpenApiResponse(
    description="`code` `upstream_error`: Nylas failed in a way that may pass (5xx, timeout, connection "
    "error, an answer that is not JSON); nothing changed, try again."
)
NYLAS_RATE_LIMITED = (
    "`code` `rate_limited`: Nylas rate-limited the call; nothing changed, try again after `Retry-After` "
    "seconds (when Nylas gave one)."
)


class EmailConnectionListView(CompanyScopedAPIView):
    serializer_class = EmailConnectionSerializer

    @list_schema(
        EmailConnectionSerializer,
        summary="List email connections",
        description="The company's connected mailboxes, newest first, in every status (`active`, `revoked`, "
        "`error`), whoever connected them; any member may list them. No grant or secret is ever shown. "
        "Paginated: `page` (>= 1) and `page_size` (1..100, default 20); a page past the end is a 200 with "
        "an empty `data`.",
    )
    def get(self, request, company_id):
        return self.paginated(
            selectors.email_connection_list(company=self.company), EmailConnectionSerializer
        )


class EmailConnectionDetailView(CompanyScopedAPIView):
    serializer_class = EmailConnectionSerializer

    def get_object(self):
        return selectors.email_connection_get(
            company=self.company, connection_id=self.kwargs["connection_id"]
        )

    @extend_schema(
        summary="Get an email connection",
        description="One connected mailbox of the company (any member may read it); a connection of "
        "another company is a 404. No grant or secret is ever shown.",
        responses={200: EmailConnectionSerializer},
    )
    def get(self, request, company_id, connection_id):
        return Response(EmailConnectionSerializer(self.get_object()).data)

    @extend_schema(
        summary="Share or unshare an email connection",
        description="Sets `allow_shared_sending`, the only writable field: when true, any member may send "
        "queue rows from this mailbox (otherwise only its owner, or anyone through a sequence whose sender "
        "it is). Only the connection's owner or a company admin may change it (403 otherwise, even for a "
        "body that changes nothing). Works in any status; repeating it, or an empty body, returns the "
        "connection unchanged with 200.",
        request=EmailConnectionPatch,
        responses={200: EmailConnectionSerializer, 403: MANAGE_FORBIDDEN},
    )
    def patch(self, request, company_id, connection_id):
        connection = self.get_object()
        data = self.parse_body(EmailConnectionPatch)
        connection = services.email_connection_update(connection=connection, member=self.member, data=data)
        return Response(EmailConnectionSerializer(connection).data)


class EmailConnectionRevokeView(CompanyScopedAPIView):
    serializer_class = EmailConnectionSerializer

    @extend_schema(
        summary="Revoke an email connection",
        description="Destroys the mailbox's grant at Nylas (a grant Nylas no longer knows counts as "
        "destroyed), then sets `status` to `revoked`: nothing can be sent from it any more, and sequences "
        "that use it as their sender show `sender_connection_status: revoked`. Only the connection's owner "
        "or a company admin may revoke it. Revoking a revoked connection returns it unchanged with 200 and "
        "calls Nylas no more. When Nylas fails, the status does not change.",
        request=None,
        responses={
            200: EmailConnectionSerializer,
            400: OpenApiResponse(
                description="`code` `nylas_refused`: Nylas refused to destroy the grant (a 4xx other than "
                "404 and 429); the detail gives its status and reason. The connection is unchanged."
            ),
            403: MANAGE_FORBIDDEN,
            502: NYLAS_FAILED,
            503: OpenApiResponse(description=NYLAS_RATE_LIMITED),
        },
    )
    def post(self, request, company_id, connection_id):
        connection = selectors.email_connection_get(company=self.company, connection_id=connection_id)
        connection = services.email_connection_revoke(connection=connection, member=self.member)
        return Response(EmailConnectionSerializer(connection).data)


class NylasOAuthStartView(CompanyScopedAPIView):
    serializer_class = OAuthStartResponse

    @extend_schema(
        summary="Start connecting a mailbox through Nylas",
        description="Returns the Nylas hosted-auth `url` to send the member's browser to. Its `state` is "
        "signed for the calling member, expires after 15 minutes and works once; when the member "
        "authorizes, Nylas redirects to `GET /api/nylas/callback`, which creates the connection owned by "
        "that member. Any member may start one; each call issues a new URL. `provider` skips Nylas's "
        "provider picker, `login_hint` pre-fills the address.",
        request=OAuthStartBody,
        responses={
            200: OAuthStartResponse,
            503: OpenApiResponse(
                description="`code` `nylas_not_configured`: this server has no `NYLAS_CLIENT_ID` or "
                "`NYLAS_API_KEY`, so mailboxes cannot be connected."
            ),
        },
        examples=[
            OpenApiExample(
                "Google mailbox",
                value={"provider": "google", "login_hint": "ar@daylit.example"},
                request_only=True,
            )
        ],
    )
    def post(self, request, company_id):
        data = self.parse_body(OAuthStartBody)
        url = oauth.oauth_start(
            member=self.member, provider=data.get("provider"), login_hint=data.get("login_hint")
        )
        return Response({"url": url})


class NylasOAuthCallbackView(APIView):
    """Not token-authenticated: the signed one-time state is the proof (connections/oauth.py)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Finish connecting a mailbox (Nylas OAuth callback)",
        description="Where Nylas redirects the browser after hosted auth; not for API clients, and no "
        "token is needed: the signed `state` from the start call is the proof, and it is consumed before "
        "Nylas is called, so it works once even if the exchange then fails. Exchanges `code` for a grant "
        "and stores it as an `active` connection of the member who started: 201 for a new connection, 200 "
        "when the same mailbox is connected again (it becomes `active` again). A missing or empty `code` "
        "or `state` is a 400 field map.",
        parameters=[OAuthCallbackQuery],
        responses={
            200: EmailConnectionSerializer,
            201: EmailConnectionSerializer,
            400: OpenApiResponse(
                description="`code` `oauth_denied`: Nylas sent `error` instead of a code (the user "
                "declined); `state_expired`, `state_invalid` (not issued here, or its member is gone) or "
                "`state_used`: start again; `no_grant`: Nylas returned no grant; `nylas_refused`: Nylas "
                "refused the code exchange. A missing `code` or `state` is a field map instead."
            ),
            409: OpenApiResponse(
                description="`code` `grant_in_other_company`: this mailbox is connected to another "
                "company; `grant_of_other_member`: another member of the company connected it."
            ),
            502: NYLAS_FAILED,
            503: OpenApiResponse(
                description=NYLAS_RATE_LIMITED + " Or `code` `nylas_not_configured`: this server has no "
                "`NYLAS_CLIENT_ID` or `NYLAS_API_KEY`."
            ),
        },
        auth=[],
    )
    def get(self, request):
        error = request.query_params.get("error")
        if error:
            described = request.query_params.get("error_description") or error
            raise BadRequest(f"Nylas did not authorize the mailbox: {described}"[:500], code="oauth_denied")
        query = OAuthCallbackQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection, created = oauth.oauth_callback_complete(
            code=query.validated_data["code"], state=query.validated_data["state"]
        )
        return Response(
            EmailConnectionSerializer(connection).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class NylasWebhookView(APIView):
    """Nylas notifications. POST verifies the signature over the raw body, records the delivery and
    enqueues the work after commit, so Nylas gets its 200 quickly. GET answers the setup challenge."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the raw body is what is signed; nothing may parse it first

    @extend_schema(
        summary="Answer the Nylas webhook challenge",
        description="Nylas calls this once when the webhook is registered: the answer is the `challenge` "
        "query parameter echoed as `text/plain`. No token and no signature; safe to repeat.",
        parameters=[
            OpenApiParameter(
                "challenge", {"type": "string", "minLength": 1}, required=True, description="Echoed back."
            )
        ],
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            400: OpenApiResponse(description="`code` `missing_challenge`: `challenge` is missing or empty."),
        },
        auth=[],
    )
    def get(self, request):
        challenge = request.query_params.get("challenge")
        if not challenge:
            raise BadRequest("Pass the `challenge` query parameter.", code="missing_challenge")
        response = HttpResponse(challenge, content_type="text/plain; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(
        summary="Receive a Nylas webhook notification",
        description="For Nylas only: no token; `X-Nylas-Signature` must be the hex HMAC-SHA256 of the raw "
        "body keyed with the webhook secret. A verified notification is recorded and answered at once; it "
        "is acted on shortly after by a worker: `message.created` or `thread.replied` in the thread of a "
        "sent row, from anyone but the mailbox itself, stops its enrollment (`replied`) unless its "
        "sequence has `stop_on_reply: false`; "
        "`message.bounce_detected` records the bounce on the row and stops it (`bounced`); "
        "`grant.expired` (and `grant.updated` with an invalid grant) sets the connection to `error`, "
        "`grant.deleted` to `revoked`. Other event types are accepted and change nothing. A repeated "
        "delivery (same notification `id`) answers `duplicate` and changes nothing more.",
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("X-Nylas-Signature", str, OpenApiParameter.HEADER, required=True)],
        responses={
            200: WEBHOOK_ACK,
            400: OpenApiResponse(
                description="`code` `invalid_json`: the body is not JSON (or nests deeper than 64 levels, "
                "or holds NaN/Infinity); `invalid_envelope`: not an object with string `id` and `type`."
            ),
            401: OpenApiResponse(
                description="`code` `invalid_signature`: `X-Nylas-Signature` is missing or does not match "
                "the body. Nothing is recorded."
            ),
            503: OpenApiResponse(
                description="`code` `webhook_not_configured`: this server has no `NYLAS_WEBHOOK_SECRET`, "
                "so no delivery can be verified or recorded."
            ),
        },
        auth=[],
    )
    def post(self, request):
        raw_body = request.body
        secret = settings.NYLAS_WEBHOOK_SECRET
        if not secret:
            raise WebhookNotConfigured()
        signature = request.headers.get("X-Nylas-Signature")
        if not webhooks.signature_valid(raw_body=raw_body, signature=signature, secret=secret):
            raise SignatureInvalid()
        envelope = webhooks.parse_envelope(raw_body)
        _, created = webhooks.webhook_delivery_record(envelope=envelope)
        return Response({"status": "accepted" if created else "duplicate"})
