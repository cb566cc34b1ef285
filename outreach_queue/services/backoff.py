"""The one backoff rule of the queue's retries (sending, AI drafts)."""

# Auto-send: 30 s, 60 s, 120 s ... capped at 10 minutes. With AUTO_SEND_MAX_RETRIES = 8 the waits add
# up to 2,130 s, well inside Nylas's one-hour idempotency window (checked at startup), so every
# automatic retry is still replayed by Nylas if an earlier attempt delivered.
SEND_RETRY_BASE_SECONDS = 30
SEND_RETRY_CAP_SECONDS = 600


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Delay before attempt `attempts + 1`: `base` doubling with each attempt made, at most `cap`."""
    if attempts <= 0:
        return 0
    return min(base * 2 ** (attempts - 1), cap)


def send_retry_seconds(attempts: int) -> float:
    """Auto-send's wait after `attempts` failed sends (before any Retry-After)."""
    return backoff_seconds(attempts, SEND_RETRY_BASE_SECONDS, SEND_RETRY_CAP_SECONDS)


def auto_send_total_wait_seconds(max_attempts: int) -> float:
    """The longest auto-send keeps retrying a row: the waits between its `max_attempts` attempts."""
    return sum(send_retry_seconds(n) for n in range(1, max_attempts))
