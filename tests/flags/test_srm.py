"""The sample-ratio-mismatch check: chi-square p-values without SciPy, and when a mismatch is flagged."""

from __future__ import annotations

import math

import pytest

from gateway.flags.counts import VariantCounts
from gateway.flags.srm import chi_square_p_value, srm_check


@pytest.mark.parametrize(
    ("statistic", "p"),
    [(0.0, 1.0), (0.454936, 0.5), (2.705543, 0.1), (3.841459, 0.05), (6.634897, 0.01), (10.827566, 0.001)],
)
def test_p_value_matches_chi_square_tables(statistic: float, p: float) -> None:
    """The 1-dof survival function matches the textbook critical values."""
    assert chi_square_p_value(statistic) == pytest.approx(p, rel=1e-5)


def test_balanced_counts_pass() -> None:
    """Counts close to the share are not a mismatch."""
    result = srm_check(VariantCounts(candidate=1010, baseline=990), 50)
    assert result.status == "ok" and not result.detected
    assert result.chi_square == pytest.approx(0.2)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(0.1)))


def test_skewed_counts_are_flagged_below_one_in_a_thousand() -> None:
    """GrowthBook's example: 10 % expected, 11.5 % observed over 10,000 units is an SRM."""
    result = srm_check(VariantCounts(candidate=1150, baseline=8850), 10)
    assert result.detected and result.p_value < 0.001
    assert result.chi_square == pytest.approx(25.0)


def test_a_borderline_p_is_not_flagged() -> None:
    """p between 0.001 and 0.05 is left alone: the check is deliberately strict."""
    result = srm_check(VariantCounts(candidate=1060, baseline=940), 50)
    assert 0.001 < result.p_value < 0.05 and result.status == "ok"


def test_too_few_units_say_nothing() -> None:
    """Fewer than 8 expected units on a side: no verdict, p reported as 1."""
    assert srm_check(VariantCounts(candidate=7, baseline=0), 50).status == "insufficient_data"
    assert srm_check(VariantCounts(candidate=0, baseline=300), 2).status == "insufficient_data"


def test_a_starved_variant_is_still_caught() -> None:
    """A candidate that gets no units at all is a mismatch once enough are expected on its side."""
    result = srm_check(VariantCounts(candidate=0, baseline=1000), 5)
    assert result.detected


def test_share_of_zero_or_hundred_is_not_tested() -> None:
    """With every unit expected on one side there is no ratio to test."""
    assert srm_check(VariantCounts(candidate=0, baseline=500), 0).status == "not_applicable"
    assert srm_check(VariantCounts(candidate=500, baseline=0), 100).status == "not_applicable"
