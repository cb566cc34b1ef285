"""System checks of the queue's sending settings (run by `manage.py check` and at every startup)."""

from django.conf import settings
from django.core import checks

from outreach_queue.services.backoff import auto_send_total_wait_seconds


@checks.register(checks.Tags.compatibility)
def send_settings_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    if settings.SENDING_STUCK_AFTER_SECONDS <= settings.NYLAS_TIMEOUT_SECONDS:
        # Otherwise the reconciler resends rows whose worker is still waiting for Nylas's answer.
        errors.append(
            checks.Error(
                f"SENDING_STUCK_AFTER_SECONDS ({settings.SENDING_STUCK_AFTER_SECONDS}) must be greater than "
                f"NYLAS_TIMEOUT_SECONDS ({settings.NYLAS_TIMEOUT_SECONDS}).",
                hint="A row is stuck only once its sender can no longer be waiting for Nylas.",
                id="queue.E001",
            )
        )
    total = auto_send_total_wait_seconds(settings.AUTO_SEND_MAX_RETRIES)
    if total >= settings.NYLAS_IDEMPOTENCY_WINDOW_SECONDS:
        errors.append(
            checks.Error(
                f"AUTO_SEND_MAX_RETRIES ({settings.AUTO_SEND_MAX_RETRIES}) spreads auto-send's retries over "
                f"{total:.0f} s, past NYLAS_IDEMPOTENCY_WINDOW_SECONDS "
                f"({settings.NYLAS_IDEMPOTENCY_WINDOW_SECONDS}).",
                hint="Late retries would fail as 'outcome unknown' instead of being replayed; lower it.",
                id="queue.E002",
            )
        )
    return errors
