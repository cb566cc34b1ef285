"""Admin for support staff: promises to pay and disputes, with their invoice and customer, filtered by
status; cancel and resolve act through the services (daylit.promises, daylit.disputes), so the events,
the invoice's `disputed` flag and the enrollments' pauses follow as they do from the API. Rows are
never added or deleted here: a promise or dispute is recorded through the API (or a reply)."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from daylit import disputes, promises
from daylit.admin_panels import PANEL_ROWS, Panel, support_panel
from daylit.errors import Conflict
from daylit.models import Customer, Dispute, Promise


class _ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """Every field read-only, no add, no delete: the row changes only through an action's service."""

    list_select_related = ["invoice", "customer", "company"]
    raw_id_fields = ["company", "invoice", "customer"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, obj):
        url = reverse("admin:daylit_invoice_change", args=[obj.invoice_id])
        return format_html('<a href="{}">{}</a>', url, obj.invoice.number)

    @admin.display(description="Customer", ordering="customer__name")
    def customer_link(self, obj):
        url = reverse("admin:daylit_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer.name)

    def _each(self, request, queryset, act, done: str) -> None:
        """Run `act` on each selected row; a row whose state forbids it (a 409 in the API) is reported."""
        acted, refused = 0, []
        for obj in queryset:
            try:
                act(obj)
                acted += 1
            except Conflict as exc:
                refused.append(f"{obj}: {exc.detail}")
        if acted:
            self.message_user(request, f"{acted} {done}.")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)


@admin.register(Promise)
class PromiseAdmin(_ReadOnlyHistoryAdmin):
    list_display = [
        "promised_date",
        "amount",
        "currency",
        "status",
        "invoice_link",
        "customer_link",
        "source",
        "created_at",
        "settled_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["invoice__number", "customer__name", "id"]
    date_hierarchy = "promised_date"
    actions = ["cancel"]

    @admin.action(description="Cancel selected open promises (their enrollments resume)")
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda p: promises.promise_cancel(promise=p), "promise(s) cancelled")


@admin.register(Dispute)
class DisputeAdmin(_ReadOnlyHistoryAdmin):
    list_display = [
        "opened_at",
        "reason",
        "status",
        "resolution",
        "invoice_link",
        "customer_link",
        "resolved_at",
    ]
    list_filter = ["status", "resolution", "reason"]
    search_fields = ["invoice__number", "customer__name", "id"]
    date_hierarchy = "opened_at"
    actions = ["resolve_upheld", "resolve_rejected"]

    def _resolve(self, request, queryset, resolution: str) -> None:
        self._each(
            request,
            queryset,
            lambda d: disputes.dispute_resolve(dispute=d, resolution=resolution, note="Resolved in admin."),
            f"dispute(s) resolved: {resolution}",
        )

    @admin.action(description="Resolve selected disputes: upheld (their enrollments complete)")
    def resolve_upheld(self, request, queryset):
        self._resolve(request, queryset, Dispute.Resolution.UPHELD)

    @admin.action(description="Resolve selected disputes: rejected (their enrollments resume)")
    def resolve_rejected(self, request, queryset):
        self._resolve(request, queryset, Dispute.Resolution.REJECTED)


def _change_link(obj, label: str):
    url = reverse(f"admin:daylit_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label)


@support_panel(Customer, title="Promises to pay", order=50)
def customer_promises(customer: Customer) -> Panel:
    found = Promise.objects.filter(customer=customer).select_related("invoice").order_by("-created_at")
    rows = [
        [
            _change_link(p, p.promised_date.isoformat()),
            f"{p.amount} {p.currency}",
            p.invoice.number,
            p.get_status_display(),
            p.note or "—",
        ]
        for p in found[:PANEL_ROWS]
    ]
    return Panel(["Promised for", "Amount", "Invoice", "Status", "Note"], rows, "No promise to pay recorded.")


@support_panel(Customer, title="Disputes", order=51)
def customer_disputes(customer: Customer) -> Panel:
    found = Dispute.objects.filter(customer=customer).select_related("invoice").order_by("-opened_at")
    rows = [
        [
            _change_link(d, d.opened_at.strftime("%d %b %Y")),
            d.invoice.number,
            d.get_reason_display(),
            d.get_status_display() + (f" ({d.resolution})" if d.resolution else ""),
            d.note or "—",
        ]
        for d in found[:PANEL_ROWS]
    ]
    return Panel(["Opened", "Invoice", "Reason", "Status", "Note"], rows, "No dispute recorded.")
