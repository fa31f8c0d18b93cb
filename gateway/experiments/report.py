"""One agent's A/B comparison: every dimension compared, as the verdict, the metrics and the API read it.

``analyse`` turns the two arms' moments (``ResultStore.stats``) into an ``AgentAnalysis``: per
dimension the arm summaries, the comparison the verdict decides on (always-valid by default, see
``gateway.experiments.analysis``) and the fixed-horizon one for reference, plus an interval for
the candidate's overall mean against the pass threshold. ``phrase`` renders a difference the way
people read it: ``+0.60 (95 % CI +0.20…+1.00)``.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from gateway.experiments.analysis import Comparison, compare, mean_interval, two_proportion_test, welch_test
from gateway.experiments.moments import PASS, ArmStats, Moments
from gateway.settings import ExperimentsConfig, Variant

OVERALL = "overall"
"""The dimension of the composite score; the one the verdict and the threshold are about."""


class ArmSummary(BaseModel):
    """One arm on one dimension."""

    model_config = ConfigDict(frozen=True)

    n: int
    mean: float | None
    sd: float | None

    @classmethod
    def of(cls, moments: Moments) -> ArmSummary:
        return cls(
            n=moments.count,
            mean=moments.mean if moments.count else None,
            sd=math.sqrt(moments.variance) if moments.count >= 2 else None,
        )


class DimensionResult(BaseModel):
    """Candidate against baseline on one dimension (``overall``, ``pass`` for the pass rate, or a scorer's)."""

    model_config = ConfigDict(frozen=True)

    dimension: str
    candidate: ArmSummary
    baseline: ArmSummary
    comparison: Comparison | None
    """What the verdict decides on; ``None`` until both arms have two samples."""
    fixed_horizon: Comparison | None
    """Welch (scores) or two-proportion (pass rate), for reference; valid only when looked at once."""


class AgentAnalysis(BaseModel):
    """An agent's experiment as numbers, before any policy."""

    model_config = ConfigDict(frozen=True)

    agent: str
    samples: dict[Variant, int]
    """Scored samples per arm (of the overall score)."""
    dimensions: dict[str, DimensionResult]
    """``overall`` first, then ``pass``, then the scorers' dimensions by name."""
    candidate_overall: tuple[float, float] | None
    """Interval for the candidate's overall mean, tested against the threshold."""
    confidence: float
    """``1 - alpha``."""

    def dimension(self, name: str) -> DimensionResult | None:
        return self.dimensions.get(name)

    @property
    def candidate_mean(self) -> float | None:
        overall = self.dimensions.get(OVERALL)
        return overall.candidate.mean if overall is not None else None


def analyse(agent: str, arms: dict[str, ArmStats], config: ExperimentsConfig) -> AgentAnalysis:
    """Compare the candidate with the baseline on every dimension either arm has scores for."""
    candidate = arms.get("candidate") or ArmStats(agent=agent, variant="candidate")
    baseline = arms.get("baseline") or ArmStats(agent=agent, variant="baseline")
    tuning = config.sequential_tuning if config.sequential else None
    names = set(candidate.dimensions) | set(baseline.dimensions) | {OVERALL}
    ordered = sorted(names, key=lambda d: (d != OVERALL, d != PASS, d))
    dimensions = {}
    for name in ordered:
        c, b = candidate.of(name), baseline.of(name)
        proportion = name == PASS
        fixed = two_proportion_test(c, b, alpha=config.alpha) if proportion else welch_test(c, b, alpha=config.alpha)
        dimensions[name] = DimensionResult(
            dimension=name,
            candidate=ArmSummary.of(c),
            baseline=ArmSummary.of(b),
            comparison=compare(c, b, proportion=proportion, alpha=config.alpha, sequential_tuning=tuning),
            fixed_horizon=fixed,
        )
    samples: dict[Variant, int] = {"candidate": candidate.of(OVERALL).count, "baseline": baseline.of(OVERALL).count}
    return AgentAnalysis(
        agent=agent,
        samples=samples,
        dimensions=dimensions,
        candidate_overall=mean_interval(candidate.of(OVERALL), alpha=config.alpha, sequential_tuning=tuning),
        confidence=1.0 - config.alpha,
    )


def phrase(difference: float, lower: float, upper: float, *, confidence: float = 0.95, proportion: bool = False) -> str:
    """``+0.60 (95 % CI +0.20…+1.00)``; a pass rate in percentage points (``+5.0 pts (…)``)."""
    level = f"{confidence * 100:g} %"
    if proportion:
        return f"{difference * 100:+.1f} pts ({level} CI {lower * 100:+.1f}…{upper * 100:+.1f})"
    return f"{difference:+.2f} ({level} CI {lower:+.2f}…{upper:+.2f})"


def phrase_comparison(comparison: Comparison, *, confidence: float, proportion: bool) -> str:
    """``phrase`` of a comparison."""
    return phrase(
        comparison.difference,
        comparison.ci_lower,
        comparison.ci_upper,
        confidence=confidence,
        proportion=proportion,
    )
