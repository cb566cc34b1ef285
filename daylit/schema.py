"""The OpenAPI contract in one place: what drf-spectacular cannot infer from views and serializers.

- `DaylitAutoSchema` (the DRF schema class): descriptions come from the operation, never from a
  view's class docstring; every field of a response is `required` (serializers always write every
  field); a blank-able email is a plain string (`format: email` would refuse the `""` it answers).
- `document_every_answer` (a post-processing hook): every operation declares every status it can
  answer, with a body. 401 and 429 for token routes (and 415 for their bodies), 404 for routes with
  path ids, 400 for bodies and filters, 406 for all, and a shared `Error` body for the 4xx/5xx a view
  declares with a description only.
  A new endpoint gets all of it without a decorator.
"""

import copy

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers

from daylit.api.base import CompanyScopedField

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}

COMPONENTS = {
    "Error": {
        "type": "object",
        "description": "Every error that is not a field map. `code` is stable and meant for programs; "
        "`detail` is for people and may change.",
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, in a sentence."},
            "code": {"type": "string", "description": "A stable code such as `not_found` or `throttled`."},
            "retry_after": {
                "type": "integer",
                "minimum": 0,
                "description": "Seconds to wait before trying again (429, and 503 `rate_limited` when "
                "the provider said); the `Retry-After` header carries the same value.",
            },
        },
        "required": ["detail", "code"],
        "example": {"detail": "Not found.", "code": "not_found"},
    },
    "ValidationError": {
        "type": "object",
        "description": "Each offending field or query parameter, with what is wrong with it. Errors of "
        'a list item name it: `{"customer_ids": ["Item 2: Must be a valid UUID."]}`.',
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"email": ["Enter a valid email address."]},
    },
}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
    }
}

UNAUTHORIZED = {
    "description": "No `Authorization: Token ...` header, or the key is unknown or revoked.",
    "content": {"application/json": {"schema": ERROR}},
}
NOT_FOUND = {
    "description": "The company is not one you are a member of, or the object does not exist in it "
    "(`not_found`). Another company's ids answer the same as ids that never existed.",
    "content": {"application/json": {"schema": ERROR}},
}
THROTTLED = {
    "description": "Over the key's request rate (`throttled`); wait `Retry-After` seconds.",
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": ERROR}},
}
CONTENTION_TEXT = (
    "The database undid the request after a conflict with a concurrent one (`contention`): nothing was "
    "saved; send it again after `Retry-After` seconds."
)
CONTENTION = {
    "description": CONTENTION_TEXT,
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": ERROR}},
}
NOT_ACCEPTABLE = {
    "description": "The `Accept` header asks for something other than JSON (`not_acceptable`).",
    "content": {"application/json": {"schema": ERROR}},
}
UNSUPPORTED_MEDIA_TYPE = {
    "description": "The body is not `application/json` (`unsupported_media_type`).",
    "content": {"application/json": {"schema": ERROR}},
}
BAD_QUERY = {
    "description": "A query parameter is empty, malformed or repeated; the body names it.",
    "content": {"application/json": {"schema": VALIDATION_ERROR}},
}
BAD_BODY = {
    "description": "The body is not valid: a field map naming each bad field or parameter, or an "
    "`Error` when the body is not JSON (`parse_error`) or a value is out of range (`invalid_value`).",
    # Error first: a generated client tries the branches in order, and a field map takes any object.
    "content": {"application/json": {"schema": {"oneOf": [ERROR, VALIDATION_ERROR]}}},
}


TAGS = {
    "queue": "queue",
    "steps": "steps",
    "enrollments": "enrollments",
    "sequence-enrollments": "enrollments",
    "nylas": "nylas",
    "events": "events",
}
# Routes whose resource is the company itself (`/api/companies/{company_id}/settings`).
COMPANY_RESOURCES = {"settings"}


