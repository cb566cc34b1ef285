from django.contrib import admin, messages
from kombu.exceptions import OperationalError as BrokerError

from daylit.errors import DomainError
from enrollments.models import ScheduledStep
from outreach_queue import services
from outreach_queue.tasks import send_row
from sequences.models import SequenceStep


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
        """Hands each ready reminder to the `queue.send_row` worker task rather than calling Nylas in
        this request (one timeout each could hang it). The task goes through the same claim as every
        send, so running the action twice, or a task delivered twice, sends each email once."""
        ids = [
            str(pk)
            for pk in queryset.filter(
                status=ScheduledStep.Status.READY, step_type=SequenceStep.StepType.REMINDER
            ).values_list("pk", flat=True)
        ]

        # The action only reads committed rows, so the tasks can be enqueued at once (no on_commit).
        try:
            for row_id in ids:
                send_row.delay(row_id)
        except BrokerError as exc:
            self.message_user(request, f"Could not reach the task broker: {exc}", messages.ERROR)
            return
        self.message_user(
            request,
            f"{len(ids)} ready reminder(s) handed to workers for sending; refresh to see their status.",
            messages.SUCCESS,
        )

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
