from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Case, When
from django.urls import reverse
from django.utils.html import format_html

from daylit.admin_panels import PANEL_ROWS, Panel, SupportPanelsAdmin, support_panel
from daylit.models import (
    MAX_HOURS_BETWEEN_EMAILS,
    MAX_PROMISE_GRACE_DAYS,
    ApiToken,
    Company,
    Customer,
    Invoice,
    Member,
)
from daylit.services import (
    CALENDAR_FIELDS,
    COMPANY_SETTINGS,
    api_token_revoke,
    calendar_validate,
    company_settings_update,
    customer_update,
    invoice_update,
)

# A support console at 1366 px: the app sidebar would take a fifth of the width from the queue's columns
# (the index and breadcrumbs still reach every model).
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Daylit support"
admin.site.site_title = "Daylit support"
admin.site.index_title = "Support console"
admin.site.index_template = "admin/daylit/index.html"  # the queue's shortcuts first


class CalendarForm(forms.ModelForm):
    """Checks timezone/country/subdivision with the API's rule (`calendar_validate`); an empty box is
    null (the fields are nullable CharFields)."""

    def clean(self):
        cleaned = super().clean()
        calendar = {f: cleaned[f] for f in CALENDAR_FIELDS if f in cleaned}
        try:
            calendar_validate(data=calendar)
        except ValidationError as exc:
            for field, field_messages in exc.message_dict.items():
                self.add_error(field, field_messages)
        return cleaned


CALENDAR_HELP = {
    "timezone": "IANA name, e.g. Europe/London; empty for none (the sequence's zone).",
    "country": 'ISO 3166-1 alpha-2 of the holidays package, upper case: "GB", not "UK" or "gb".',
    "subdivision": 'A code the holidays package knows for the country ("ENG" in GB, "BY" in DE); needs a '
    "country.",
}


class CompanyForm(CalendarForm):
    promise_grace_days = forms.IntegerField(
        min_value=0,
        max_value=MAX_PROMISE_GRACE_DAYS,
        help_text="Days after a promised date before an unpaid promise counts as broken.",
    )
    min_hours_between_emails = forms.IntegerField(
        min_value=0,
        max_value=MAX_HOURS_BETWEEN_EMAILS,
        help_text="Auto-send waits this long after the last email sent to a customer; 0 is off.",
    )

    class Meta:
        model = Company
        fields = ["name", *COMPANY_SETTINGS]
        help_texts = {
            "country": "The holiday calendar of customers without one. " + CALENDAR_HELP["country"],
            "subdivision": CALENDAR_HELP["subdivision"],
        }


class CustomerForm(CalendarForm):
    class Meta:
        model = Customer
        fields = ["company", "name", "email", "ar_owner", *CALENDAR_FIELDS]
        help_texts = CALENDAR_HELP


class NoDeleteAdmin(admin.ModelAdmin):
    """Deleting a company or a customer would cascade to its invoices, enrollments and sent history."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(NoDeleteAdmin):
    form = CompanyForm
    list_display = ["name", "id", "country", "subdivision", "promise_grace_days", "min_hours_between_emails"]
    list_filter = ["country"]
    search_fields = ["name", "id"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        """A change of the settings goes through the API's service (row lock, the pair checked again)."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        if "name" in form.changed_data:
            obj.save(update_fields=["name"])
        settings = {f: form.cleaned_data[f] for f in COMPANY_SETTINGS if f in form.changed_data}
        company_settings_update(company=obj, data=settings)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "id", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "company__name", "id"]
    list_select_related = ["user", "company"]
    raw_id_fields = ["user", "company"]


@support_panel(Customer, title="Invoices (open first)", order=5)
def customer_invoices(customer: Customer) -> Panel:
    invoices = customer.invoices.order_by(
        Case(When(status=Invoice.Status.OPEN, then=0), default=1), "due_date"
    )
    rows = [
        [
            format_html('<a href="{}">{}</a>', reverse("admin:daylit_invoice_change", args=[i.pk]), i.number),
            f"{i.amount_due} {i.currency}",
            i.due_date.isoformat(),
            i.get_status_display(),
        ]
        for i in invoices[:PANEL_ROWS]
    ]
    return Panel(["Invoice", "Amount due", "Due", "Status"], rows, "No invoices.")


@admin.register(Customer)
class CustomerAdmin(SupportPanelsAdmin, NoDeleteAdmin):
    form = CustomerForm
    list_display = [
        "name",
        "email",
        "company",
        "ar_owner",
        "country",
        "subdivision",
        "timezone",
        "created_at",
    ]
    search_fields = ["name", "email", "id"]
    list_filter = ["company", "country"]
    list_select_related = ["company", "ar_owner__user"]
    raw_id_fields = ["company", "ar_owner"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        # A customer's invoices and enrollments are of its company: it never moves to another one.
        return [*self.readonly_fields, "company"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """A change goes through the API's service (row lock, the country/subdivision pair)."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = ("name", "email", "ar_owner", *CALENDAR_FIELDS)
        customer_update(
            customer=obj, data={f: form.cleaned_data[f] for f in fields if f in form.changed_data}
        )


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "amount_due", "currency", "due_date", "status", "paid_at"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__name", "id"]
    list_select_related = ["customer"]
    raw_id_fields = ["company", "customer"]
    date_hierarchy = "due_date"
    # Status moves only through the service (paying stops enrollments), via the actions below.
    readonly_fields = ["status", "paid_at", "created_at"]
    actions = ["mark_paid", "mark_void"]

    def _set_status(self, request, queryset, status: str) -> None:
        for invoice in queryset:
            invoice_update(invoice=invoice, data={"status": status})
        self.message_user(request, f"{queryset.count()} invoice(s) marked {status}.")

    @admin.action(description="Mark selected invoices paid")
    def mark_paid(self, request, queryset):
        self._set_status(request, queryset, Invoice.Status.PAID)

    @admin.action(description="Mark selected invoices void")
    def mark_void(self, request, queryset):
        self._set_status(request, queryset, Invoice.Status.VOID)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `create_token`/`seed_demo`; admin can only see and revoke them."""

    list_display = ["prefix", "user", "description", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username", "description"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "key_hash", "user", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)


from daylit import admin_collections  # noqa: E402, F401  (promises and disputes: their own module)
