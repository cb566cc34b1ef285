from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from daylit.api.fields import CommaSeparatedChoiceField
from events.models import Event
from events.types import EVENT_TYPES


class SubjectSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="What `data` is: `enrollment`, `queue_row`, `email_connection`, ..."
    )
    id = serializers.UUIDField()


class EventSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    data = serializers.DictField(help_text="The subject after the change, in the shape the API returns it.")

    class Meta:
        model = Event
        fields = ["id", "type", "occurred_at", "company_id", "subject", "data"]
        read_only_fields = fields

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, event: Event) -> dict:
        return SubjectSerializer({"type": event.subject_type, "id": event.subject_id}).data


class EventPageSerializer(serializers.Serializer):
    data = EventSerializer(many=True)
    has_more = serializers.BooleanField(
        help_text="More events after the last one: ask with `after=<its id>`."
    )


class CursorParams(serializers.Serializer):
    after = serializers.UUIDField(
        required=False, help_text="The id of the last event you have; 400 if unknown."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    type = CommaSeparatedChoiceField(EVENT_TYPES)


class EventFilters(CursorParams):
    subject_id = serializers.UUIDField(required=False, help_text="Only events about this object.")
