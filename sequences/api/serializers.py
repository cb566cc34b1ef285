import datetime
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.models import EmailConnection
from daylit.api.base import CompanyScopedField
from daylit.api.fields import CommaSeparatedChoiceField
from daylit.calendar_codes import WEEKDAYS, is_valid_timezone
from sequences import services
from sequences.models import (
    CALENDAR_SETTINGS,
    HOLDOUT_KEY,
    MAX_HOLDOUT_PERCENT,
    MAX_OFFSET_DAYS,
    MAX_VARIANTS,
    MIN_DUE_OFFSET_DAYS,
    MIN_VARIANTS,
    Sequence,
    SequenceStep,
)
from sequences.services import ACTIONS, TEMPLATE_MAX_LENGTHS
from sequences.templating import FIELD_HTML, FIELD_PLAIN, FIELD_SUBJECT


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "example": "America/New_York",
        "description": "An IANA time zone name.",
    }
)
class TimezoneField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_valid_timezone(value):
            raise serializers.ValidationError(
                f"'{value}' is not a valid IANA timezone (e.g. America/New_York)."
            )
        return value


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"})
class HourMinuteField(serializers.Field):
    """A time of day as "HH:MM" (00:00..23:59), in and out; seconds are not accepted."""

    PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
    default_error_messages = {"invalid": 'Use "HH:MM" between 00:00 and 23:59, e.g. "09:00".'}

    def to_internal_value(self, data):
        match = self.PATTERN.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        return datetime.time(int(match.group(1)), int(match.group(2)))

    def to_representation(self, value: datetime.time) -> str:
        return value.strftime("%H:%M")


