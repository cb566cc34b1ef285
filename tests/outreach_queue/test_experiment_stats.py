"""The experiment statistics against published values and their defining properties."""

import math

import pytest

from outreach_queue.experiment_stats import Z_95, probability_best, rate, wilson_interval


def test_z_is_the_two_sided_95_percent_quantile():
    assert round(Z_95, 6) == 1.959964


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I: 81/263.
        (81, 263, 0.2553, 0.3662),
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 3, 0.0615, 0.7923),
    ],
)
def test_wilson_interval_matches_published_values(count, n, low, high):
    interval = wilson_interval(count, n)
    assert interval == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_is_exact_at_the_edges_and_none_without_a_sample():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) is None


def test_wilson_interval_narrows_with_the_sample_and_holds_the_rate():
    small, large = wilson_interval(5, 10), wilson_interval(500, 1000)
    assert small[0] < large[0] < 0.5 < large[1] < small[1]


def test_wilson_interval_refuses_a_count_above_n():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_rate_is_none_without_a_denominator():
    assert rate(0, 0) is None
    assert rate(1, 4) == 0.25


def test_probability_best_sums_to_one_and_is_deterministic():
    arms = [(2, 4), (0, 2), (1, 3)]
    first = probability_best(arms, seed=42)
    assert math.fsum(first) == pytest.approx(1.0)
    assert probability_best(arms, seed=42) == first
    assert probability_best(arms, seed=43) != first  # the seed matters: it is not a constant


def test_probability_best_favours_a_clearly_better_arm():
    better, worse = probability_best([(60, 100), (20, 100)], seed=7)
    assert better > 0.999
    assert worse < 0.001


def test_probability_best_is_about_even_for_equal_arms():
    shares = probability_best([(30, 100), (30, 100)], seed=7)
    assert shares == [pytest.approx(0.5, abs=0.02)] * 2
    thirds = probability_best([(5, 10)] * 3, seed=7)
    assert thirds == [pytest.approx(1 / 3, abs=0.02)] * 3


def test_probability_best_leaves_out_arms_without_a_sample():
    shares = probability_best([(3, 10), (0, 0), (1, 10)], seed=1)
    assert shares[1] is None
    assert shares[0] + shares[2] == pytest.approx(1.0)
    assert probability_best([(0, 0)], seed=1) == [None]
    assert probability_best([(0, 5)], seed=1) == [1.0]


def test_probability_best_grows_with_evidence_for_the_same_rates():
    few = probability_best([(2, 10), (1, 10)], seed=3)[0]
    many = probability_best([(200, 1000), (100, 1000)], seed=3)[0]
    assert 0.5 < few < many
