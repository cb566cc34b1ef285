import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from daylit.api.base import CompanyScopedField
from daylit.api.fields import CommaSeparatedChoiceField
from daylit.models import Customer, Invoice
from enrollments.models import Enrollment
from enrollments.services import MAX_BULK_CUSTOMERS
from sequences.models import Sequence, SequenceStep

# Far enough apart for any real backdating or planning; keeps start_date + 3650 days and every zone's
# conversion inside datetime's range.
EARLIEST_START = datetime.date(1900, 1, 1)
LATEST_START = datetime.date(2999, 12, 31)


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "pattern": r"^(?:19|2[0-9])[0-9]{2}-",
        "nullable": True,
        "description": "A date from 1900-01-01 to 2999-12-31; today in the sequence's timezone when "
        "absent or null.",
    }
)
class StartDateField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not EARLIEST_START <= parsed <= LATEST_START:
            raise serializers.ValidationError(
                f"start_date must be between {EARLIEST_START.isoformat()} and {LATEST_START.isoformat()}."
            )
        return parsed


class EnrollmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enrollment
        fields = [
            "id",
            "sequence_id",
            "customer_id",
            "invoice_id",
            "status",
            "start_date",
            "time_zone",
            "stop_reason",
            "completed_at",
            "paused_at",
            "paused_until",
            "pause_reason",
            "created_at",
        ]
        read_only_fields = fields


class EnrollInput(serializers.Serializer):
    sequence_id = CompanyScopedField(Sequence)
    customer_id = CompanyScopedField(Customer)
    invoice_id = CompanyScopedField(Invoice, required=False, allow_null=True)
    start_date = StartDateField()

    def validate(self, attrs):
        invoice = attrs.get("invoice_id")
        if invoice is not None and invoice.customer_id != attrs["customer_id"].pk:
            raise serializers.ValidationError({"invoice_id": ["This invoice belongs to another customer."]})
        if invoice is not None and invoice.status != Invoice.Status.OPEN:
            # A settled invoice would never stop the enrollment by being paid, and its emails would chase it.
            raise serializers.ValidationError(
                {"invoice_id": [f"This invoice is {invoice.status}, not open."]}
            )
        if invoice is not None and invoice.disputed:
            # SPEC: a disputed invoice is not chased until its dispute is resolved.
            raise serializers.ValidationError(
                {"invoice_id": ["This invoice is disputed: resolve the dispute before chasing it."]}
            )
        return attrs


class EnrollResponse(serializers.Serializer):
    created = serializers.BooleanField()
    enrollment = EnrollmentSerializer()


class BulkEnrollInput(serializers.Serializer):
    customer_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=MAX_BULK_CUSTOMERS,
        error_messages={
            "min_length": "Give at least one customer id.",
            "max_length": f"At most {MAX_BULK_CUSTOMERS} customer ids per request; split the list.",
        },
    )
    start_date = StartDateField()


class BulkEnrollResponse(serializers.Serializer):
    enrolled_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField(
        help_text="Distinct ids not enrolled: not customers of the company, or (an `invoice_due` sequence) "
        "customers with no open invoice."
    )
    no_open_invoice_count = serializers.IntegerField(
        help_text="Of `skipped_count`: customers skipped because they have no open invoice to time an "
        "`invoice_due` sequence from (0 for other sequences)."
    )


class StopInput(serializers.Serializer):
    stop_reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=200)


class StopResponse(serializers.Serializer):
    enrollment = EnrollmentSerializer()
    cancelled_scheduled_steps = serializers.IntegerField()


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "description": "A date (`2027-03-01`: 00:00 that day in the enrollment's `time_zone`) or a date-time "
        "with its offset (`2027-03-01T09:00:00Z`); it must be in the future. Null or left out: paused until "
        "someone resumes it.",
        "example": "2027-03-01",
    }
)
class DateOrDateTimeField(serializers.Field):
    default_error_messages = {
        "invalid": "Give a date (YYYY-MM-DD) or a date-time with its UTC offset (YYYY-MM-DDTHH:MM:SSZ).",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            if len(data) == 10:
                return datetime.date.fromisoformat(data)
            parsed = datetime.datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if parsed.tzinfo is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return value.isoformat()


class PauseInput(serializers.Serializer):
    until = DateOrDateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=200)


class ResumeInput(serializers.Serializer):
    shift = serializers.BooleanField(
        required=False,
        default=True,
        help_text="true (default): every scheduled row moves later by the time the enrollment was paused. "
        "false: rows keep their planned times; those already past are due at once.",
    )


class PausedCount(serializers.Serializer):
    paused_count = serializers.IntegerField()


class ResumedCount(serializers.Serializer):
    resumed_count = serializers.IntegerField()


class EnrollmentFilters(serializers.Serializer):
    sequence_id = serializers.UUIDField(required=False)
    customer_id = serializers.UUIDField(required=False)
    status = CommaSeparatedChoiceField(Enrollment.Status.values)


class PreviewQuery(serializers.Serializer):
    customer_id = CompanyScopedField(Customer)
    invoice_id = CompanyScopedField(Invoice, required=False, allow_null=True)
    start_date = StartDateField()

    def validate(self, attrs):
        return EnrollInput.validate(self, attrs)


class WallClockDateTimeField(serializers.DateTimeField):
    """An aware datetime answered in its own offset (DRF would convert it to the server's zone)."""

    def to_representation(self, value: datetime.datetime) -> str:
        return value.isoformat()


class PreviewRowSerializer(serializers.Serializer):
    step_id = serializers.UUIDField()
    step_type = serializers.ChoiceField(choices=SequenceStep.StepType.choices)
    label = serializers.CharField()
    scheduled_for = serializers.DateTimeField(help_text="UTC.")
    local_time = WallClockDateTimeField(
        help_text="The same instant on the wall clock of `time_zone`, with its UTC offset."
    )
    time_zone = serializers.CharField(help_text="The zone the row is planned in (IANA).")
    schedule_note = serializers.CharField(
        allow_null=True,
        help_text="What moved the row off its nominal time (send day, window, holiday, clock change), or "
        "`skipped: already past when enrolled`; null when nothing did.",
    )
    due_now = serializers.BooleanField(help_text="Its time has passed: it would be due at once.")
    skipped = serializers.BooleanField(
        help_text="`catch_up: latest` would create it `cancelled` (an earlier row already past)."
    )


class PreviewResponse(serializers.Serializer):
    data = PreviewRowSerializer(many=True)
