"""A/B analysis metrics: per agent and dimension the difference, its interval and p-value; samples; the verdict.

Exported by the analysis service (``gateway.experiments.service``) after each pass. ``dimension``
is ``overall``, ``pass`` (pass rate, as a fraction) or a scorer's dimension; ``verdict`` is one of
promote/continue/rollback/inconclusive, with 1 on the current one and 0 on the others so a panel
or an alert can select it. The interval and p-value are the ones the verdict decides on
(always-valid by default). Every replica computes the same numbers from the shared results, so
dashboards should aggregate with ``max by (agent, dimension)`` rather than ``sum``; in multiprocess
mode each gauge keeps the most recent value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.experiments.analysis import Comparison
from gateway.experiments.report import AgentAnalysis
from gateway.experiments.verdict import DECISIONS, Verdict

_DIMENSION = ("agent", "dimension")


class ExperimentMetrics:
    """The A/B analysis's metrics."""

    def __init__(self, registry: CollectorRegistry):
        def gauge(name: str, doc: str, labels: Iterable[str]) -> Gauge:
            return Gauge(name, doc, tuple(labels), registry=registry, multiprocess_mode="mostrecent")

        self.difference = gauge(
            "genesis_ab_difference", "Candidate minus baseline mean score (pass: pass-rate fraction).", _DIMENSION
        )
        self.ci_lower = gauge("genesis_ab_ci_lower", "Lower end of the difference's interval.", _DIMENSION)
        self.ci_upper = gauge("genesis_ab_ci_upper", "Upper end of the difference's interval.", _DIMENSION)
        self.p_value = gauge("genesis_ab_p_value", "p-value of the difference (always-valid by default).", _DIMENSION)
        self.samples = gauge("genesis_ab_samples", "Scored samples per agent and variant.", ("agent", "variant"))
        self.verdict = gauge(
            "genesis_ab_verdict", "1 on the agent's current verdict, 0 on the others.", ("agent", "verdict")
        )
        self.rollbacks = Counter(
            "genesis_ab_rollbacks",
            "Candidate share set to 0 through the A/B analysis (automatic or by an admin).",
            ("agent",),
            registry=registry,
        )

    def export(self, analysis: AgentAnalysis, verdict: Verdict) -> None:
        """Publish one agent's analysis and verdict; dimensions without a comparison lose their series."""
        agent = analysis.agent
        self.rollbacks.labels(agent)  # the series exists at 0 before any rollback, so increase() works from the start
        for variant, count in analysis.samples.items():
            self.samples.labels(agent, variant).set(count)
        for name, result in analysis.dimensions.items():
            self._export_comparison(agent, name, result.comparison)
        for decision in DECISIONS:
            self.verdict.labels(agent, decision).set(1.0 if decision == verdict.decision else 0.0)

    def rolled_back(self, agent: str) -> None:
        self.rollbacks.labels(agent).inc()

    def _export_comparison(self, agent: str, dimension: str, comparison: Comparison | None) -> None:
        gauges = (self.difference, self.ci_lower, self.ci_upper, self.p_value)
        if comparison is None:
            # A stale number would outlive the data that made it (say, after the results were reset).
            for g in gauges:
                with contextlib.suppress(KeyError):  # older prometheus_client raises on an absent series
                    g.remove(agent, dimension)
            return
        values = (comparison.difference, comparison.ci_lower, comparison.ci_upper, comparison.p_value)
        for g, value in zip(gauges, values, strict=True):
            g.labels(agent, dimension).set(value)
