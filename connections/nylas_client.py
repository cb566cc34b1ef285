"""The one place a Nylas SDK client is built, so every call shares the settings' key, URI and timeout."""

from django.conf import settings
from nylas import Client


def nylas_configured() -> bool:
    """Without an API key the service runs offline: email goes to the outbox transport."""
    return bool(settings.NYLAS_API_KEY)


def nylas_client() -> Client:
    return Client(
        api_key=settings.NYLAS_API_KEY,
        api_uri=settings.NYLAS_API_URI,
        timeout=settings.NYLAS_TIMEOUT_SECONDS,
    )
