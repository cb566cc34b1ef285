from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
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


class EmailConnectionListView(CompanyScopedAPIView):
    serializer_class = EmailConnectionSerializer

    @list_schema(EmailConnectionSerializer, summary="List the company's email connections")
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

    @extend_schema(summary="Get an email connection")
    def get(self, request, company_id, connection_id):
        return Response(EmailConnectionSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change allow_shared_sending (owner or company admin only)",
        request=EmailConnectionPatch,
        responses={
            200: EmailConnectionSerializer,
            403: OpenApiResponse(description="Not the owner or an admin"),
        },
    )
    def patch(self, request, company_id, connection_id):
        connection = self.get_object()
        data = self.parse_body(EmailConnectionPatch)
        connection = services.email_connection_update(connection=connection, member=self.member, data=data)
        return Response(EmailConnectionSerializer(connection).data)


class EmailConnectionRevokeView(CompanyScopedAPIView):
    serializer_class = EmailConnectionSerializer

    @extend_schema(
        summary="Revoke the connection's Nylas grant (owner or company admin only)",
        request=None,
        responses={
            200: EmailConnectionSerializer,
            403: OpenApiResponse(description="Not the owner or an admin"),
        },
    )
    def post(self, request, company_id, connection_id):
        connection = selectors.email_connection_get(company=self.company, connection_id=connection_id)
        connection = services.email_connection_revoke(connection=connection, member=self.member)
        return Response(EmailConnectionSerializer(connection).data)


class NylasOAuthStartView(CompanyScopedAPIView):
    serializer_class = OAuthStartResponse

    @extend_schema(
        summary="Start connecting a mailbox through Nylas hosted OAuth",
        request=OAuthStartBody,
        responses={200: OAuthStartResponse, 503: OpenApiResponse(description="Nylas is not configured")},
    )
    def post(self, request, company_id):
        data = self.parse_body(OAuthStartBody)
        url = oauth.oauth_start(
            member=self.member, provider=data.get("provider"), login_hint=data.get("login_hint")
        )
        return Response({"url": url})


class NylasOAuthCallbackView(APIView):
    """Where Nylas sends the browser back. Not token-authenticated: the signed one-time state is the proof."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Finish Nylas hosted OAuth (browser redirect target)",
        parameters=[OAuthCallbackQuery],
        responses={200: EmailConnectionSerializer, 201: EmailConnectionSerializer},
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
        summary="Nylas webhook challenge: echoes ?challenge as text/plain",
        parameters=[OpenApiParameter("challenge", str, required=True)],
        responses={(200, "text/plain"): OpenApiTypes.STR},
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
        summary="Receive a Nylas notification (X-Nylas-Signature required)",
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("X-Nylas-Signature", str, OpenApiParameter.HEADER, required=True)],
        responses={200: WEBHOOK_ACK, 401: OpenApiResponse(description="Missing or wrong signature")},
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
