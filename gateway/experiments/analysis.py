"""The A/B statistics: candidate − baseline per score dimension, from running moments, as pure functions.

Three comparisons of two arms, each a ``Comparison`` (difference, interval, p-value):

- ``welch_test``: Welch's unequal-variance t-test and its ``1 - alpha`` interval — the textbook
  fixed-horizon answer for mean scores (0–10 per dimension, and ``overall``).
- ``two_proportion_test``: the pass rate (``PASS`` moments hold 1/0 outcomes). The p-value is the
  pooled two-proportion z-test; the interval is Agresti–Caffo's (one success and one failure added
  to each arm), which keeps its coverage near 0 % and 100 % where Wald's interval collapses to a point.
- ``sequential_test``: an always-valid interval and p-value (the asymptotic confidence sequence of
  Waudby-Smith et al. 2023, arXiv:2103.06476, eq. 155 — a normal-mixture mSPRT; the form GrowthBook
  ships as "sequential testing"). **This is what the gateway decides on by default**, because the
  analysis service re-reads the results every ``interval_s`` and may act each time: a fixed-horizon
  test checked every minute finds a "significant" difference between two identical models far more
  often than ``alpha`` (peeking), while the confidence sequence keeps the false-positive rate below
  ``alpha`` however often it is looked at (``tests/experiments/test_analysis.py`` shows both). It is
  wider than Welch's interval; the tuning parameter (total samples at which it is narrowest) trades
  early against late power. It relies on the central limit theorem, which is why no verdict is
  given below ``min_samples`` per arm.

``mean_interval`` is the one-sample counterpart used to test the candidate against the 8.0 bar, and
``paired_difference`` serves the offline benchmark: the same cases scored for two targets, with a
seeded bootstrap interval and a paired t-test.

Degenerate inputs (an arm with fewer than two samples) give ``None`` rather than NaN, and zero
variance gives a zero-width interval, so callers and JSON never see NaN.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.experiments.distributions import normal_quantile, normal_two_sided_p, t_quantile, t_two_sided_p
from gateway.experiments.moments import Moments

Method = Literal["welch", "two_proportion", "sequential"]


class Comparison(BaseModel):
    """Candidate minus baseline on one quantity: the estimate, its interval and its p-value."""

    model_config = ConfigDict(frozen=True)

    method: Method
    difference: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float
    statistic: float | None = None
    """t or z; ``None`` for the sequential test and for zero variance."""
    df: float | None = None
    """Welch–Satterthwaite degrees of freedom (Welch only)."""

    @property
    def better(self) -> bool:
        """The candidate is significantly higher (the interval lies above 0)."""
        return self.ci_lower > 0

    @property
    def worse(self) -> bool:
        """The candidate is significantly lower (the interval lies below 0)."""
        return self.ci_upper < 0


def welch_test(candidate: Moments, baseline: Moments, *, alpha: float = 0.05) -> Comparison | None:
    """Welch's t-test of mean(candidate) − mean(baseline); ``None`` below two samples in an arm."""
    if candidate.count < 2 or baseline.count < 2:
        return None
    vc, vb = candidate.variance / candidate.count, baseline.variance / baseline.count
    diff, se = candidate.mean - baseline.mean, math.sqrt(vc + vb)
    if se == 0.0:
        return _exact("welch", diff)
    df = (vc + vb) ** 2 / (vc * vc / (candidate.count - 1) + vb * vb / (baseline.count - 1))
    t = diff / se
    half = t_quantile(1.0 - alpha / 2.0, df) * se
    return Comparison(
        method="welch",
        difference=diff,
        std_error=se,
        ci_lower=diff - half,
        ci_upper=diff + half,
        p_value=t_two_sided_p(t, df),
        statistic=t,
        df=df,
    )


def two_proportion_test(candidate: Moments, baseline: Moments, *, alpha: float = 0.05) -> Comparison | None:
    """Pass rate (moments of 1/0 outcomes): pooled z-test p-value, Agresti–Caffo interval."""
    if candidate.count < 2 or baseline.count < 2:
        return None
    nc, nb = candidate.count, baseline.count
    pc, pb = candidate.total / nc, baseline.total / nb
    diff = pc - pb
    pooled = (candidate.total + baseline.total) / (nc + nb)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nb))
    z = diff / se0 if se0 > 0 else None
    p_value = normal_two_sided_p(z) if z is not None else (1.0 if diff == 0 else 0.0)
    # Agresti–Caffo: one success and one failure more in each arm.
    ac, ab = (candidate.total + 1.0) / (nc + 2.0), (baseline.total + 1.0) / (nb + 2.0)
    se = math.sqrt(ac * (1.0 - ac) / (nc + 2.0) + ab * (1.0 - ab) / (nb + 2.0))
    half = normal_quantile(1.0 - alpha / 2.0) * se
    centre = ac - ab
    return Comparison(
        method="two_proportion",
        difference=diff,
        std_error=se,
        ci_lower=max(-1.0, centre - half),
        ci_upper=min(1.0, centre + half),
        p_value=p_value,
        statistic=z,
    )


def sequential_rho(alpha: float, tuning: float) -> float:
    """The mixing parameter that makes the confidence sequence narrowest at ``tuning`` total samples."""
    log_term = -2.0 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1.0)) / tuning)


def sequential_half_width(variance: float, n: float, *, alpha: float, tuning: float) -> float:
    """Half-width of the always-valid interval for a mean whose estimate has ``variance`` after ``n`` samples."""
    rho2 = sequential_rho(alpha, tuning) ** 2
    spread = n * rho2 + 1.0
    s2 = variance * n  # the per-sample variance the confidence sequence is written in
    return math.sqrt(s2 * 2.0 * spread / (n * n * rho2) * math.log(math.sqrt(spread) / alpha))


