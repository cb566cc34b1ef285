from django.contrib import admin, messages

from daylit.errors import DomainError
from enrollments.models import ScheduledStep
from outreach_queue import services


@admin.register(ScheduledStep)
class QueueRowAdmin(admin.ModelAdmin):
    """The outreach queue for support staff: read the rows, send or cancel ready ones through the services."""

    list_display = [
        "scheduled_for",
        "status",
        "step_type",
        "sequence",
        "customer",
        "to_email",
        "subject",
        "error",
    ]
    list_filter = ["status", "step_type", "sequence"]
    search_fields = ["subject", "to_email", "customer__name", "sequence__name", "provider_message_id"]
    list_select_related = ["sequence", "customer"]
    raw_id_fields = ["company", "enrollment", "sequence", "step", "customer", "sender_connection"]
    readonly_fields = [f.name for f in ScheduledStep._meta.fields]
    date_hierarchy = "scheduled_for"
    actions = ["send_selected", "cancel_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send selected ready reminders (from the sequence's sender)")
    def send_selected(self, request, queryset):
        sent, problems = 0, []
        for row in queryset.filter(status=ScheduledStep.Status.READY).select_related("sequence"):
            try:
                # Support staff act for the company: the sequence's sender is always allowed.
                row = services.queue_row_send(row=row, member=None)
            except DomainError as exc:
                problems.append(f"{row.pk}: {exc.detail}")
                continue
            sent += row.status == ScheduledStep.Status.SENT
        self.message_user(request, f"{sent} row(s) sent.", messages.SUCCESS)
        for problem in problems[:20]:
            self.message_user(request, problem, messages.WARNING)

    @admin.action(description="Cancel selected scheduled or ready rows")
    def cancel_selected(self, request, queryset):
        cancelled = 0
        for row in queryset.filter(status__in=[ScheduledStep.Status.SCHEDULED, ScheduledStep.Status.READY]):
            try:
                services.queue_row_cancel(row=row)
                cancelled += 1
            except DomainError:
                continue
        self.message_user(request, f"{cancelled} row(s) cancelled.", messages.SUCCESS)
