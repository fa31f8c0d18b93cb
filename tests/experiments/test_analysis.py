"""The A/B tests: Welch, two proportions, the always-valid interval, one-arm intervals and the paired benchmark test."""

from __future__ import annotations

import random

import pytest

from gateway.experiments.analysis import (
    mean_interval,
    paired_difference,
    sequential_test,
    two_proportion_test,
    welch_test,
)
from gateway.experiments.moments import Moments
from tests.experiments.helpers import of_values, passes, summary

# The three worked examples of Welch's t-test on Wikipedia ("Welch's t-test", Examples).
EX1 = (
    [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4],
    [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4],
)
EX2 = (
    [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8],
    [
        21.5,
        22.8,
        21.0,
        23.0,
        21.6,
        23.6,
        22.5,
        20.7,
        23.4,
        21.8,
        20.7,
        21.7,
        21.5,
        22.5,
        23.6,
        21.5,
        22.5,
        23.5,
        21.5,
        21.8,
    ],
)
EX3 = (
    [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0],
    [
        28.2,
        26.6,
        20.1,
        23.3,
        25.2,
        22.1,
        17.7,
        27.6,
        20.6,
        13.7,
        23.2,
        17.5,
        20.6,
        18.0,
        23.9,
        21.6,
        24.3,
        20.4,
        23.9,
        13.3,
    ],
)


@pytest.mark.parametrize(
    ("sample", "t", "df", "p"),
    [(EX1, -2.46, 25.0, 0.021), (EX2, -1.57, 9.9, 0.149), (EX3, -2.22, 24.5, 0.036)],
)
def test_welch_matches_the_textbook_examples(
    sample: tuple[list[float], list[float]], t: float, df: float, p: float
) -> None:
    """t, Welch–Satterthwaite df and p agree with the published examples to their printed digits."""
    result = welch_test(of_values(sample[0]), of_values(sample[1]))
    assert result is not None
    assert result.statistic == pytest.approx(t, abs=0.006)
    assert result.df == pytest.approx(df, abs=0.06)
    assert result.p_value == pytest.approx(p, abs=0.0006)


def test_welch_interval_matches_r() -> None:
    """The 95 % interval of example 1 is −3.9841…−0.3492, as R's t.test(a, b) prints it."""
    result = welch_test(of_values(EX1[0]), of_values(EX1[1]))
    assert result is not None
    assert [result.ci_lower, result.ci_upper] == pytest.approx([-3.98410, -0.34924], abs=1e-4)
    assert result.worse and not result.better


def test_welch_needs_two_samples_per_arm_and_handles_zero_spread() -> None:
    """Below two samples there is no test; identical constant arms give p = 1 and a zero-width interval."""
    assert welch_test(of_values([8.0]), summary(100, 8.0, 1.0)) is None
    same = welch_test(of_values([9.0] * 5), of_values([9.0] * 7))
    assert same is not None and same.p_value == 1.0 and same.ci_lower == same.ci_upper == 0.0
    apart = welch_test(of_values([9.0] * 5), of_values([7.0] * 7))
    assert apart is not None and apart.p_value == 0.0 and apart.difference == pytest.approx(2.0)


def test_two_proportions_by_hand() -> None:
    """120/200 against 100/200: pooled z = 2.0101, p = 0.0444; Agresti–Caffo interval +0.0025…+0.1956."""
    result = two_proportion_test(passes(200, 120), passes(200, 100))
    assert result is not None
    assert result.difference == pytest.approx(0.10)
    assert result.statistic == pytest.approx(2.0101, abs=1e-4)
    assert result.p_value == pytest.approx(0.04442, abs=1e-5)
    assert result.ci_lower == pytest.approx(0.00246, abs=1e-5)
    assert result.ci_upper == pytest.approx(0.19556, abs=1e-5)


def test_two_proportions_at_the_edges() -> None:
    """All passing in both arms: no difference (p = 1); all against none: a wide-open difference inside ±1."""
    both = two_proportion_test(passes(150, 150), passes(150, 150))
    assert both is not None and both.p_value == 1.0 and both.difference == 0.0
    assert both.ci_lower < 0 < both.ci_upper  # Agresti–Caffo does not collapse to a point at 100 %
    apart = two_proportion_test(passes(150, 150), passes(150, 0))
    assert apart is not None and apart.p_value < 1e-12
    assert -1.0 <= apart.ci_lower < apart.ci_upper <= 1.0 and apart.better


def test_sequential_interval_by_hand() -> None:
    """500 + 500 samples, means 8.2 and 8.0, sd 1, tuning 1000: half-width 0.19196 and e-value p = 0.03525."""
    result = sequential_test(summary(500, 8.2, 1.0), summary(500, 8.0, 1.0), alpha=0.05, tuning=1000)
    assert result is not None
    assert result.ci_upper - result.difference == pytest.approx(0.191963, abs=1e-5)
    assert result.p_value == pytest.approx(0.035245, abs=1e-5)


