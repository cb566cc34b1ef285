"""The performance endpoint's query and answer (the answer's serializers describe it in OpenAPI; the
selector, `outreach_queue.performance.sequence_performance`, builds the JSON itself)."""

from rest_framework import serializers

from outreach_queue.models import ReplyClass
from outreach_queue.performance import PAID_WINDOWS
from sequences.models import StepType

# Only YYYY-MM-DD, as documented (DRF's default "iso-8601" also takes 20260601 and 2026-W23-1).
ISO_DATE = "%Y-%m-%d"


class PerformanceQuery(serializers.Serializer):
    """`from` and `to` (a Python keyword and a name): declared in `get_fields`."""

    def get_fields(self):
        return {
            "from": serializers.DateField(
                required=False,
                input_formats=[ISO_DATE],
                help_text="First day counted (YYYY-MM-DD, the sequence's timezone). Default: 89 days "
                "before `to`.",
            ),
            "to": serializers.DateField(
                required=False,
                input_formats=[ISO_DATE],
                help_text="Last day counted, included (YYYY-MM-DD). Default: today in the sequence's "
                "timezone.",
            ),
        }

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
            message = "`from` must be on or before `to`."
            raise serializers.ValidationError({"from": [message], "to": [message]})
        return attrs


class AmountSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="ISO 4217 code of the invoices.")
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="A decimal string; never summed across currencies."
    )


class PerformanceEnrollmentsSerializer(serializers.Serializer):
    started = serializers.IntegerField(help_text="Enrollments created in the range.")
    active = serializers.IntegerField(help_text="Of those started in the range, how many are active now.")
    paused = serializers.IntegerField(help_text="Of those started in the range, how many are paused now.")
    completed = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Enrollments completed in the range, by `stop_reason` (only reasons that occurred).",
    )


class PerformanceRowsSerializer(serializers.Serializer):
    ready = serializers.IntegerField(help_text="Rows that became ready in the range (`ready_at`).")
    sent = serializers.IntegerField(help_text="Rows sent in the range.")
    failed = serializers.IntegerField(help_text="Rows that failed in the range.")
    cancelled = serializers.IntegerField(help_text="Rows cancelled in the range (held-out rows excluded).")
    completed = serializers.IntegerField(help_text="Calls and tasks completed in the range.")


class ReplyCountsSerializer(serializers.Serializer):
    def get_fields(self):
        return {value: serializers.IntegerField() for value in ReplyClass.values}


class PaidWithinSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Emails sent in the range whose invoice was paid within N days."
    )
    rate = serializers.FloatField(
        allow_null=True, help_text="`count` / emails sent; null when none was sent."
    )
    amounts = AmountSerializer(many=True, help_text="The credited invoices' amounts, per currency.")


class PaidWindowsSerializer(serializers.Serializer):
    def get_fields(self):
        return {str(window): PaidWithinSerializer() for window in PAID_WINDOWS}


class ExperimentPaidSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    rate = serializers.FloatField(
        allow_null=True, help_text="count / sent (holdout: / its rows already due)."
    )
    interval = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text="95% Wilson interval [low, high] of `rate`; null when its sample is empty.",
    )


class VariantPerformanceSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='The variant\'s key, "default" (no variants) or "holdout".')
    enrollments = serializers.IntegerField(help_text="The arm's rows of this step planned in the range.")
    sent = serializers.IntegerField(help_text="The arm's emails sent in the range (0 for the holdout).")
    reply_rate = serializers.FloatField(
        allow_null=True, help_text="Share of those emails with a reply other than an auto-reply."
    )
    paid_within_14 = ExperimentPaidSerializer()
    probability_best = serializers.FloatField(
        allow_null=True,
        help_text="Posterior probability (Beta-Binomial) that this arm has the highest paid-within-14 rate; "
        "null with an empty sample.",
    )


class StepPerformanceSerializer(serializers.Serializer):
    step_id = serializers.UUIDField()
    label = serializers.CharField()
    step_type = serializers.ChoiceField(choices=StepType.choices)
    rows = PerformanceRowsSerializer()
    bounced = serializers.IntegerField(help_text="Emails sent in the range that bounced.")
    replies = ReplyCountsSerializer(help_text="Replies received in the range to the step's emails, by class.")
    paid_within = PaidWindowsSerializer(help_text='Cumulative: "7", "14" and "30" days after the send.')
    variants = VariantPerformanceSerializer(many=True)


class SequencePerformanceSerializer(serializers.Serializer):
    sequence_id = serializers.UUIDField()
    enrollments = PerformanceEnrollmentsSerializer()
    collected = AmountSerializer(many=True, help_text="Invoices the sequence chased, paid in the range.")
    median_days_to_pay = serializers.FloatField(
        allow_null=True, help_text="From an enrollment's first email to its invoice's payment; null if none."
    )
    steps = StepPerformanceSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields
