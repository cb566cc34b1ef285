"""Which variant of a step an enrollment gets: one deterministic rule, written once in Python and once
in SQL (docs/variants.md).

    bucket = int(first 8 hex digits of md5(enrollment_id_text || step_id_text)) % 10000

with both ids as canonical lowercase hyphenated UUID text. A step's experiment is a list of ranges
of buckets: the holdout first, [0, holdout_percent * 100), then the rest split by cumulative weights
in the order the variants are listed. The same enrollment and step always land in the same bucket,
so a re-read, a retry or a second database reaches the same answer; no table of assignments exists.

Single enroll assigns in Python (`variant_for`); bulk enroll assigns in the INSERT ... SELECT that
writes the rows (`BUCKET_SQL` joined against the ranges), so it stays one statement. A test holds
the two equal over many random ids.
"""

import hashlib
from uuid import UUID

from sequences.models import HOLDOUT_KEY

# The `error` of a held-out row, created cancelled (SPEC Part 2); its `variant_key` is HOLDOUT_KEY.
HOLDOUT_ERROR = "holdout"
BUCKETS = 10_000  # a weight of 1 in 400 still gets its share to within 1/10,000
BUCKETS_PER_PERCENT = BUCKETS // 100

# (key, first bucket, bucket after the last): half-open, in order, together exactly [0, BUCKETS) or empty.
Range = tuple[str, int, int]


def step_ranges(*, variants: list[dict], holdout_percent: int) -> tuple[Range, ...]:
    """The bucket ranges of a step's experiment; () when the step runs none.

    A holdout without variants leaves the rest of the range to no key (the row then has `variant_key`
    null, as a step without an experiment). Bounds are integers (floor of the cumulative share), so
    Python and SQL never disagree on a boundary.
    """
    holdout = holdout_percent * BUCKETS_PER_PERCENT
    ranges: list[Range] = []
    if holdout:
        ranges.append((HOLDOUT_KEY, 0, holdout))
    total = sum(variant["weight"] for variant in variants)
    rest, cumulative, low = BUCKETS - holdout, 0, holdout
    for variant in variants:
        cumulative += variant["weight"]
        high = holdout + rest * cumulative // total
        ranges.append((variant["key"], low, high))
        low = high
    return tuple(ranges)


def bucket(enrollment_id: UUID, step_id: UUID) -> int:
    digest = hashlib.md5(f"{enrollment_id}{step_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % BUCKETS


def variant_for(*, enrollment_id: UUID, step_id: UUID, ranges: tuple[Range, ...]) -> str | None:
    """The key of the range the enrollment's bucket falls in, or None (no experiment, or not held out
    by a holdout-only step)."""
    if not ranges:
        return None
    found = bucket(enrollment_id, step_id)
    for key, low, high in ranges:
        if low <= found < high:
            return key
    return None


def bucket_sql(*, enrollment_id: str, step_id: str) -> str:
    """The same bucket as `bucket`, as a PostgreSQL expression over two uuid columns. `uuid::text` is
    the canonical lowercase hyphenated form, as Python's `str(UUID)`; bit(32) -> bigint reads the 32
    bits unsigned, as `int(hex, 16)` does."""
    hex8 = f"substr(md5({enrollment_id}::text || {step_id}::text), 1, 8)"
    # mod(), not `%`: the expression goes into statements with %s parameters.
    return f"mod(('x' || {hex8})::bit(32)::bigint, {BUCKETS})"
