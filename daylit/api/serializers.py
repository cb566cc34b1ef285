from decimal import Decimal

from rest_framework import serializers

from daylit.api.base import CompanyScopedField
from daylit.api.fields import CommaSeparatedChoiceField
from daylit.models import Customer, Invoice, Member


class CustomerSerializer(serializers.ModelSerializer):
    ar_owner_id = CompanyScopedField(Member, source="ar_owner", allow_null=True, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "ar_owner_id", "created_at"]
        read_only_fields = ["id", "created_at"]


class CustomerFilters(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=200, help_text="Substring of the name, any case."
    )
    ar_owner_id = serializers.UUIDField(required=False)


class InvoiceSerializer(serializers.ModelSerializer):
    customer_id = CompanyScopedField(Customer, source="customer")
    amount_due = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        default="USD",
        error_messages={"invalid": "Use a 3-letter ISO 4217 code such as USD."},
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
            "created_at",
        ]
        read_only_fields = ["id", "paid_at", "created_at"]

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
