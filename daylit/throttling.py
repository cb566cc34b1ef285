"""Per-token request rates, read from settings on every request (so tests and operators can change them).

- `TokenRateThrottle`: every token-authenticated request counts against `API_THROTTLE_RATE`
  (default "1200/min").
- `SendRateThrottle`: the endpoints that make the provider send email (`SEND_THROTTLED_URL_NAMES`)
  also count against `API_SEND_THROTTLE_RATE` (default "300/min"), a tighter budget per token.

A request over a rate gets 429 `{"detail", "code": "throttled"}` with a `Retry-After` header in
seconds (DRF's `Throttled` carries `wait`; daylit.errors keeps DRF's header). Unauthenticated
requests are not counted here: they are refused with 401 first, and the public endpoints (Nylas
webhooks and OAuth callback) must accept the provider's bursts. A rate of "" or "off" disables a
throttle. Counters live in Django's default cache: per process with LocMem, shared across workers
when CACHE_URL points at Redis.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

SEND_THROTTLED_URL_NAMES = frozenset({"queue-row-send"})


class _SettingsRateThrottle(SimpleRateThrottle):
    setting_name = ""

    def get_rate(self) -> str | None:
        rate = (getattr(settings, self.setting_name, "") or "").strip()
        return None if rate.lower() in ("", "off", "none", "0") else rate

    def _token_ident(self, request) -> str | None:
        token = getattr(request, "auth", None)
        pk = getattr(token, "pk", None)
        return None if pk is None else str(pk)


class TokenRateThrottle(_SettingsRateThrottle):
    scope = "token"
    setting_name = "API_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        ident = self._token_ident(request)
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": ident}


class SendRateThrottle(_SettingsRateThrottle):
    scope = "send"
    setting_name = "API_SEND_THROTTLE_RATE"

    def get_cache_key(self, request, view):
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in SEND_THROTTLED_URL_NAMES:
            return None
        ident = self._token_ident(request)
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": ident}
