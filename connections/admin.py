from django.contrib import admin

from connections import services
from connections.models import EmailConnection, OutboxMessage, WebhookDelivery


@admin.register(EmailConnection)
class EmailConnectionAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "owner", "provider", "status", "allow_shared_sending", "created_at"]
    list_filter = ["status", "provider", "allow_shared_sending"]
    search_fields = ["email", "grant_id", "company__name", "member__user__username", "member__user__email"]
    list_select_related = ["company", "member__user"]
    raw_id_fields = ["company", "member"]
    readonly_fields = ["grant_id", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        """Support may fix a connection's status or settings here; a save that changed something records
        `email_connection.updated`, in the admin's transaction, like every other writer."""
        super().save_model(request, obj, form, change)
        if form.changed_data or not change:
            services.email_connections_record_updated(connection_ids=[obj.pk])

    @admin.display(description="Owner", ordering="member__user__username")
    def owner(self, obj: EmailConnection) -> str:
        return obj.member.display_name if obj.member else "—"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The log of Nylas notifications, read-only: what arrived, when, and what we did with it."""

    list_display = ["received_at", "event_type", "grant_id", "outcome", "processed_at", "duplicates"]
    list_filter = ["event_type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["notification_id", "grant_id", "outcome"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # history: what Nylas told us, kept for support


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Everything the offline outbox transport 'sent': read-only, for support staff and demos."""

    list_display = ["created_at", "from_email", "to_email", "subject", "thread_id"]
    search_fields = ["to_email", "subject", "message_id", "thread_id", "idempotency_key"]
    list_select_related = ["connection"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # history: what was "sent"
