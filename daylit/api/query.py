"""Query parameters of every list: validated like a body, and what is sent is never ignored.

DRF reads a QueryDict as an HTML form, where an empty value means "not sent": `?sequence_id=` would
drop the filter and list every row. `validated_query` hands the serializer a plain dict instead, so
a parameter that is present is validated as given: empty, malformed or repeated is a 400 naming it
(`{"sequence_id": ["Must be a valid UUID."]}`); only a comma list may come as repeated parameters
(`?status=open&status=paid`, the form most generated clients send), which means the same as
`?status=open,paid`. A well-formed id that matches nothing filters to an
empty list. Parameters the serializer does not declare are ignored, like unknown JSON fields: clients
and proxies add cache busters and tracking parameters.
"""

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from daylit.api.fields import CommaSeparatedField


def validated_query(
    query_params: QueryDict, serializer_class: type[serializers.Serializer], context: dict | None = None
) -> dict:
    declared = serializer_class().fields
    given = {name: query_params.getlist(name) for name in declared if name in query_params}
    repeated = {
        name: ["Give this parameter once."]
        for name, values in given.items()
        if len(values) > 1 and not isinstance(declared[name], CommaSeparatedField)
    }
    if repeated:
        raise serializers.ValidationError(repeated)
    query = serializer_class(
        data={name: ",".join(values) for name, values in given.items()}, context=context or {}
    )
    query.is_valid(raise_exception=True)
    return query.validated_data


PAGED = (
    "Paginated: `page` (>= 1) and `page_size` (1..100, default 20); a page past the end is a 200 with an "
    "empty `data`. A filter or page parameter that is present but empty or malformed is a 400 naming it."
)


def list_schema(
    item_serializer,
    filters: type[serializers.Serializer] | None = None,
    *,
    description: str,
    errors: dict | None = None,
    **kwargs,
):
    """`extend_schema` of a list: its filters as typed query parameters (their 400 is in daylit.schema),
    and its description followed by the paging rules every list shares. `errors` adds the list's own
    error answers ({403: OpenApiResponse(...)})."""
    return extend_schema(
        parameters=[filters] if filters else None,
        responses={200: item_serializer(many=True), **(errors or {})},
        description=f"{description} {PAGED}",
        **kwargs,
    )
