"""The statistics of a step's experiment (SPEC Part 2, "Performance and experiments"): pure functions.

- `wilson_interval`: the 95% Wilson score interval of a rate k/n. Unlike the normal approximation it
  stays inside [0, 1] and is wide for small n (5/10 is [0.2366, 0.7634]), which is the point: ten
  emails prove nothing, and the interval says so.
- `probability_best`: for each arm, the posterior probability that its rate is the highest, under a
  Beta-Binomial model with a uniform prior (Beta(1 + k, 1 + n - k) per arm), by Monte Carlo with numpy.
  The generator is seeded from the caller's seed (the step's id), so the same counts give the same
  answer on every call. Arms with n = 0 have no posterior worth reporting and get None (they take no
  part in the comparison).
"""

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

# The two-sided 95% normal quantile, 1.959963984540054: from the standard library, not retyped.
Z_95 = NormalDist().inv_cdf(0.975)
DRAWS = 20_000


def rate(count: int, n: int) -> float | None:
    """count / n, or None when there is nothing to divide by (no emails is not a 0% rate)."""
    return count / n if n else None


def wilson_interval(count: int, n: int, *, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of count/n (None when n is 0).

    centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    """
    if n <= 0:
        return None
    if not 0 <= count <= n:
        raise ValueError(f"count must be within 0..n, got {count}/{n}")
    p = count / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * ((p * (1 - p) / n + z2 / (4 * n * n)) ** 0.5) / denominator
    # At the edges the bound is exactly 0 (or 1); the formula leaves float noise (0/10: 2.8e-17).
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == n else min(1.0, centre + half)
    return low, high


def probability_best(arms: Sequence[tuple[int, int]], *, seed: int, draws: int = DRAWS) -> list[float | None]:
    """For arms given as (count, n), the share of posterior draws in which each arm has the highest rate.

    Draws are continuous, so exact ties have probability zero; `argmax` gives one to the first arm
    anyway. The shares of the arms with n > 0 sum to 1; arms with n = 0 answer None. One arm alone is
    trivially best (1.0).
    """
    for count, n in arms:
        if not 0 <= count <= n:
            raise ValueError(f"count must be within 0..n, got {count}/{n}")
    compared = [index for index, (_, n) in enumerate(arms) if n > 0]
    result: list[float | None] = [None] * len(arms)
    if not compared:
        return result
    rng = np.random.default_rng(seed)
    alpha = np.array([1 + arms[i][0] for i in compared], dtype=float)
    beta = np.array([1 + arms[i][1] - arms[i][0] for i in compared], dtype=float)
    samples = rng.beta(alpha, beta, size=(draws, len(compared)))
    wins = np.bincount(samples.argmax(axis=1), minlength=len(compared))
    for position, index in enumerate(compared):
        result[index] = float(wins[position]) / draws
    return result
