from rest_framework import serializers

from connections.models import EmailConnection


class EmailConnectionSerializer(serializers.ModelSerializer):
    """What a client may see of a connection: never the grant id or any secret."""

    member_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = EmailConnection
        fields = ["id", "email", "provider", "status", "member_id", "allow_shared_sending", "created_at"]
        read_only_fields = fields


class EmailConnectionPatch(serializers.Serializer):
    allow_shared_sending = serializers.BooleanField(required=False)


class OAuthStartBody(serializers.Serializer):
    provider = serializers.ChoiceField(
        choices=["google", "microsoft", "icloud", "yahoo", "imap", "ews"],
        required=False,
        help_text="Skip Nylas's provider picker.",
    )
    login_hint = serializers.EmailField(required=False, help_text="Pre-fills the mailbox address.")


class OAuthStartResponse(serializers.Serializer):
    url = serializers.URLField()


class OAuthCallbackQuery(serializers.Serializer):
    code = serializers.CharField(max_length=2048)
    state = serializers.CharField(max_length=2048)
    # Nylas sends these instead of a code when the user declined; the view answers 400 `oauth_denied`.
    error = serializers.CharField(required=False, max_length=2048, help_text="Sent by Nylas on a refusal.")
    error_description = serializers.CharField(required=False, max_length=2048)
