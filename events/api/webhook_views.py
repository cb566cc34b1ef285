"""Webhook endpoints and their deliveries: company admins only (an endpoint receives every event)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from events import delivery, endpoints, webhook_selectors
from events.api.webhook_serializers import (
    DeliveryFilters,
    WebhookDeliverySerializer,
    WebhookEndpointCreate,
    WebhookEndpointPatch,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)

ADMIN_ONLY = OpenApiResponse(
    description="`code` `admin_only`: only a company admin may manage webhook endpoints and their "
    "deliveries (an endpoint receives every event of the company)."
)
ENDPOINT_DISABLED = "`code` `endpoint_disabled`: the endpoint is disabled; enable it first (PATCH `enabled`)."
URL_RULES = (
    "`url` must be `https://` (unless this server sets `WEBHOOK_ALLOW_HTTP`) and its host must resolve "
    "only to public addresses: loopback, private, link-local, multicast, reserved and unspecified "
    "addresses are refused (unless `WEBHOOK_ALLOW_PRIVATE_TARGETS`), a 400 naming `url`; every delivery "
    'attempt checks the DNS answer again. `event_types` is `["*"]` (the default) or a list of known '
    "types; an unknown one is a 400."
)
ENDPOINT_SHAPE = "Secrets are never shown after create and rotate-secret."


class WebhookAdminView(CompanyScopedAPIView):
    """Company-scoped, and 403 `admin_only` for a member who is not an admin (before any lookup)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        endpoints.webhooks_authorize(member=self.member)

    def get_endpoint(self):
        return webhook_selectors.webhook_endpoint_get(
            company=self.company, endpoint_id=self.kwargs["endpoint_id"]
        )


class WebhookEndpointListView(WebhookAdminView):
    serializer_class = WebhookEndpointSerializer

    @list_schema(
        WebhookEndpointSerializer,
        summary="List webhook endpoints",
        description="The company's webhook endpoints, newest first, enabled or not. " + ENDPOINT_SHAPE,
        errors={403: ADMIN_ONLY},
    )
    def get(self, request, company_id):
        return self.paginated(
            webhook_selectors.webhook_endpoint_list(company=self.company), WebhookEndpointSerializer
        )

    @extend_schema(
        summary="Create a webhook endpoint",
        description="Registers a URL to receive the company's events (those of `event_types`) as signed "
        "POSTs (Standard Webhooks). The answer carries `secret`, the signing secret, this once. " + URL_RULES,
        request=WebhookEndpointCreate,
        responses={201: WebhookEndpointWithSecretSerializer, 403: ADMIN_ONLY},
    )
    def post(self, request, company_id):
        data = self.parse_body(WebhookEndpointCreate)
        endpoint = endpoints.webhook_endpoint_create(company=self.company, **data)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(WebhookAdminView):
    serializer_class = WebhookEndpointSerializer

    @extend_schema(
        summary="Get a webhook endpoint",
        description="One webhook endpoint of the company; one of another company is a 404. " + ENDPOINT_SHAPE,
        responses={200: WebhookEndpointSerializer, 403: ADMIN_ONLY},
    )
    def get(self, request, company_id, endpoint_id):
        return Response(WebhookEndpointSerializer(self.get_endpoint()).data)

    @extend_schema(
        summary="Update a webhook endpoint",
        description="Changes `url`, `description`, `event_types` or `enabled`. `enabled: true` on a "
        "disabled endpoint clears `disabled_reason` and its failure history; `enabled: false` stops "
        "deliveries (its pending ones end `failed`; retry them later). An empty body, or the values it "
        "has, returns it unchanged with 200. " + URL_RULES,
        request=WebhookEndpointPatch,
        responses={200: WebhookEndpointSerializer, 403: ADMIN_ONLY},
    )
    def patch(self, request, company_id, endpoint_id):
        endpoint = self.get_endpoint()
        data = self.parse_body(WebhookEndpointPatch)
        endpoint = endpoints.webhook_endpoint_update(endpoint=endpoint, data=data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a webhook endpoint",
        description="Deletes the endpoint and its delivery history; nothing more is sent to it (an "
        "attempt already under way may still arrive). The events themselves stay in the event log.",
        responses={204: None, 403: ADMIN_ONLY},
    )
    def delete(self, request, company_id, endpoint_id):
        endpoints.webhook_endpoint_delete(endpoint=self.get_endpoint())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretView(WebhookAdminView):
    serializer_class = WebhookEndpointWithSecretSerializer

    @extend_schema(
        summary="Rotate a webhook endpoint's secret",
        description="Issues a new signing secret, returned this once in `secret`. For 24 hours every "
        "delivery carries two signatures in `webhook-signature`, one with the new secret and one with "
        "the old, so receivers can switch without losing a delivery; then only the new one signs. "
        "Rotating again within the 24 hours drops the oldest secret at once.",
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, 403: ADMIN_ONLY},
    )
    def post(self, request, company_id, endpoint_id):
        endpoint = endpoints.webhook_endpoint_rotate_secret(endpoint=self.get_endpoint())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class WebhookEndpointPingView(WebhookAdminView):
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        summary="Ping a webhook endpoint",
        description="Records a `webhook.ping` event (its `data` is the endpoint, without secret) and "
        "sends it to this endpoint alone, whatever `event_types` it subscribes to: at once, unless the "
        "endpoint already has its most deliveries in flight (then as soon as one lands). A failing "
        "endpoint's backoff is cut short: it is probed now. The answer is the ping's delivery, "
        "`pending`; follow it in the endpoint's deliveries. Each call pings again.",
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            403: ADMIN_ONLY,
            409: OpenApiResponse(description=ENDPOINT_DISABLED),
        },
    )
    def post(self, request, company_id, endpoint_id):
        ping = endpoints.webhook_endpoint_ping(endpoint=self.get_endpoint())
        return Response(WebhookDeliverySerializer(ping).data, status=status.HTTP_202_ACCEPTED)


