"""Support view of enrollments. ScheduledStep is registered by the queue app; here it is an inline."""

from django.contrib import admin, messages

from enrollments import services
from enrollments.models import Enrollment, ScheduledStep


class ScheduledStepInline(admin.TabularInline):
    model = ScheduledStep
    fields = [
        "step",
        "step_type",
        "status",
        "scheduled_for",
        "schedule_note",
        "ready_at",
        "processed_at",
        "error",
    ]
    readonly_fields = fields
    ordering = ["scheduled_for"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("step")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """Enrollments are created through the API (services); support can look and stop."""

    list_display = [
        "customer",
        "sequence",
        "status",
        "start_date",
        "stop_reason",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "sequence"]
    search_fields = ["customer__name", "customer__email", "sequence__name"]
    list_select_related = ["customer", "sequence"]
    raw_id_fields = ["company", "sequence", "customer", "invoice", "created_by"]
    readonly_fields = [
        "id",
        "company",
        "sequence",
        "customer",
        "invoice",
        "status",
        "start_date",
        "stop_reason",
        "completed_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    inlines = [ScheduledStepInline]
    actions = ["stop_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Stop selected enrollments (cancels their scheduled steps)")
    def stop_selected(self, request, queryset):
        stopped = services.enrollments_stop(
            enrollment_ids=list(queryset.values_list("pk", flat=True)), reason=services.STOP_REASON_DEFAULT
        )
        self.message_user(request, f"Stopped {stopped} enrollment(s).", messages.SUCCESS)
