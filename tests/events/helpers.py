import json

from rest_framework.renderers import JSONRenderer


def as_api_json(data) -> dict:
    """Serializer output as the API sends it (UUIDs and times as strings): what an event's `data` is."""
    return json.loads(JSONRenderer().render(data))
