"""The schedule of a delivery's attempts, in one place so dispatch, attempts and outcomes agree on it:
the wait after each failure (the last delay repeats), giving up three days after a delivery was created,
when a failing endpoint is probed and when it is disabled, and how long a claim lasts. Pure functions
of their arguments: no database, no clock.
"""

from datetime import datetime, timedelta

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
# A claim's lease: longer than any attempt (10 s to connect, 10 s for the answer's first byte).
CLAIM_LEASE = timedelta(seconds=60)


def retry_delay(failed_attempts: int) -> timedelta:
    """The wait after the `failed_attempts`-th failed attempt (1-based); the last delay repeats."""
    return RETRY_DELAYS[min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1]


def next_attempt_after_failure(
    *, failed_attempts: int, created_at: datetime, now: datetime
) -> datetime | None:
    """When to try again after a failed attempt at `now`, or None: give up (three days have passed)."""
    deadline = created_at + GIVE_UP_AFTER
    if now >= deadline:
        return None
    return min(now + retry_delay(failed_attempts), deadline)


def endpoint_probe_at(*, failing_since: datetime, now: datetime) -> datetime:
    """When a failing endpoint is tried next: the first point of the retry schedule, counted from
    `failing_since`, after `now` (at the latest when it has been failing for three days)."""
    last = failing_since + DISABLE_AFTER
    at, failures = failing_since, 0
    while at <= now and at < last:
        failures += 1
        at += retry_delay(failures)
    return min(at, last)
