from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from daylit.api.fields import CommaSeparatedChoiceField
from events.models import WebhookDelivery, WebhookEndpoint
from events.types import ALL_TYPES, EVENT_TYPES

# What `event_types` may hold: every known type, or "*" for all of them.
SUBSCRIBABLE = [ALL_TYPES, *EVENT_TYPES]
EVENT_TYPES_HELP = (
    '`["*"]` for every event type (also when `*` is one of several), or a non-empty list of known '
    "types; repeats are dropped. An unknown type is a 400."
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """What a client sees of an endpoint: never a secret (only create and rotate-secret show one)."""

    event_types = serializers.ListField(child=serializers.CharField(), help_text=EVENT_TYPES_HELP)
    disabled_reason = serializers.CharField(
        allow_null=True,
        help_text="Why deliveries stopped when this server disabled it (three days of failures); null "
        "when enabled or disabled by a client.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "enabled", "disabled_reason", "created_at"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (Standard Webhooks `whsec_<base64>`), shown this once: store it."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


URL_HELP = (
    "Where deliveries are POSTed: `https://` (unless the server allows http), to a host that resolves "
    "to public addresses only."
)


class _EndpointWrite(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text=URL_HELP)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE),
        min_length=1,
        max_length=100,
        required=False,
        help_text=EVENT_TYPES_HELP + ' Default on create: `["*"]`.',
    )
    enabled = serializers.BooleanField(
        required=False, help_text="false stops deliveries (pending ones end failed); true starts them again."
    )


class WebhookEndpointCreate(_EndpointWrite):
    pass


class WebhookEndpointPatch(_EndpointWrite):
    url = serializers.URLField(max_length=2000, required=False, help_text=URL_HELP)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(
        source="event.id", help_text="Also the `webhook-id` header of every attempt."
    )
    event_type = serializers.CharField(source="event.type")
    last_error = serializers.SerializerMethodField()
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When it is tried next; null once delivered or failed."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "next_attempt_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "description": "Why the last attempt failed."})
    def get_last_error(self, delivery: WebhookDelivery) -> str | None:
        return delivery.last_error or None


class DeliveryFilters(serializers.Serializer):
    status = CommaSeparatedChoiceField(WebhookDelivery.Status.values)
