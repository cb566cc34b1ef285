from django.contrib import admin

from connections.models import EmailConnection, OutboxMessage


@admin.register(EmailConnection)
class EmailConnectionAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "member", "provider", "status", "allow_shared_sending", "created_at"]
    list_filter = ["status", "provider", "allow_shared_sending"]
    search_fields = ["email", "grant_id", "company__name"]
    list_select_related = ["company", "member__user"]
    raw_id_fields = ["company", "member"]
    readonly_fields = ["grant_id", "created_at", "updated_at"]


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
