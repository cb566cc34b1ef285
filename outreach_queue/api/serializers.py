import uuid
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.models import EmailConnection
from daylit.api.base import CompanyScopedField
from daylit.api.fields import UUID_PATTERN, CommaSeparatedField
from enrollments.models import Enrollment, ScheduledStep
from outreach_queue.models import Reply, ReplyClass, Suppression
from outreach_queue.selectors import CATEGORY_STATUSES, UNASSIGNED
from sequences.models import SUBJECT_MAX_LENGTH, SequenceStep


class QueueRowSerializer(serializers.ModelSerializer):
    step_id = serializers.UUIDField(read_only=True)
    step_label = serializers.CharField(source="step.label", read_only=True)
    sequence_id = serializers.UUIDField(read_only=True)
    sequence_name = serializers.CharField(source="sequence.name", read_only=True)
    enrollment_id = serializers.UUIDField(read_only=True)
    customer_id = serializers.UUIDField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    sender_connection_id = serializers.UUIDField(read_only=True, allow_null=True)
    enrollment_status = serializers.ChoiceField(
        source="enrollment.status",
        choices=Enrollment.Status.choices,
        read_only=True,
        help_text="`paused`: the row is neither promoted nor auto-sent, and a person's send is 409 "
        "`enrollment_paused`, until the enrollment resumes.",
    )
    schedule_note = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="What moved the row off its planned time (a day that is not a send day, a holiday, the "
        'send window), e.g. "Sat 2026-12-26 is not a send day"; null when nothing did.',
    )
    variant_key = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The step variant this row was assigned (its wording), `holdout` for the held-out group "
        "(created `cancelled`, `error` `holdout`, never sent); null when the step runs no experiment "
        "(docs/variants.md).",
    )
    # Set by the selectors (outreach_queue.selectors.with_warnings), one query per page.
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Things a person should know before sending; empty when none. A ready reminder of a "
        "customer who had an email less than the company's `min_hours_between_emails` ago says so: "
        "auto-send waits for the gap, a person may still send.",
    )

    class Meta:
        model = ScheduledStep
        fields = [
            "id",
            "status",
            "step_type",
            "step_id",
            "step_label",
            "sequence_id",
            "sequence_name",
            "enrollment_id",
            "enrollment_status",
            "customer_id",
            "customer_name",
            "scheduled_for",
            "ready_at",
            "processed_at",
            "to_email",
            "subject",
            "body_plain",
            "body_html",
            "sender_connection_id",
            "provider_message_id",
            "provider_thread_id",
            "error",
            "notes",
            "generated",
            "prompt_version",
            "draft_pending",
            "schedule_note",
            "variant_key",
            "warnings",
        ]
        read_only_fields = fields


class ReplySerializer(serializers.ModelSerializer):
    """A reply as the API and `reply.received` show it (SPEC "Replies that act")."""

    customer_id = serializers.UUIDField(read_only=True)
    enrollment_id = serializers.UUIDField(read_only=True)
    invoice_id = serializers.UUIDField(read_only=True, allow_null=True)
    promised_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    action = serializers.CharField(
        read_only=True,
        help_text="What the reply did: `paused`, `promise_recorded`, `dispute_opened`, `stopped`, "
        "`stopped_and_suppressed`, or `recorded` (nothing to stop: its sequences keep running on replies).",
    )

    class Meta:
        model = Reply
        fields = [
            "id",
            "customer_id",
            "enrollment_id",
            "invoice_id",
            "from_email",
            "subject",
            "received_at",
            "text",
            "classification",
            "confidence",
            "return_date",
            "promised_date",
            "promised_amount",
            "action",
            "reviewed_at",
        ]
        read_only_fields = fields


class ReplyFilters(serializers.Serializer):
    classification = serializers.ChoiceField(choices=ReplyClass.values, required=False)
    customer_id = serializers.UUIDField(required=False)
    reviewed = serializers.BooleanField(required=False, allow_null=True, default=None)


class ReplyReviewSerializer(serializers.Serializer):
    classification = serializers.ChoiceField(choices=ReplyClass.values)
    return_date = serializers.DateField(required=False, allow_null=True)
    promised_date = serializers.DateField(required=False, allow_null=True)
    promised_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["email", "reason", "created_at"]
        read_only_fields = ["created_at"]


class SuppressionCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    reason = serializers.ChoiceField(choices=Suppression.Reason.values, required=False, default="manual")


class ArOwnerField(CommaSeparatedField):
    """`?ar_owner=<member uuid>,__unassigned__` -> list of strings; anything else is a 400 naming it."""

    item_pattern = f"{UNASSIGNED}|{UUID_PATTERN}"
    max_items = 100

    def valid_item(self, value: str) -> bool:
        if value == UNASSIGNED:
            return True
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True

    def invalid_message(self, bad: list[str]) -> str:
        return f"Not a member id or {UNASSIGNED}: {', '.join(bad)}."


class QueueFilters(serializers.Serializer):
    category = serializers.ChoiceField(choices=list(CATEGORY_STATUSES), required=False, default="ready")
    step_type = serializers.ChoiceField(choices=SequenceStep.StepType.values, required=False)
    sequence_id = serializers.UUIDField(required=False)
    enrollment_id = serializers.UUIDField(required=False)
    enrollment_status = serializers.ChoiceField(choices=Enrollment.Status.values, required=False)
    customer_id = serializers.UUIDField(required=False)
    ar_owner = ArOwnerField(max_length=4000, help_text=f"Comma list of member ids and/or {UNASSIGNED}.")
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Substring of the sequence name, step label, customer name or subject, any case.",
    )


def single_line(value: str) -> str:
    """A header value: a line break would let the text add headers (e.g. "ok\r\nBcc: ...")."""
    if any(ch in value for ch in "\r\n\x00\u2028\u2029\x85"):
        raise serializers.ValidationError("Must be a single line (no line breaks).", code="invalid")
    return value


# Not blank, and no line break anywhere (single_line): said in the schema too, so a generated client (and
# the schema fuzz) knows what a subject may be.
_LINE = r"[^\r\n\u0000\u2028\u2029\u0085]*"


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": SUBJECT_MAX_LENGTH,
        "pattern": rf"^{_LINE}[^\s\u0000]{_LINE}$",
    }
)
class SubjectField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=SUBJECT_MAX_LENGTH, validators=[single_line], **kwargs)


class QueueRowEditSerializer(serializers.Serializer):
    subject = SubjectField(required=False)
    body_plain = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=200_000
    )
    body_html = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=500_000
    )
    to_email = serializers.EmailField(required=False, max_length=254, validators=[single_line])


class QueueSendSerializer(serializers.Serializer):
    sender_connection_id = CompanyScopedField(
        EmailConnection, source="sender_connection", required=False, allow_null=True
    )


class QueueCompleteSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
