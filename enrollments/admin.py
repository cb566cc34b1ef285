"""Support view of enrollments. The queue app registers the rows' own admin (the outreach queue); here
they are an inline, and the customer page gets its enrollments as a support panel."""

import zoneinfo

from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from daylit.admin_panels import PANEL_ROWS, Panel, SupportPanelsAdmin, support_panel
from daylit.models import Customer
from enrollments import pausing, services
from enrollments.models import Enrollment, ScheduledStep
from events.models import Event

TIMELINE_EVENTS = 50


def _queue_row_link(row: ScheduledStep):
    """The row's page in the outreach queue, found by its admin URL name: the queue app sits above this
    one, so it is named, never imported."""
    try:
        url = reverse("admin:queue_queuerow_change", args=[row.pk])
    except NoReverseMatch:
        return "—"
    return format_html('<a href="{}">Open</a>', url)


def _local(row: ScheduledStep, moment):
    """A time on the wall clock the enrollment was planned in, the zone named."""
    if moment is None:
        return ""
    local = moment.astimezone(zoneinfo.ZoneInfo(row.enrollment.time_zone))
    return f"{local:%a %d %b %Y, %H:%M} {row.enrollment.time_zone}"


class ScheduledStepInline(admin.TabularInline):
    model = ScheduledStep
    fields = [
        "open_row",
        "step",
        "step_type",
        "status",
        "due",
        "schedule_note",
        "ready",
        "processed",
        "error",
    ]
    readonly_fields = fields
    ordering = ["scheduled_for"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("step__sequence", "enrollment")

    @admin.display(description="Due")
    def due(self, row: ScheduledStep):
        return _local(row, row.scheduled_for)

    @admin.display(description="Ready since")
    def ready(self, row: ScheduledStep):
        return _local(row, row.ready_at)

    @admin.display(description="Sent, failed or done at")
    def processed(self, row: ScheduledStep):
        return _local(row, row.processed_at)

    @admin.display(description="Row")
    def open_row(self, row: ScheduledStep):
        return _queue_row_link(row)


@support_panel(Customer, title="Enrollments", order=10)
def customer_enrollments(customer: Customer) -> Panel:
    enrollments = (
        Enrollment.objects.filter(customer=customer).select_related("sequence").order_by("-created_at")
    )
    cells = [
        [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:enrollments_enrollment_change", args=[e.pk]),
                e.sequence.name,
            ),
            e.get_status_display(),
            e.start_date.isoformat(),
            e.stop_reason or "—",
            e.time_zone,
        ]
        for e in enrollments[:PANEL_ROWS]
    ]
    return Panel(["Sequence", "Status", "Started", "Stopped because", "Zone"], cells, "Never enrolled.")


@support_panel(Enrollment, title="Timeline (newest first)", order=90)
def enrollment_timeline(enrollment: Enrollment) -> Panel:
    """What happened to the enrollment and its rows, from the event log, on the enrollment's clock."""
    events = Event.objects.filter(company_id=enrollment.company_id, enrollment_id=enrollment.pk)
    labels = dict(enrollment.scheduled_steps.values_list("pk", "step__label"))
    zone = zoneinfo.ZoneInfo(enrollment.time_zone)
    cells = [
        [
            f"{event.occurred_at.astimezone(zone):%a %d %b %Y, %H:%M} {enrollment.time_zone}",
            event.type,
            labels.get(event.subject_id) or event.subject_type,
        ]
        for event in events.order_by("-seq")[:TIMELINE_EVENTS]
    ]
    return Panel(["When", "Event", "About"], cells, "No events recorded for this enrollment.")


