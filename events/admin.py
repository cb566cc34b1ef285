"""Support views of the event log and webhooks: read-only, actions through events' services. No
secret is ever shown (they are not among any admin's fields)."""

import json

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from events import delivery
from events.endpoints import webhook_endpoint_update
from events.models import Event, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log (a large table): exact-id search, no full count."""

    list_display = ["occurred_at", "type", "company", "subject_type", "subject_id", "customer_id"]
    list_filter = ["type"]
    search_fields = ["=id", "=subject_id", "=customer_id", "=enrollment_id"]
    list_select_related = ["company"]
    ordering = ["-seq"]
    show_full_result_count = False
    fields = [
        "id",
        "type",
        "occurred_at",
        "company",
        "subject_type",
        "subject_id",
        "customer_id",
        "enrollment_id",
        "data_pretty",
    ]
    readonly_fields = fields

    @admin.display(description="data")
    def data_pretty(self, event: Event) -> str:
        # Indented, so support staff can read a queue row's email in it.
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(event.data, indent=2))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "company", "enabled", "disabled_reason", "failing_since", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "company__name"]
    list_select_related = ["company"]
    ordering = ["-created_at"]
    # Every field but the secrets.
    fields = [
        "id",
        "company",
        "url",
        "description",
        "event_types",
        "enabled",
        "disabled_reason",
        "failing_since",
        "retry_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["enable_selected", "disable_selected"]

    @admin.action(description="Enable selected endpoints (clears their failure history)")
    def enable_selected(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_update(endpoint=endpoint, data={"enabled": True})
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected endpoints (their pending deliveries end failed)")
    def disable_selected(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_update(endpoint=endpoint, data={"enabled": False})
        self.message_user(request, f"{queryset.count()} endpoint(s) disabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    search_fields = ["=id", "=event__id", "endpoint__url"]
    list_select_related = ["event", "endpoint"]
    ordering = ["-created_at"]
    show_full_result_count = False
    fields = [
        "id",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "locked_until",
        "attempt_started_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["retry_selected"]

    @admin.display(description="Event type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description="Retry selected deliveries now (pending or failed)")
    def retry_selected(self, request, queryset):
        claimed = delivery.deliveries_retry(
            delivery_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now()
        )
        skipped = queryset.count() - claimed
        self.message_user(
            request,
            f"{claimed} delivery(ies) sent again; {skipped} skipped (delivered, in flight, or the endpoint "
            "is disabled).",
            messages.SUCCESS,
        )
