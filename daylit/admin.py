from django.contrib import admin

from daylit.models import ApiToken, Company, Customer, Invoice, Member
from daylit.services import api_token_revoke, invoice_update


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name", "id"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "id", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "company__name", "id"]
    list_select_related = ["user", "company"]
    raw_id_fields = ["user", "company"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "company", "ar_owner", "created_at"]
    search_fields = ["name", "email", "id"]
    list_filter = ["company"]
    list_select_related = ["company", "ar_owner__user"]
    raw_id_fields = ["company", "ar_owner"]


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
