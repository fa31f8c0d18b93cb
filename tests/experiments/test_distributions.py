"""Student's t and the normal distribution against tabulated values and closed forms."""

from __future__ import annotations

import math

import pytest

from gateway.experiments.distributions import (
    incomplete_beta,
    normal_cdf,
    normal_quantile,
    normal_two_sided_p,
    t_cdf,
    t_quantile,
    t_two_sided_p,
)

# Critical values of Student's t as printed in standard tables (four decimals).
T_TABLE = [
    (0.975, 1, 12.7062),
    (0.975, 2, 4.3027),
    (0.975, 5, 2.5706),
    (0.975, 10, 2.2281),
    (0.975, 30, 2.0423),
    (0.975, 100, 1.9840),
    (0.95, 10, 1.8125),
    (0.995, 3, 5.8409),
    (0.999, 20, 3.5518),
    (0.9, 1000, 1.2824),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_the_table(p: float, df: int, expected: float) -> None:
    """The quantile agrees with the printed t table to its four decimals, and is antisymmetric."""
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-5)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-5)


@pytest.mark.parametrize("t", [-40.0, -3.0, -0.5, 0.0, 0.1, 1.0, 2.5, 12.0, 300.0])
def test_t_cdf_matches_closed_forms_for_one_and_two_degrees_of_freedom(t: float) -> None:
    """df = 1 is the Cauchy distribution and df = 2 has F(t) = 1/2 + t / (2 sqrt(2 + t²))."""
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)


def test_t_cdf_tabulated_values() -> None:
    """P(T ≤ 2.0) for 5 degrees of freedom is 0.9490 (tables); 0 maps to one half for any df."""
    assert t_cdf(2.0, 5) == pytest.approx(0.949030, abs=1e-6)
    assert t_cdf(0.0, 7.3) == 0.5


def test_two_sided_p_keeps_its_precision_in_the_far_tail() -> None:
    """For df = 2, P(|T| ≥ t) = 1 - t/√(2+t²), written without cancellation; no 1 - cdf rounding to 0."""
    t = 1e4
    root = math.sqrt(2 + t * t)
    exact = 2 / (root * (root + t))
    assert t_two_sided_p(t, 2) == pytest.approx(exact, rel=1e-10)
    assert t_two_sided_p(-t, 2) == t_two_sided_p(t, 2)


@pytest.mark.parametrize("df", [1.5, 3.0, 7.7, 24.9, 480.0, 25_000.0, 3e6])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.9995])
def test_quantile_inverts_the_cdf_for_any_real_df(df: float, p: float) -> None:
    """t_cdf(t_quantile(p)) gives p back, including fractional (Welch) degrees of freedom."""
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


def test_large_df_approaches_the_normal() -> None:
    """With a million degrees of freedom the 97.5 % point is the normal's 1.959964."""
    assert t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-5)


def test_normal_values() -> None:
    """Φ(1.96) = 0.9750021, Φ⁻¹(0.975) = 1.959964, P(|Z| ≥ 8) = 1.2442e-15."""
    assert normal_cdf(1.96) == pytest.approx(0.9750021, abs=1e-7)
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert normal_two_sided_p(8.0) == pytest.approx(1.2442e-15, rel=1e-4)


@pytest.mark.parametrize("x", [0.0, 0.05, 0.3, 0.5, 0.77, 1.0])
def test_incomplete_beta_closed_forms(x: float) -> None:
    """I_x(1,1) = x, I_x(a,1) = x^a, I_x(1,b) = 1-(1-x)^b, and I_x(a,b) = 1 - I_{1-x}(b,a)."""
    assert incomplete_beta(1, 1, x) == pytest.approx(x, abs=1e-14)
    assert incomplete_beta(3.5, 1, x) == pytest.approx(x**3.5, abs=1e-14)
    assert incomplete_beta(1, 2.5, x) == pytest.approx(1 - (1 - x) ** 2.5, abs=1e-14)
    assert incomplete_beta(2.2, 7.1, x) == pytest.approx(1 - incomplete_beta(7.1, 2.2, 1 - x), abs=1e-14)


def test_bad_arguments_are_refused() -> None:
    """Probabilities outside (0, 1) and non-positive degrees of freedom raise ValueError."""
    with pytest.raises(ValueError, match="probability"):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_cdf(1.0, 0)
    with pytest.raises(ValueError, match="0 ≤ x ≤ 1"):
        incomplete_beta(1, 1, 1.5)
