from decimal import Decimal

from rest_framework import serializers

from daylit.api.base import CompanyScopedField
from daylit.api.fields import CommaSeparatedChoiceField, CountryField, SubdivisionField, TimezoneField
from daylit.models import (
    MAX_HOURS_BETWEEN_EMAILS,
    MAX_PROMISE_GRACE_DAYS,
    PAYMENT_URL_MAX_LENGTH,
    Company,
    Customer,
    Invoice,
    Member,
)


class CustomerSerializer(serializers.ModelSerializer):
    ar_owner_id = CompanyScopedField(Member, source="ar_owner", allow_null=True, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    timezone = TimezoneField(required=False, allow_null=True)
    country = CountryField(required=False, allow_null=True)
    subdivision = SubdivisionField(required=False, allow_null=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "ar_owner_id", "timezone", "country", "subdivision", "created_at"]
        read_only_fields = ["id", "created_at"]


class CustomerFilters(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=200, help_text="Substring of the name, any case."
    )
    ar_owner_id = serializers.UUIDField(required=False)


class CompanySettingsSerializer(serializers.ModelSerializer):
    country = CountryField(
        required=False,
        allow_null=True,
        help_text="The holiday calendar of customers that have no country of their own (ISO 3166-1 "
        'alpha-2 the holiday calendar covers, upper case); null for none ("" is a 400).',
    )
    subdivision = SubdivisionField(required=False, allow_null=True)
    promise_grace_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_PROMISE_GRACE_DAYS,
        required=False,
        help_text="Days after a promised date before an unpaid promise to pay counts as broken.",
    )
    min_hours_between_emails = serializers.IntegerField(
        min_value=0,
        max_value=MAX_HOURS_BETWEEN_EMAILS,
        required=False,
        help_text="Auto-send waits this many hours after the last email sent to a customer; 0 is off.",
    )

    class Meta:
        model = Company
        fields = ["country", "subdivision", "promise_grace_days", "min_hours_between_emails"]


class InvoiceSerializer(serializers.ModelSerializer):
    customer_id = CompanyScopedField(Customer, source="customer")
    amount_due = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        default="USD",
        error_messages={"invalid": "Use a 3-letter ISO 4217 code such as USD."},
    )
    payment_url = serializers.URLField(
        max_length=PAYMENT_URL_MAX_LENGTH,
        required=False,
        allow_null=True,
        help_text="Where the customer pays (templates: `invoice.payment_url`): an https URL, or null.",
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "customer_id",
            "number",
            "currency",
            "amount_due",
            "issue_date",
            "due_date",
            "status",
            "paid_at",
            "payment_url",
            "disputed",
            "created_at",
        ]
        read_only_fields = ["id", "paid_at", "disputed", "created_at"]
        extra_kwargs = {"disputed": {"help_text": "The invoice has an open dispute (it is not chased)."}}

    def validate_payment_url(self, value):
        if value is None:
            return None
        if not value[:8].lower() == "https://":
            raise serializers.ValidationError("Use an https:// URL, or null for none.")
        return "https://" + value[8:]  # the scheme in lower case, as the database's check holds it

    def validate(self, attrs):
        issue = attrs.get("issue_date", getattr(self.instance, "issue_date", None))
        due = attrs.get("due_date", getattr(self.instance, "due_date", None))
        if issue and due and due < issue:
            raise serializers.ValidationError({"due_date": ["due_date cannot be before issue_date."]})
        if self.instance is not None and "customer" in attrs and attrs["customer"] != self.instance.customer:
            raise serializers.ValidationError(
                {"customer_id": ["An invoice cannot move to another customer."]}
            )
        return attrs


class InvoiceFilters(serializers.Serializer):
    customer_id = serializers.UUIDField(required=False)
    status = CommaSeparatedChoiceField(Invoice.Status.values)