@pytest.mark.parametrize(("mean_c", "n"), [(8.05, 300), (8.2, 500), (8.3, 150), (7.7, 400), (8.0, 2000)])
def test_sequential_p_and_interval_agree(mean_c: float, n: int) -> None:
    """The always-valid p-value is below alpha exactly when the interval excludes 0; it is wider than Welch's."""
    c, b = summary(n, mean_c, 1.2), summary(n, 8.0, 1.1)
    seq, fixed = sequential_test(c, b, alpha=0.05, tuning=1000), welch_test(c, b, alpha=0.05)
    assert seq is not None and fixed is not None
    assert (seq.p_value < 0.05) == (seq.better or seq.worse)
    assert seq.ci_upper - seq.ci_lower > fixed.ci_upper - fixed.ci_lower


def test_peeking_fools_welch_but_not_the_always_valid_interval() -> None:
    """Two identical arms checked every 50 samples up to 2,000: Welch cries wolf far above 5 %, the sequential test does not."""
    rng = random.Random(20240611)
    runs, fixed_alarms, seq_alarms = 200, 0, 0
    for _ in range(runs):
        sums = [0.0, 0.0, 0.0, 0.0]  # candidate total, total_sq, baseline total, total_sq
        fixed_hit = seq_hit = False
        for step in range(1, 2001):
            x, y = rng.gauss(8.0, 1.0), rng.gauss(8.0, 1.0)
            sums[0] += x
            sums[1] += x * x
            sums[2] += y
            sums[3] += y * y
            if step % 50:
                continue
            c = Moments(count=step, total=sums[0], total_sq=sums[1])
            b = Moments(count=step, total=sums[2], total_sq=sums[3])
            fixed = welch_test(c, b, alpha=0.05)
            seq = sequential_test(c, b, alpha=0.05, tuning=1000)
            fixed_hit = fixed_hit or (fixed is not None and fixed.p_value < 0.05)
            seq_hit = seq_hit or (seq is not None and seq.p_value < 0.05)
        fixed_alarms += fixed_hit
        seq_alarms += seq_hit
    assert fixed_alarms / runs > 0.15
    assert seq_alarms / runs < 0.05


def test_mean_interval_student_and_sequential() -> None:
    """1..5 has the 95 % t interval 1.0368…4.9632; the always-valid one is wider; one value gives none."""
    values = of_values([1, 2, 3, 4, 5])
    lower, upper = mean_interval(values) or (0.0, 0.0)
    assert [lower, upper] == pytest.approx([1.036757, 4.963243], abs=1e-6)
    seq = mean_interval(values, sequential_tuning=1000)
    assert seq is not None and seq[0] < lower and seq[1] > upper
    assert mean_interval(of_values([8.0])) is None


def test_paired_difference_by_hand() -> None:
    """Differences 1,0,1,1,2: mean 1.0, paired t = 3.1623 on 4 df, p = 0.0341; the bootstrap interval lies within them."""
    result = paired_difference([8, 7, 9, 6, 8], [7, 7, 8, 5, 6], seed=7)
    assert result.mean_difference == pytest.approx(1.0)
    assert result.t == pytest.approx(3.16228, abs=1e-5)
    assert result.df == 4
    assert result.p_value == pytest.approx(0.034109, abs=1e-6)
    assert 0.0 <= result.ci_lower <= 1.0 <= result.ci_upper <= 2.0


def test_paired_bootstrap_is_reproducible_by_seed() -> None:
    """The same seed gives the same interval; another seed gives another one."""
    rng = random.Random(3)
    candidate = [rng.uniform(6, 10) for _ in range(50)]
    baseline = [rng.uniform(5, 9) for _ in range(50)]
    first = paired_difference(candidate, baseline, seed=11)
    assert paired_difference(candidate, baseline, seed=11) == first
    other = paired_difference(candidate, baseline, seed=12)
    assert (other.ci_lower, other.ci_upper) != (first.ci_lower, first.ci_upper)
    assert first.ci_lower < first.mean_difference < first.ci_upper


def test_paired_difference_edge_cases() -> None:
    """Unequal lengths or a single case are refused; identical scores give p = 1 and no t."""
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0], seed=0)
    with pytest.raises(ValueError, match="at least two"):
        paired_difference([1.0], [1.0], seed=0)
    same = paired_difference([8.0, 7.0, 9.0], [8.0, 7.0, 9.0], seed=0)
    assert same.p_value == 1.0 and same.t is None and same.ci_lower == same.ci_upper == 0.0


def test_sequential_pass_rate_never_collapses_to_a_point() -> None:
    """Five passes against five failures: the always-valid pass-rate interval stays wide and inside ±1."""
    result = sequential_test(passes(5, 5), passes(5, 0), alpha=0.05, tuning=1000, proportion=True)
    assert result is not None and result.difference == 1.0
    assert -1.0 <= result.ci_lower < 0.5 and result.ci_upper == 1.0
    assert result.p_value > 0.05  # five of each is not evidence that survives continuous monitoring
