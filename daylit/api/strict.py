"""JSON types are part of the contract: `{"name": 5}` is a 400, not the string "5".

DRF coerces scalars (5 -> "5", "5" -> 5, 1 -> True, 5 -> UUID(int=5), 12.5 -> Decimal("12.5"));
clients then learn nothing of their mistake. `json_type_errors` checks the raw JSON value of every
writable field against the field's kind before the serializer sees it. Money (a DecimalField) is a
string, as we answer it. Fields of kinds it does not know validate themselves.
"""

from rest_framework import relations, serializers

_JSON_NAMES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def _json_name(value) -> str:
    return _JSON_NAMES.get(type(value), "a value of another type")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expected(field, value) -> str | None:
    """What `field` needs instead of `value`, or None when the type fits."""
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "a boolean"
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(field, serializers.DecimalField):
        # Decimals are money, answered as strings: a JSON number is a float that may have lost cents.
        return None if isinstance(value, str) else 'a string such as "12.50"'
    if isinstance(field, serializers.FloatField):
        return None if _is_number(value) or isinstance(value, str) else "a number or a numeric string"
    if isinstance(field, serializers.ListField):
        return None if isinstance(value, list) else "a list"
    if isinstance(field, relations.ManyRelatedField):
        return None if isinstance(value, list) else "a list"
    string_kinds = (
        serializers.CharField,
        serializers.ChoiceField,
        serializers.UUIDField,
        serializers.DateField,
        serializers.DateTimeField,
        serializers.TimeField,
        relations.RelatedField,
    )
    if isinstance(field, string_kinds):
        return None if isinstance(value, str) else "a string"
    return None


def _item_problem(field, items: list) -> str | None:
    child = getattr(field, "child", None) or getattr(field, "child_relation", None)
    if child is None:
        return None
    for index, item in enumerate(items):
        if item is None:
            continue
        expected = _expected(child, item)
        if expected:
            return f"Item {index}: expected {expected}, got {_json_name(item)}."
    return None


def json_type_errors(fields, data) -> dict[str, list[str]]:
    """Field name -> message for each present, non-null value whose JSON type the field cannot take."""
    if not isinstance(data, dict):
        return {}  # the serializer itself answers "expected a dictionary"
    errors = {}
    for name, field in fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        value = data[name]
        expected = _expected(field, value)
        if expected:
            errors[name] = [f"Expected {expected}, got {_json_name(value)}."]
        elif isinstance(value, list):
            problem = _item_problem(field, value)
            if problem:
                errors[name] = [problem]
    return errors
