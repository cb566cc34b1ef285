"""OpenAPI descriptions drf-spectacular cannot infer on its own."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "daylit.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'API key with the prefix "Token", e.g. "Token dl_abc..."',
        }


class FieldErrorsScheme(OpenApiSerializerExtension):
    """The field map of every 400 from a serializer: one component, `ValidationError`."""

    target_class = "daylit.api.query.FieldErrors"

    def get_name(self, auto_schema, direction):
        return "ValidationError"

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "Each offending field or parameter, with what is wrong with it.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"sequence_id": ["Must be a valid UUID."]},
        }


class CommaSeparatedFieldScheme(OpenApiSerializerFieldExtension):
    """A comma list parameter is a string of allowed items joined by commas (`status=open,paid`)."""

    target_class = "daylit.api.fields.CommaSeparatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        item = f"(?:{self.target.item_pattern})"
        return {"type": "string", "pattern": f"^{item}(?:,{item})*$"}