@admin.register(Enrollment)
class EnrollmentAdmin(SupportPanelsAdmin):
    """Enrollments are created through the API (services); support can look and stop, never delete
    (deleting one would erase its sent history)."""

    list_display = [
        "customer",
        "sequence",
        "status",
        "start_date",
        "stop_reason",
        "paused_until",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "pause_reason", "sequence"]
    search_fields = ["customer__name", "customer__email", "sequence__name"]
    list_select_related = ["customer", "sequence"]
    raw_id_fields = ["company", "sequence", "customer", "invoice", "created_by"]
    readonly_fields = [
        "id",
        "company",
        "sequence",
        "customer_link",
        "invoice",
        "status",
        "start_date",
        "time_zone",
        "stop_reason",
        "completed_at",
        "paused_at",
        "paused_until",
        "pause_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    date_hierarchy = "created_at"
    inlines = [ScheduledStepInline]
    actions = ["stop_selected", "pause_selected", "resume_selected", "resume_selected_unshifted"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "sequence")

    def support_title(self, enrollment: Enrollment) -> str:
        return f"{enrollment.customer.name} in {enrollment.sequence.name} ({enrollment.status})"

    @admin.display(description="Customer")
    def customer_link(self, enrollment: Enrollment):
        url = reverse("admin:daylit_customer_change", args=[enrollment.customer_id])
        return format_html('<a href="{}">{}</a>', url, enrollment.customer.name)

    @admin.action(description="Stop selected enrollments (cancels their scheduled steps)")
    def stop_selected(self, request, queryset):
        stopped = services.enrollments_stop(
            enrollment_ids=list(queryset.values_list("pk", flat=True)), reason=services.STOP_REASON_DEFAULT
        )
        self.message_user(request, f"Stopped {stopped} enrollment(s).", messages.SUCCESS)

    @admin.action(description="Pause selected enrollments (until someone resumes them)")
    def pause_selected(self, request, queryset):
        paused = pausing.enrollments_pause(
            enrollment_ids=list(queryset.values_list("pk", flat=True)),
            until=None,
            reason=ADMIN_PAUSE_REASON,
            statuses=[Enrollment.Status.ACTIVE],
        )
        skipped = queryset.count() - len(paused)
        note = f" ({skipped} not active: left as they were)" if skipped else ""
        self.message_user(request, f"Paused {len(paused)} enrollment(s){note}.", messages.SUCCESS)

    @admin.action(description="Resume selected enrollments (scheduled steps move later by the pause)")
    def resume_selected(self, request, queryset):
        resumed = pausing.enrollments_resume(enrollment_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Resumed {len(resumed)} enrollment(s), steps shifted.", messages.SUCCESS)

    @admin.action(description="Resume selected enrollments (steps keep their planned times)")
    def resume_selected_unshifted(self, request, queryset):
        resumed = pausing.enrollments_resume(
            enrollment_ids=list(queryset.values_list("pk", flat=True)), shift=False
        )
        self.message_user(request, f"Resumed {len(resumed)} enrollment(s), times kept.", messages.SUCCESS)


# The customer page belongs to the core app, which cannot import this one: the actions that pause and
# resume a customer's enrollments are added to its admin from here.
ADMIN_PAUSE_REASON = "paused in admin"


@admin.action(description="Pause all enrollments of selected customers")
def pause_customers(modeladmin, request, queryset):
    paused = sum(
        pausing.customer_enrollments_pause(customer=customer, reason=ADMIN_PAUSE_REASON)
        for customer in queryset
    )
    modeladmin.message_user(request, f"Paused {paused} enrollment(s).", messages.SUCCESS)


@admin.action(description="Resume all enrollments of selected customers (steps shifted)")
def resume_customers(modeladmin, request, queryset):
    resumed = sum(pausing.customer_enrollments_resume(customer=customer) for customer in queryset)
    modeladmin.message_user(request, f"Resumed {resumed} enrollment(s).", messages.SUCCESS)


def _add_customer_actions() -> None:
    customer_admin = admin.site.get_model_admin(Customer)
    customer_admin.actions = [*(customer_admin.actions or []), pause_customers, resume_customers]


_add_customer_actions()
