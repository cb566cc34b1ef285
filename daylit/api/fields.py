import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from daylit.calendar_codes import countries
from daylit.services import BLANK_SUBDIVISION, SUBDIVISION_MAX_LENGTH, country_problem, timezone_problem

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


# --- Calendar codes (daylit.services.calendar_validate holds the rule; these are its API fields) ----
# "" is refused like every other empty value the API does not take for none (a blank `ar_owner_id` is a
# 400 too): null is how a client says "none", and the messages say so.

COUNTRY_CODES = countries()


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "example": "Europe/London",
        "description": 'An IANA time zone name such as "Europe/London", or null for none ("" is a 400).',
    }
)
class TimezoneField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("error_messages", {"blank": timezone_problem("")})
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if problem := timezone_problem(value):
            raise serializers.ValidationError(problem, code="invalid")
        return value


class CountryField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 code of the `holidays` package, exact case: an enum in the schema."""

    describe_choices = False  # daylit.schema: no "* `GB` - GB" list of 250 lines beside the enum

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            'ISO 3166-1 alpha-2, upper case ("GB", "DE", "US"), of a country the holiday calendar covers; '
            'null for none ("" is a 400).',
        )
        super().__init__(choices=COUNTRY_CODES, **kwargs)

    def to_internal_value(self, data):
        if problem := country_problem(data):
            raise serializers.ValidationError(problem, code="invalid_choice")
        return data


class SubdivisionField(serializers.CharField):
    """A subdivision code of the country beside it; which ones exist is checked with the country
    (`calendar_validate`), since a PATCH may change either one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", SUBDIVISION_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("error_messages", {"blank": BLANK_SUBDIVISION})
        kwargs.setdefault(
            "help_text",
            'A subdivision code of `country` as the holiday calendar names it ("ENG" in GB, "BY" in DE, '
            '"CA" in US), exact case; it needs a country. Null for none ("" is a 400).',
        )
        super().__init__(**kwargs)