def sequential_test(
    candidate: Moments, baseline: Moments, *, alpha: float = 0.05, tuning: float = 1000.0, proportion: bool = False
) -> Comparison | None:
    """Always-valid interval and p-value for mean(candidate) − mean(baseline), safe under continuous monitoring.

    For a pass rate (``proportion``) the variance is Agresti–Caffo's, as in ``two_proportion_test``,
    so two arms at 100 % and 0 % do not make a zero-width interval out of a handful of samples.
    """
    if candidate.count < 2 or baseline.count < 2:
        return None
    if proportion:
        variance = _adjusted_rate_variance(candidate) + _adjusted_rate_variance(baseline)
    else:
        variance = candidate.variance / candidate.count + baseline.variance / baseline.count
    diff = candidate.mean - baseline.mean
    if variance == 0.0:
        return _exact("sequential", diff)
    n = float(candidate.count + baseline.count)
    rho2 = sequential_rho(alpha, tuning) ** 2
    spread = n * rho2 + 1.0
    # The mixture likelihood ratio (an e-value) against "no difference"; its inverse is an always-valid p-value.
    log_evalue = n * rho2 * diff * diff / (2.0 * variance * spread) - 0.5 * math.log(spread)
    half = sequential_half_width(variance, n, alpha=alpha, tuning=tuning)
    lower, upper = diff - half, diff + half
    if proportion:
        lower, upper = max(-1.0, lower), min(1.0, upper)
    return Comparison(
        method="sequential",
        difference=diff,
        std_error=math.sqrt(variance),
        ci_lower=lower,
        ci_upper=upper,
        p_value=min(1.0, math.exp(-log_evalue)),
    )


def _adjusted_rate_variance(outcomes: Moments) -> float:
    """Variance of a pass-rate estimate with one success and one failure added (never zero)."""
    rate = (outcomes.total + 1.0) / (outcomes.count + 2.0)
    return rate * (1.0 - rate) / (outcomes.count + 2.0)


def compare(
    candidate: Moments,
    baseline: Moments,
    *,
    proportion: bool,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> Comparison | None:
    """The comparison the verdict uses: sequential when a tuning is given, else Welch or two-proportion."""
    if sequential_tuning is not None:
        return sequential_test(candidate, baseline, alpha=alpha, tuning=sequential_tuning, proportion=proportion)
    if proportion:
        return two_proportion_test(candidate, baseline, alpha=alpha)
    return welch_test(candidate, baseline, alpha=alpha)


def mean_interval(
    moments: Moments, *, alpha: float = 0.05, sequential_tuning: float | None = None
) -> tuple[float, float] | None:
    """A ``1 - alpha`` interval for one arm's mean (Student t, or always-valid); ``None`` below two samples."""
    if moments.count < 2:
        return None
    variance = moments.variance / moments.count
    if sequential_tuning is not None:
        half = sequential_half_width(variance, moments.count, alpha=alpha, tuning=sequential_tuning)
    else:
        half = t_quantile(1.0 - alpha / 2.0, moments.count - 1) * math.sqrt(variance)
    return moments.mean - half, moments.mean + half


def _exact(method: Method, diff: float) -> Comparison:
    """Both arms without spread: the difference is known exactly."""
    return Comparison(
        method=method, difference=diff, std_error=0.0, ci_lower=diff, ci_upper=diff, p_value=1.0 if diff == 0 else 0.0
    )


class PairedResult(BaseModel):
    """Candidate minus baseline on the same cases: mean, seeded bootstrap interval, paired t-test."""

    model_config = ConfigDict(frozen=True)

    n: int
    mean_difference: float
    ci_lower: float
    ci_upper: float
    """Percentile bootstrap interval of the mean difference."""
    p_value: float
    """Two-sided paired t-test."""
    t: float | None
    """``None`` when every difference is the same (zero spread)."""
    df: int
    resamples: int
    seed: int


def paired_difference(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    seed: int,
    resamples: int = 2000,
    alpha: float = 0.05,
) -> PairedResult:
    """Compare two targets scored on the same cases (position i of both lists is case i)."""
    if len(candidate) != len(baseline):
        raise ValueError(f"paired scores need equal lengths, not {len(candidate)} and {len(baseline)}")
    if len(candidate) < 2:
        raise ValueError("paired scores need at least two cases")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    diffs = [c - b for c, b in zip(candidate, baseline, strict=True)]
    n = len(diffs)
    spread = Moments()
    for d in diffs:
        spread = spread.add(d)
    mean = spread.mean
    se = math.sqrt(spread.variance / n)
    if se == 0.0:
        t, p_value = None, (1.0 if mean == 0 else 0.0)
    else:
        t = mean / se
        p_value = t_two_sided_p(t, n - 1)
    lower, upper = _bootstrap_interval(diffs, seed=seed, resamples=resamples, alpha=alpha)
    return PairedResult(
        n=n,
        mean_difference=mean,
        ci_lower=lower,
        ci_upper=upper,
        p_value=p_value,
        t=t,
        df=n - 1,
        resamples=resamples,
        seed=seed,
    )


def _bootstrap_interval(values: list[float], *, seed: int, resamples: int, alpha: float) -> tuple[float, float]:
    """Percentile interval of the mean over resamples drawn with a private RNG (same seed, same interval)."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    return _percentile(means, alpha / 2.0), _percentile(means, 1.0 - alpha / 2.0)


def _percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
