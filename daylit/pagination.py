"""The list shape of the whole API: `{"count", "page", "page_size", "data"}`.

`page` >= 1 and `page_size` 1..100 (default 20); anything else (an empty `?page=` too) is a 400
naming the parameter.
A page past the end is an empty `data`, not a 404.
"""

from rest_framework import pagination, serializers
from rest_framework.response import Response

from daylit.api.query import validated_query

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


MAX_PAGE = 10_000_000


class PageParams(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


class CountPagePagination(pagination.BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        params = validated_query(request.query_params, PageParams)
        self.page = params["page"]
        self.page_size = params["page_size"]
        self.count = queryset.count()
        start = (self.page - 1) * self.page_size
        if start >= self.count:
            return []
        return list(queryset[start : start + self.page_size])

    def get_paginated_response(self, data):
        return Response({"count": self.count, "page": self.page, "page_size": self.page_size, "data": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "page", "page_size", "data"],
            "properties": {
                "count": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "data": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "1-based; a page past the end has empty `data`.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Items per page (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