class DaylitAutoSchema(AutoSchema):
    def get_description(self):
        # A class docstring is for developers and is shared by every method of the view.
        return get_doc(getattr(self.view, self.method.lower(), None))

    def get_tags(self):
        # One tag per resource, so docs and generated clients group operations the way people look
        # for them (the default would file every company route under "companies").
        words = [w for w in self.path.removeprefix("/api/").split("/") if w and not w.startswith("{")]
        if words[0] == "companies":
            words = words[1:]
            if len(words) == 1 and words[0] in COMPANY_RESOURCES:
                return ["companies"]
        return [next((TAGS[w] for w in reversed(words) if w in TAGS), words[0])]

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and schema.get("properties"):
            schema["required"] = sorted(schema["properties"])
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ChoiceField) and not getattr(field, "describe_choices", True):
            # A long list of codes that are their own labels (250 countries): the enum says it all.
            schema.pop("description", None)
            if field.help_text:
                schema["description"] = str(field.help_text)
        if not schema or schema.get("type") != "string":
            return schema
        if isinstance(field, serializers.EmailField) and field.allow_blank:
            schema.pop("format", None)
            schema["description"] = "An email address, or an empty string for none."
        elif isinstance(field, serializers.DecimalField) and field.max_whole_digits is not None:
            schema["pattern"] = _decimal_pattern(field)
        elif isinstance(field, CompanyScopedField) and field.blank_is_null and direction == "request":
            # Still a UUID to typed clients; "" is the reference API's other way to say none.
            schema = {
                "anyOf": [{"type": "string", "format": "uuid"}, {"type": "string", "maxLength": 0}],
                "nullable": True,
                "description": 'An id, or null or "" for none.',
            }
        elif direction == "request" and _plain_text(field, schema):
            schema["pattern"] = TEXT if field.allow_blank or not field.trim_whitespace else NOT_BLANK_TEXT
        return schema


# What DRF's CharField refuses: a NUL anywhere, and (unless blank is allowed) nothing but whitespace.
TEXT = r"^[^\u0000]*$"
NOT_BLANK_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def _plain_text(field, schema: dict) -> bool:
    return (
        isinstance(field, serializers.CharField)
        and not isinstance(field, serializers.EmailField | serializers.URLField | serializers.RegexField)
        and not any(isinstance(v, RegexValidator) for v in field.validators)
        and not {"pattern", "format", "enum"} & schema.keys()
    )


def _decimal_pattern(field: serializers.DecimalField) -> str:
    """Digits DRF's DecimalField takes: at least one, within max_digits/decimal_places, no sign when
    min_value is not negative (spectacular's own pattern accepts "", "." and "-")."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole, places = field.max_whole_digits, field.decimal_places
    return rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


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


class CommaSeparatedFieldScheme(OpenApiSerializerFieldExtension):
    """A comma list parameter (`status=open,paid`): an array sent as one comma-joined value
    (`style: form, explode: false`, set on the parameter by the hook). The repeated form
    (`status=open&status=paid`), which most generated clients send, is accepted too."""

    target_class = "daylit.api.fields.CommaSeparatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        allowed = getattr(field, "allowed", None)
        items = {"enum": allowed} if allowed else {"pattern": f"^(?:{field.item_pattern})$"}
        schema = {"type": "array", "items": {"type": "string", **items}, "minItems": 1}
        if field.max_items:
            schema["maxItems"] = field.max_items
        return schema


def document_every_answer(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for operations in result["paths"].values():
        for operation in operations.values():
            _document_operation(operation)
    return result


def _document_operation(operation: dict) -> None:
    responses = operation["responses"]
    for code, response in responses.items():
        if int(code) >= 400 and "content" not in response:
            # A 400 a view declares is one of its own `Error`s, and its fields or filters can be wrong too.
            schema = BAD_BODY["content"]["application/json"]["schema"] if code == "400" else ERROR
            response["content"] = {"application/json": {"schema": copy.deepcopy(schema)}}
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if parameter["in"] == "query" and parameter["schema"].get("type") == "array":
            parameter.update(style="form", explode=False)
    _default(responses, "406", NOT_ACCEPTABLE)
    if operation.get("security"):
        _default(responses, "401", UNAUTHORIZED)
        _default(responses, "429", THROTTLED)
        if "503" in responses:  # an operation's own 503 (the email provider's rate limit), and this one
            own = responses["503"].get("description", "")
            responses["503"]["description"] = f"{own} Or: {CONTENTION_TEXT}"
        _default(responses, "503", CONTENTION)
        if "requestBody" in operation:
            # Not the public webhook: it reads its signed body raw, whatever its content type.
            _default(responses, "415", UNSUPPORTED_MEDIA_TYPE)
    if any(parameter["in"] == "path" for parameter in parameters):
        _default(responses, "404", NOT_FOUND)
    if "requestBody" in operation:
        _default(responses, "400", BAD_BODY)
    elif any(parameter["in"] == "query" for parameter in parameters):
        _default(responses, "400", BAD_QUERY)
    for status in ("429", "503"):
        if status in responses:
            responses[status].setdefault("headers", copy.deepcopy(RETRY_AFTER))
    operation["responses"] = dict(sorted(responses.items()))


def _default(responses: dict, status: str, response: dict) -> None:
    # A copy each time: a YAML dump would write objects shared between operations as anchors.
    responses.setdefault(status, copy.deepcopy(response))
