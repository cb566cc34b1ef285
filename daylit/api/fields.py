from rest_framework import serializers


class CommaSeparatedChoiceField(serializers.CharField):
    """`?status=active,draft` → ["active", "draft"]; an unknown value is a 400 that names it."""

    def __init__(self, choices, **kwargs):
        self.allowed = list(choices)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        raw = super().to_internal_value(data)
        values = [v.strip() for v in raw.split(",") if v.strip()]
        unknown = [v for v in values if v not in self.allowed]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown value(s): {', '.join(unknown)}. Allowed: {', '.join(self.allowed)}."
            )
        return values
