"""The outreach queue in admin: the list support staff work from, and a row's page with its email as
the customer sees it, its enrollment's timeline and the moves (send, retry, cancel, complete)."""

import uuid

from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from enrollments.models import CURRENT_STATUSES, ScheduledStep
from events.models import Event
from outreach_queue.admin import display, filters, moves
from outreach_queue.models import QueueRow
from sequences.models import SequenceStep

Status = ScheduledStep.Status
REMINDER = SequenceStep.StepType.REMINDER
TIMELINE_EVENTS = 50

# What a person reads on the row page; internal columns (subject_lower, ar_owner_id, claim and draft
# bookkeeping) stay off it.
FIELDSETS = [
    (
        "Row",
        {
            "fields": [
                "id",
                "status",
                "step_type",
                "customer_name",
                "enrollment_link",
                "sequence",
                "step",
                "variant_key",
            ]
        },
    ),
    (
        "Timing",
        {"fields": ["due_local", "schedule_note", "ready_local", "processed_local", "next_attempt_local"]},
    ),
    ("Sending", {"fields": ["to_email", "sender_connection", "attempts", "provider_message_id", "notes"]}),
]


@admin.register(QueueRow)
class QueueRowAdmin(admin.ModelAdmin):
    """Read-only rows (they change only through the services, by the buttons and actions here)."""

    list_display = ["status_badge", "due", "customer_name", "sequence_step", "subject_short", "error_short"]
    list_display_links = ["status_badge", "due"]
    list_filter = [
        "status",
        "step_type",
        filters.TroubleFilter,
        "sequence",
        filters.OwnerFilter,
        filters.ConnectionFilter,
    ]
    search_fields = ["customer__name"]  # and ids: see get_search_results
    search_help_text = (
        "A customer's name or email address, or a row, enrollment, customer or provider message id."
    )
    list_select_related = ["sequence", "step", "customer", "enrollment"]
    ordering = ["scheduled_for", "id"]
    list_per_page = 50
    empty_value_display = ""
    show_full_result_count = False  # a large table: no second COUNT(*) per page
    fieldsets = FIELDSETS
    readonly_fields = [f for _, fs in FIELDSETS for f in fs["fields"]]
    change_form_template = "admin/queue/queuerow/change_form.html"
    actions = ["send_selected", "cancel_selected", "complete_selected"]

    class Media:
        css = {"all": ["daylit/admin/support.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the form is view-only; moves are the buttons and actions

    def has_delete_permission(self, request, obj=None):
        return False  # history (sent, failed) is never erased; a pending row is cancelled instead

    def has_move_permission(self, request) -> bool:
        """Sending, cancelling, completing: for staff granted change on queue rows (superusers are)."""
        return request.user.has_perm("queue.change_queuerow")

    # -- the list

    @admin.display(description="Status", ordering="status")
    def status_badge(self, row):
        return display.status_badge(row)

    @admin.display(description="Due (the row's zone)", ordering="scheduled_for")
    def due(self, row):
        return display.local_time(row)

    @admin.display(description="Customer", ordering="customer__name")
    def customer_name(self, row):
        url = reverse("admin:daylit_customer_change", args=[row.customer_id])
        return format_html('<a href="{}">{}</a>', url, row.customer.name)

    @admin.display(description="Sequence · step")
    def sequence_step(self, row):
        return format_html(
            "{}<br><span class='zone'>{} · {}</span>", row.sequence.name, row.step.label, row.step_type
        )

    @admin.display(description="Subject")
    def subject_short(self, row):
        return display.short(row.subject, 60) or "—"

    @admin.display(description="Error")
    def error_short(self, row):
        if not row.error:
            return ""
        text = display.readable_error(row.error)
        return format_html('<span class="error-short" title="{}">{}</span>', text, display.short(text, 70))

    @admin.display(description="Enrollment")
    def enrollment_link(self, row):
        url = reverse("admin:enrollments_enrollment_change", args=[row.enrollment_id])
        text = f"{row.customer.name} in {row.sequence.name} ({row.enrollment.status})"
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description="Due")
    def due_local(self, row):
        return display.local_time(row)

    @admin.display(description="Ready since")
    def ready_local(self, row):
        return display.local_time(row, row.ready_at) if row.ready_at else ""

    @admin.display(description="Sent, failed or done at")
    def processed_local(self, row):
        return display.local_time(row, row.processed_at) if row.processed_at else ""

    @admin.display(description="Auto-send tries again after")
    def next_attempt_local(self, row):
        return display.local_time(row, row.next_attempt_at) if row.next_attempt_at else ""

    def get_search_results(self, request, queryset, search_term):
        """A UUID is looked up exactly as a row, enrollment or customer id; other terms match a customer's
        name (contains), a provider message id (exact, indexed) or the recipient's address (exact)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            as_id = uuid.UUID(term)
        except ValueError:
            found = Q(customer__name__icontains=term) | Q(provider_message_id=term) | Q(to_email__iexact=term)
            return queryset.filter(found), False
        return queryset.filter(Q(pk=as_id) | Q(enrollment_id=as_id) | Q(customer_id=as_id)), False

    # -- actions on many rows

    @admin.action(description="Send selected ready reminders now", permissions=["move"])
    def send_selected(self, request, queryset):
        rows = list(queryset.select_related("customer", "step")[: moves.MAX_SENDS_PER_CLICK + 1])
        if len(rows) > moves.MAX_SENDS_PER_CLICK:
            self.message_user(
                request,
                f"Select at most {moves.MAX_SENDS_PER_CLICK} rows to send at once (each waits for Nylas); "
                "nothing was sent.",
                messages.ERROR,
            )
            return
        moves.report(request, self, [moves.row_send(row) for row in rows], verb="sent")

    @admin.action(description="Cancel selected scheduled or ready rows", permissions=["move"])
    def cancel_selected(self, request, queryset):
        rows = queryset.select_related("customer", "step")
        moves.report(request, self, [moves.row_cancel(row) for row in rows], verb="cancelled")

    @admin.action(description="Mark selected ready calls and tasks done", permissions=["move"])
    def complete_selected(self, request, queryset):
        rows = queryset.select_related("customer", "step")
        moves.report(request, self, [moves.row_complete(row) for row in rows], verb="completed")

    # -- the row page

    def get_urls(self):
        move = self.admin_site.admin_view(self.move_view)
        return [path("<uuid:row_id>/move/<str:verb>/", move, name="queue_queuerow_move"), *super().get_urls()]

    def move_view(self, request, row_id, verb):
        """The row page's buttons: POST only, then back to the row with the outcome as a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_move_permission(request):
            self.message_user(request, "You may look at queue rows but not act on them.", messages.ERROR)
        else:
            row = get_object_or_404(ScheduledStep.objects.select_related("customer", "step"), pk=row_id)
            if verb in ("send", "retry"):
                outcome = moves.row_send(row)
            elif verb == "retry_failed":
                outcome = moves.row_retry_failed(row)
            elif verb == "cancel":
                outcome = moves.row_cancel(row)
            elif verb == "complete":
                outcome = moves.row_complete(row, notes=request.POST.get("notes", "")[:5000])
            else:
                raise Http404(f"No such move: {verb}")
            moves.report(request, self, [outcome], verb=verb)
        return HttpResponseRedirect(reverse("admin:queue_queuerow_change", args=[row_id]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                row=obj,
                row_error=display.readable_error(obj.error),
                row_badge=display.status_badge(obj),
                row_moves=self._moves_for(request, obj),
                from_email=self._from_email(obj),
                timeline=self._timeline(obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _moves_for(self, request, row) -> list[dict]:
        """The buttons that apply to the row as it stands; the service still decides when pressed."""
        if not self.has_move_permission(request):
            return []
        url = lambda verb: reverse("admin:queue_queuerow_move", args=[row.pk, verb])  # noqa: E731
        found = []
        if row.status == Status.READY and row.step_type == REMINDER:
            verb = "retry" if display.waiting_to_retry(row) else "send"
            found.append({"url": url(verb), "label": "Retry now" if verb == "retry" else "Send now"})
        if (
            row.status == Status.FAILED
            and row.sending_started_at is None
            and row.enrollment.status in CURRENT_STATUSES
        ):
            found.append({"url": url("retry_failed"), "label": "Retry now"})
        if row.status == Status.READY and row.step_type != REMINDER:
            found.append({"url": url("complete"), "label": "Mark done", "notes": True})
        if row.status in (Status.SCHEDULED, Status.READY):
            found.append({"url": url("cancel"), "label": "Cancel row", "danger": True})
        return found

    @staticmethod
    def _from_email(row) -> str:
        connection = row.sender_connection or row.sequence.sender_connection
        return connection.email if connection else "no sender yet (the sequence has none)"

    @staticmethod
    def _timeline(row) -> list[dict]:
        """The enrollment's events, newest first, on the row's wall clock, each row named by its step."""
        events = Event.objects.filter(company_id=row.company_id, enrollment_id=row.enrollment_id)
        steps = dict(
            ScheduledStep.objects.filter(enrollment_id=row.enrollment_id).values_list("pk", "step__label")
        )
        steps[row.pk] = "this row"
        return [
            {
                "when": display.local_time(row, event.occurred_at),
                "type": event.type,
                "about": steps.get(event.subject_id) or event.subject_type,
            }
            for event in events.order_by("-seq")[:TIMELINE_EVENTS]
        ]

    def get_queryset(self, request):
        related = ["sequence__sender_connection", "sender_connection", "enrollment", "customer", "step"]
        return super().get_queryset(request).select_related(*related)
