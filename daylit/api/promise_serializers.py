"""Promises to pay and disputes in the API: the answers (every field, as SPEC lists them), the bodies
and the list filters. The rules that need the invoice or today (amount <= amount_due, the date's range,
open invoices only) are the services' (daylit.promises, daylit.disputes); a body is checked for types and
bounds here."""

from decimal import Decimal

from rest_framework import serializers

from daylit.api.fields import CommaSeparatedChoiceField
from daylit.collections_models import NOTE_MAX_LENGTH
from daylit.models import Dispute, Promise


class PromiseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Promise
        fields = [
            "id",
            "invoice_id",
            "customer_id",
            "amount",
            "currency",
            "promised_date",
            "status",
            "source",
            "note",
            "created_at",
            "settled_at",
        ]
        read_only_fields = fields


class PromiseCreateSerializer(serializers.Serializer):
    promised_date = serializers.DateField(
        help_text="When the customer will pay: today (UTC) up to a year ahead."
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="A decimal string, more than 0 and at most the invoice's `amount_due` (the default).",
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class PromiseFilters(serializers.Serializer):
    status = CommaSeparatedChoiceField(Promise.Status.values)
    customer_id = serializers.UUIDField(required=False)
    invoice_id = serializers.UUIDField(required=False)


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = [
            "id",
            "invoice_id",
            "customer_id",
            "reason",
            "status",
            "resolution",
            "note",
            "resolution_note",
            "opened_at",
            "resolved_at",
        ]
        read_only_fields = fields


class DisputeCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(Dispute.Reason.choices)
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class DisputeResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(
        Dispute.Resolution.choices,
        help_text="`upheld`: the customer was right (the invoice's enrollments complete); `rejected`: "
        "chasing resumes.",
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class DisputeFilters(serializers.Serializer):
    status = CommaSeparatedChoiceField(Dispute.Status.values)
    customer_id = serializers.UUIDField(required=False)
    invoice_id = serializers.UUIDField(required=False)