class SendDaysField(serializers.ListField):
    """A non-empty set of weekdays; answered in week order (mon..sun), repeats counted once."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "child",
            serializers.ChoiceField(
                choices=WEEKDAYS,
                error_messages={
                    "invalid_choice": f"'{{input}}' is not a weekday; use {', '.join(WEEKDAYS)}."
                },
            ),
        )
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", 7 * 4)
        kwargs.setdefault("error_messages", {"min_length": "Give at least one send day."})
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        days = set(super().to_internal_value(data))
        return [day for day in WEEKDAYS if day in days]


class SequenceSerializer(serializers.ModelSerializer):
    company_id = serializers.UUIDField(read_only=True)
    sender_connection_id = serializers.UUIDField(read_only=True, allow_null=True)
    # A revoked or broken sender shows on the sequence, so a person sees why nothing can be sent.
    sender_connection_status = serializers.ChoiceField(
        source="sender_connection.status",
        choices=EmailConnection.Status.choices,
        read_only=True,
        allow_null=True,
        default=None,
    )
    send_days = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAYS), read_only=True)
    send_window_start = HourMinuteField(read_only=True, allow_null=True)
    send_window_end = HourMinuteField(read_only=True, allow_null=True)

    class Meta:
        model = Sequence
        fields = [
            "id",
            "company_id",
            "name",
            "status",
            "timezone",
            "send_followups_in_thread",
            "sender_connection_id",
            "sender_connection_status",
            "auto_send",
            "auto_send_generated",
            "stop_on_reply",
            *CALENDAR_SETTINGS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SequenceSettingsSerializer(serializers.Serializer):
    """The writable settings; on create `name` is required and `duplicate_from` allowed."""

    name = serializers.CharField(max_length=200)
    timezone = TimezoneField(required=False)
    send_followups_in_thread = serializers.BooleanField(required=False)
    sender_connection_id = CompanyScopedField(
        EmailConnection, source="sender_connection", required=False, allow_null=True, blank_is_null=True
    )
    auto_send = serializers.BooleanField(required=False)
    auto_send_generated = serializers.BooleanField(required=False)
    stop_on_reply = serializers.BooleanField(required=False)
    anchor = serializers.ChoiceField(choices=Sequence.Anchor.choices, required=False)
    catch_up = serializers.ChoiceField(choices=Sequence.CatchUp.choices, required=False)
    send_days = SendDaysField(required=False)
    send_window_start = HourMinuteField(required=False, allow_null=True)
    send_window_end = HourMinuteField(required=False, allow_null=True)
    skip_holidays = serializers.BooleanField(required=False)
    time_zone_source = serializers.ChoiceField(choices=Sequence.TimeZoneSource.choices, required=False)


class SequenceCreateSerializer(SequenceSettingsSerializer):
    duplicate_from = CompanyScopedField(Sequence, required=False, allow_null=True)


class SequenceActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=ACTIONS,
        error_messages={"invalid_choice": "Unknown action '{input}'. Use activate or archive."},
    )


class SequenceFilters(serializers.Serializer):
    status = CommaSeparatedChoiceField(Sequence.Status.values)
    search = serializers.CharField(
        required=False, max_length=200, help_text="Substring of the name, any case."
    )


class StepVariantSerializer(serializers.Serializer):
    """One variant of a reminder step: its wording, and how often it is chosen (the schema of `variants`;
    the service validates them)."""

    key = serializers.RegexField(
        services.VARIANT_KEY_RE.pattern,
        max_length=40,
        help_text=f"A slug unique within the step, never `{HOLDOUT_KEY}`; rows assigned this variant show "
        "it as `variant_key`.",
    )
    weight = serializers.IntegerField(
        min_value=services.MIN_WEIGHT,
        max_value=services.MAX_WEIGHT,
        help_text="Its share of the enrollments not held out is weight / sum of the step's weights.",
    )
    subject_template = serializers.CharField(max_length=TEMPLATE_MAX_LENGTHS[FIELD_SUBJECT])
    body_plain_template = serializers.CharField(
        max_length=TEMPLATE_MAX_LENGTHS[FIELD_PLAIN], required=False, allow_blank=True
    )
    body_html_template = serializers.CharField(
        max_length=TEMPLATE_MAX_LENGTHS[FIELD_HTML], required=False, allow_blank=True
    )


@extend_schema_field(
    StepVariantSerializer(
        many=True,
        max_length=MAX_VARIANTS,
        help_text=f"Empty, or {MIN_VARIANTS}..{MAX_VARIANTS} variants of a reminder's email "
        "(docs/variants.md). Each is validated as the step's templates are, and needs a subject and a body.",
    )
)
class VariantsField(serializers.Field):
    """`variants` in and out; in, the service's own check (clean_variants), so the API, the admin and the
    model agree on one rule and one message per mistake."""

    def to_internal_value(self, data):
        try:
            return services.clean_variants(variants=data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(exc.detail["variants"]) from exc

    def to_representation(self, value):
        return value


class StepSerializer(serializers.ModelSerializer):
    """A step in and out. Every field is optional on input (model defaults apply on create)."""

    sequence_id = serializers.UUIDField(read_only=True)
    step_type = serializers.ChoiceField(choices=SequenceStep.StepType.choices, required=False)
    label = serializers.CharField(max_length=200, required=False)
    offset_days = serializers.IntegerField(
        min_value=MIN_DUE_OFFSET_DAYS,
        max_value=MAX_OFFSET_DAYS,
        required=False,
        help_text="Days after the anchor (-365..3650); below 0 only in an `invoice_due` sequence.",
    )
    offset_time = HourMinuteField(required=False)
    is_active = serializers.BooleanField(required=False)
    subject_template = serializers.CharField(
        max_length=TEMPLATE_MAX_LENGTHS[FIELD_SUBJECT],
        required=False,
        allow_blank=True,
        trim_whitespace=False,
    )
    body_plain_template = serializers.CharField(
        max_length=TEMPLATE_MAX_LENGTHS[FIELD_PLAIN], required=False, allow_blank=True, trim_whitespace=False
    )
    body_html_template = serializers.CharField(
        max_length=TEMPLATE_MAX_LENGTHS[FIELD_HTML], required=False, allow_blank=True, trim_whitespace=False
    )
    instructions = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    variants = VariantsField(required=False)
    holdout_percent = serializers.IntegerField(
        min_value=0,
        max_value=MAX_HOLDOUT_PERCENT,
        required=False,
        help_text=f"0..{MAX_HOLDOUT_PERCENT}: that share of enrollments is held out of this reminder (a "
        "control group): their row is created `cancelled` with `error` `holdout` and `variant_key` "
        "`holdout`. Reminders only.",
    )
    has_history = serializers.SerializerMethodField()

    class Meta:
        model = SequenceStep
        fields = [
            "id",
            "sequence_id",
            "step_type",
            "label",
            "offset_days",
            "offset_time",
            "is_active",
            "subject_template",
            "body_plain_template",
            "body_html_template",
            "instructions",
            "variants",
            "holdout_percent",
            "has_history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "sequence_id", "has_history", "created_at", "updated_at"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_history(self, step: SequenceStep) -> bool:
        # The view asks the history provider once for all steps it serialises and passes the answer here.
        return step.pk in self.context.get("history_ids", ())


class EmailConnectionChoiceSerializer(serializers.ModelSerializer):
    """A connection as a sender choice; never shows the grant."""

    member_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = EmailConnection
        fields = ["id", "email", "provider", "status", "member_id", "allow_shared_sending"]
        read_only_fields = fields


class SequenceOverviewSerializer(serializers.Serializer):
    sequence = SequenceSerializer()
    steps = StepSerializer(many=True)
    active_enrollment_count = serializers.IntegerField()
    email_connections = EmailConnectionChoiceSerializer(many=True)
