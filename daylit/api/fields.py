import re

from rest_framework import serializers

UUID_PATTERN = "[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"


class CommaSeparatedField(serializers.CharField):
    """`?x=a,b` -> ["a", "b"]; a filter that cannot be used is a 400, never ignored: `?x=` and an empty
    item (`?x=a,,b`, `?x=,`) as much as an item `valid_item` refuses. Its OpenAPI schema is an array
    of items matching `item_pattern`, sent comma-joined (daylit.schema); the repeated form `?x=a&x=b`
    is joined before it gets here (daylit.api.query)."""

    item_pattern = r"[^,]+"
    max_items: int | None = None

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def valid_item(self, value: str) -> bool:
        return True

    def invalid_message(self, bad: list[str]) -> str:
        return f"Not valid: {', '.join(bad)}."

    def to_internal_value(self, data):
        values = [v.strip() for v in super().to_internal_value(data).split(",")]
        if "" in values:
            raise serializers.ValidationError("Empty item in the comma list.", code="blank")
        if self.max_items and len(values) > self.max_items:
            raise serializers.ValidationError(f"At most {self.max_items} items.", code="max_items")
        bad = [v for v in values if not self.valid_item(v)]
        if bad:
            raise serializers.ValidationError(self.invalid_message(bad), code="invalid")
        return values


class CommaSeparatedChoiceField(CommaSeparatedField):
    """`?status=active,draft` → ["active", "draft"]; an unknown value is a 400 that names it."""

    def __init__(self, choices, **kwargs):
        self.allowed = list(choices)
        self.item_pattern = "|".join(re.escape(choice) for choice in self.allowed)
        kwargs.setdefault("help_text", f"Comma list of: {', '.join(self.allowed)}.")
        super().__init__(**kwargs)

    def valid_item(self, value: str) -> bool:
        return value in self.allowed

    def invalid_message(self, bad: list[str]) -> str:
        return f"Unknown value(s): {', '.join(bad)}. Allowed: {', '.join(self.allowed)}."
