"""Query parameters of every list: validated like a body, and what is sent is never ignored.

DRF reads a QueryDict as an HTML form, where an empty value means "not sent": `?sequence_id=` would
drop the filter and list every row. `validated_query` hands the serializer a plain dict instead, so
a parameter that is present is validated as given: empty, malformed or repeated is a 400 naming it
(`{"sequence_id": ["Must be a valid UUID."]}`). A well-formed id that matches nothing filters to an
empty list. Parameters the serializer does not declare are ignored, like unknown JSON fields: clients
and proxies add cache busters and tracking parameters.
"""

from django.http import QueryDict
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers


class FieldErrors(serializers.Serializer):
    """The 400 body of bad input, `{"field": ["message", ...]}`; its schema is in daylit.schema."""


BAD_QUERY = OpenApiResponse(
    FieldErrors,
    description="A query parameter is empty, malformed or repeated; the body names it, e.g. "
    '`{"page": ["A valid integer is required."]}`.',
)


def validated_query(query_params: QueryDict, serializer_class: type[serializers.Serializer]) -> dict:
    declared = serializer_class().fields
    repeated = {
        name: ["Give this parameter once; a list filter takes a comma list (a,b)."]
        for name in declared
        if len(query_params.getlist(name)) > 1
    }
    if repeated:
        raise serializers.ValidationError(repeated)
    query = serializer_class(data={name: query_params[name] for name in declared if name in query_params})
    query.is_valid(raise_exception=True)
    return query.validated_data


def list_schema(item_serializer, filters: type[serializers.Serializer] | None = None, **kwargs):
    """`extend_schema` of a list: its filters as typed query parameters and the 400 they answer."""
    return extend_schema(
        parameters=[filters] if filters else None,
        responses={200: item_serializer(many=True), 400: BAD_QUERY},
        **kwargs,
    )
