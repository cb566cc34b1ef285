"""What the queue adds to the customer and enrollment pages (daylit.admin_panels): the customer's
upcoming and recent rows, replies, and suppressions (bounces); and the read-only reply log."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from daylit.admin_panels import PANEL_ROWS, Panel, support_panel
from daylit.models import Customer
from enrollments.models import HISTORY_STATUSES, Enrollment, ScheduledStep
from outreach_queue.admin import display
from outreach_queue.models import Reply, Suppression
from outreach_queue.services.reply_actions import Reading, reply_review
from outreach_queue.services.suppressions import normalized, suppression_create, suppression_delete

Status = ScheduledStep.Status
UPCOMING = (Status.SCHEDULED, Status.READY, Status.SENDING)
ROW_COLUMNS = ["Status", "Due", "Sequence · step", "Subject", "Error"]
CHANGELIST = "admin:queue_queuerow_changelist"


def _row_cells(row: ScheduledStep) -> list:
    link = reverse("admin:queue_queuerow_change", args=[row.pk])
    return [
        format_html('<a href="{}">{}</a>', link, display.status_badge(row)),
        display.local_time(row),
        f"{row.sequence.name} · {row.step.label}",
        display.short(row.subject, 50) or "—",
        display.short(display.readable_error(row.error), 80),
    ]


def _rows(**filters):
    return ScheduledStep.objects.filter(**filters).select_related("sequence", "step", "enrollment")


def _all_rows_link(customer_id) -> tuple[str, str]:
    return (f"{reverse(CHANGELIST)}?q={customer_id}", "All of this customer's rows in the queue")


@support_panel(Customer, title="Upcoming steps", order=20)
def customer_upcoming(customer: Customer) -> Panel:
    rows = _rows(customer=customer, status__in=UPCOMING).order_by("scheduled_for")[:PANEL_ROWS]
    return Panel(
        ROW_COLUMNS, [_row_cells(r) for r in rows], "Nothing is scheduled.", _all_rows_link(customer.pk)
    )


@support_panel(Customer, title="Recent steps (sent, failed, done, cancelled)", order=30)
def customer_recent(customer: Customer) -> Panel:
    rows = _rows(customer=customer, status__in=HISTORY_STATUSES).order_by("-processed_at")[:PANEL_ROWS]
    return Panel(ROW_COLUMNS, [_row_cells(r) for r in rows], "Nothing sent or done yet.")


def _reply_panel(replies) -> Panel:
    cells = [
        [
            r.received_at.strftime("%a %d %b %Y, %H:%M UTC"),
            r.from_email,
            r.subject,
            display.short(r.text, 120),
        ]
        for r in replies.order_by("-received_at")[:PANEL_ROWS]
    ]
    return Panel(["Received", "From", "Subject", "Text"], cells, "No replies heard.")


@support_panel(Customer, title="Replies", order=40)
def customer_replies(customer: Customer) -> Panel:
    return _reply_panel(Reply.objects.filter(customer=customer))


@support_panel(Customer, title="Suppressions", order=60)
def customer_suppressions(customer: Customer) -> Panel:
    """The customer's address on the suppression list: why reminders to it fail."""
    found = Suppression.objects.filter(company_id=customer.company_id, email=(customer.email or "").lower())
    return Panel(
        ["Address", "Reason", "Since"],
        [[s.email, s.get_reason_display(), s.created_at] for s in found],
        "Not suppressed: reminders go to this customer's address.",
    )


@support_panel(Enrollment, title="Replies", order=40)
def enrollment_replies(enrollment: Enrollment) -> Panel:
    return _reply_panel(Reply.objects.filter(enrollment=enrollment))


REVIEW_CLASSES = ("auto_reply", "question", "other", "paid_claim", "wrong_contact", "unsubscribe")


class ReplyAdmin(admin.ModelAdmin):
    """The replies heard in our threads: history, never edited or deleted here."""

    list_display = [
        "received_at",
        "customer",
        "from_email",
        "subject",
        "classification",
        "action",
        "reviewed_at",
    ]
    list_filter = ["classification", "action", ("reviewed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=id", "customer__name", "from_email", "=provider_message_id"]
    list_select_related = ["customer"]
    actions = [
        "mark_reviewed",
        *(f"review_as_{name}" for name in REVIEW_CLASSES),
    ]
    raw_id_fields = ["company", "customer", "enrollment", "invoice", "row", "connection"]
    readonly_fields = [f.name for f in Reply._meta.fields]
    ordering = ["-received_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _review(self, request, queryset, classification: str | None) -> None:
        done = 0
        for found in queryset:
            reading = Reading(classification=classification or found.classification)
            reply_review(reply=found, reading=reading)
            done += 1
        self.message_user(request, f"Reviewed {done} reply(ies).", messages.SUCCESS)

    @admin.action(description="Mark reviewed (the reading stands)")
    def mark_reviewed(self, request, queryset):
        self._review(request, queryset, None)


def _review_action(classification: str):
    def review(modeladmin, request, queryset):
        modeladmin._review(request, queryset, classification)

    review.__name__ = f"review_as_{classification}"
    label = classification.replace("_", " ")
    return admin.action(description=f"Review as {label} (undoes the old action, applies this one)")(review)


for _name in REVIEW_CLASSES:
    setattr(ReplyAdmin, f"review_as_{_name}", _review_action(_name))
admin.site.register(Reply, ReplyAdmin)


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ["company", "email", "reason"]

    def clean_email(self):
        return normalized(self.cleaned_data["email"])  # any case names the same address


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """The addresses reminders do not go to. Adding and removing go through the same service as the API
    (lowercased, one per address)."""

    form = SuppressionForm
    list_display = ["email", "company", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    raw_id_fields = ["company"]
    list_select_related = ["company"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = suppression_create(company_id=obj.company_id, email=obj.email, reason=obj.reason)
        obj.pk, obj.email, obj.created_at = saved.pk, saved.email, saved.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        suppression_delete(company_id=obj.company_id, email=obj.email)

    def delete_queryset(self, request, queryset):
        for found in queryset:
            suppression_delete(company_id=found.company_id, email=found.email)
