import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from daylit.models import ApiToken
from daylit.tokens import hash_key


class HashedTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`: looks the key up by its hash and compares in constant time."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        digest = hash_key(key)
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, digest):
            raise exceptions.AuthenticationFailed("Invalid token.")
        self._touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword

    @staticmethod
    def _touch(token: ApiToken) -> None:
        # At most one write per token per interval, so reads stay reads.
        now = timezone.now()
        stale = now - timedelta(seconds=settings.API_TOKEN_TOUCH_SECONDS)
        if token.last_used_at is None or token.last_used_at < stale:
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk
            ).update(last_used_at=now)