class WebhookEndpointDeliveriesView(WebhookAdminView):
    serializer_class = WebhookDeliverySerializer

    @list_schema(
        WebhookDeliverySerializer,
        DeliveryFilters,
        summary="List a webhook endpoint's deliveries",
        description="Every event sent (or to be sent) to the endpoint, newest first: `pending` (with "
        "`next_attempt_at`), `delivered` or `failed` (retries ended after three days, or the endpoint was "
        "disabled), with the last attempt's status code or error. `status` takes a comma list.",
        errors={403: ADMIN_ONLY},
    )
    def get(self, request, company_id, endpoint_id):
        endpoint = self.get_endpoint()
        query = self.parse_query(DeliveryFilters)
        deliveries = webhook_selectors.webhook_delivery_list(endpoint=endpoint, statuses=query.get("status"))
        return self.paginated(deliveries, WebhookDeliverySerializer)


class WebhookDeliveryRetryView(WebhookAdminView):
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        summary="Retry a webhook delivery",
        description="Makes a `pending` or `failed` delivery due now (`status` `pending`, `attempts` "
        "kept) and sends it with the same `webhook-id` and body: at once, unless the endpoint already "
        "has its most deliveries in flight (then as soon as one lands). A failing endpoint's backoff is "
        "cut short: it is probed now. One whose attempt is under way is returned as it is. A failed "
        "delivery older than three days gets one more attempt.",
        request=None,
        responses={
            200: WebhookDeliverySerializer,
            403: ADMIN_ONLY,
            409: OpenApiResponse(
                description="`code` `already_delivered`: it was delivered (receivers dedupe on its "
                "`webhook-id`); " + ENDPOINT_DISABLED
            ),
        },
    )
    def post(self, request, company_id, delivery_id):
        found = webhook_selectors.webhook_delivery_get(company=self.company, delivery_id=delivery_id)
        return Response(WebhookDeliverySerializer(delivery.delivery_retry(delivery=found)).data)
