"""What bench_send.py reports, from the fake Nylas's records and the rows."""

from collections import Counter, defaultdict

WINDOW_SECONDS = 60


def duplicates(deliveries: list[dict]) -> int:
    """Emails delivered more than once: deliveries beyond the first of each (grant, Idempotency-Key)."""
    counts = Counter((d["grant"], d["key"]) for d in deliveries)
    return sum(n - 1 for n in counts.values())


def worst_window(requests: list[dict], *, grants: set[str] | None = None) -> int:
    """The most send requests one grant made in any 60-second window (half-open), over all grants
    (or those in `grants`). Requests, not deliveries: a replayed key still counts against pacing."""
    times: dict[str, list[float]] = defaultdict(list)
    for request in requests:
        if grants is None or request["grant"] in grants:
            times[request["grant"]].append(request["at"])
    worst = 0
    for series in times.values():
        series.sort()
        start = 0
        for end, at in enumerate(series):
            while at - series[start] >= WINDOW_SECONDS:
                start += 1
            worst = max(worst, end - start + 1)
    return worst
