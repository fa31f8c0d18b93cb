"""Building score moments for tests from summary numbers (n, mean, sd) or from raw values."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.experiments.moments import PASS, ArmStats, Moments
from gateway.settings import Variant


def summary(n: int, mean: float, sd: float) -> Moments:
    """Moments of ``n`` values with this mean and (sample) standard deviation."""
    return Moments(count=n, total=n * mean, total_sq=(n - 1) * sd * sd + n * mean * mean)


def of_values(values: Iterable[float]) -> Moments:
    """Moments of these values, added one by one."""
    moments = Moments()
    for value in values:
        moments = moments.add(value)
    return moments


def passes(n: int, passed: int) -> Moments:
    """Moments of ``n`` pass outcomes, ``passed`` of them 1."""
    return Moments(count=n, total=float(passed), total_sq=float(passed))


def arm(
    agent: str, variant: Variant, n: int, mean: float, *, sd: float = 1.0, pass_rate: float | None = None
) -> ArmStats:
    """An arm with an overall score and a pass rate (by default the share of a normal above 8.0, roughly)."""
    rate = pass_rate if pass_rate is not None else min(1.0, max(0.0, 0.5 + (mean - 8.0) / (2 * sd)))
    return ArmStats(
        agent=agent,
        variant=variant,
        dimensions={"overall": summary(n, mean, sd), PASS: passes(n, round(n * rate))},
    )
