"""OPTIONS answers: name, description, media types; no per-method form introspection.

DRF's SimpleMetadata calls `get_object()` and builds serializers to describe PUT/POST forms; our views
resolve objects through selectors (no `queryset`), so that introspection crashed with a 500. The
OpenAPI schema at /api/schema/ is the description of every request body.
"""

from rest_framework.metadata import SimpleMetadata


class DescriptionOnlyMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        return {}
